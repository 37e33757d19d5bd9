"""Merkle tree hashing and proofs: generated proofs verify, and every way to build a tree agrees."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govlink.transparency.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

MAX_SIZE = 40
LEAVES = [leaf_hash(i.to_bytes(4, "big")) for i in range(MAX_SIZE)]
leaf_lists = st.lists(st.binary(min_size=32, max_size=32), max_size=70)


# The RFC 9162 section 2.1 definitions written out literally, as an oracle for the fast code.
def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def rfc_mth(d: list[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return d[0]
    k = _k(len(d))
    return node_hash(rfc_mth(d[:k]), rfc_mth(d[k:]))


def rfc_path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return [*rfc_path(m, d[:k]), rfc_mth(d[k:])]
    return [*rfc_path(m - k, d[k:]), rfc_mth(d[:k])]


def rfc_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    if m == len(d):
        return [] if b else [rfc_mth(d)]
    k = _k(len(d))
    if m <= k:
        return [*rfc_subproof(m, d[:k], b), rfc_mth(d[k:])]
    return [*rfc_subproof(m - k, d[k:], False), rfc_mth(d[:k])]


def test_hashes_use_the_rfc_prefixes() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    assert root_from_leaf_hashes([]) == EMPTY_ROOT
    assert MerkleTree().root() == EMPTY_ROOT


@pytest.mark.parametrize("size", range(1, MAX_SIZE + 1))
def test_inclusion_proofs_verify_for_every_index(size: int) -> None:
    hashes = LEAVES[:size]
    tree = MerkleTree(LEAVES)
    root = root_from_leaf_hashes(hashes)
    assert root == rfc_mth(hashes) == tree.root(size)
    for index in range(size):
        proof = inclusion_proof(index, hashes)
        assert proof == rfc_path(index, hashes) == tree.inclusion_proof(index, size)
        verify_inclusion(index, size, hashes[index], proof, root)
        with pytest.raises(ProofError):
            verify_inclusion(index, size, LEAVES[(index + 1) % MAX_SIZE], proof, root)
        if proof:
            with pytest.raises(ProofError):
                verify_inclusion(index, size, hashes[index], [*proof[:-1], bytes(32)], root)


@pytest.mark.parametrize("second", range(1, MAX_SIZE + 1))
def test_consistency_proofs_verify_for_every_earlier_size(second: int) -> None:
    hashes = LEAVES[:second]
    tree = MerkleTree(LEAVES)
    root2 = root_from_leaf_hashes(hashes)
    for first in range(1, second + 1):
        root1 = root_from_leaf_hashes(hashes[:first])
        proof = consistency_proof(first, second, LEAVES)
        assert proof == tree.consistency_proof(first, second)
        assert proof == (rfc_subproof(first, hashes, True) if first < second else [])
        verify_consistency(first, second, proof, root1, root2)
        with pytest.raises(ProofError):
            verify_consistency(first, second, proof, root2 if first < second else bytes(32), root2)
        if proof:
            with pytest.raises(ProofError):
                verify_consistency(first, second, proof[1:], root1, root2)


@given(leaf_lists)
def test_all_ways_of_computing_the_root_agree(hashes: list[bytes]) -> None:
    assert root_from_leaf_hashes(hashes) == rfc_mth(hashes) == MerkleTree(hashes).root()


@given(leaf_lists, st.lists(st.integers(min_value=0, max_value=9), max_size=20))
def test_an_incrementally_grown_tree_matches_a_rebuilt_one(hashes: list[bytes], chunks: list[int]) -> None:
    tree = MerkleTree()
    position = 0
    for chunk in [*chunks, len(hashes)]:
        batch = hashes[position : position + chunk]
        if len(batch) == 1:
            tree.append(batch[0])
        else:
            tree.extend(batch)
        position += len(batch)
        assert tree.size == len(tree) == position
        assert tree.root() == root_from_leaf_hashes(hashes[:position])
    assert tree.size == len(hashes)
    # Roots of every earlier size stay available and consistent with today's tree.
    for size in range(1, tree.size + 1):
        assert tree.root(size) == root_from_leaf_hashes(hashes[:size])
        verify_consistency(size, tree.size, tree.consistency_proof(size), tree.root(size), tree.root())


@given(leaf_lists.filter(bool), st.data())
def test_tree_proofs_equal_pure_proofs(hashes: list[bytes], data: st.DataObject) -> None:
    tree = MerkleTree(hashes)
    size = data.draw(st.integers(min_value=1, max_value=len(hashes)))
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    first = data.draw(st.integers(min_value=1, max_value=size))
    assert tree.inclusion_proof(index, size) == inclusion_proof(index, hashes[:size])
    assert tree.consistency_proof(first, size) == consistency_proof(first, size, hashes)
    verify_inclusion(index, size, hashes[index], tree.inclusion_proof(index, size), tree.root(size))


def test_bad_arguments_are_refused_with_the_sizes_in_the_message() -> None:
    tree = MerkleTree(LEAVES[:5])
    with pytest.raises(ValueError, match="leaf index 5 is outside a tree of size 5"):
        tree.inclusion_proof(5)
    with pytest.raises(ValueError, match="leaf index 0 is outside a tree of size 0"):
        inclusion_proof(0, [])
    with pytest.raises(ValueError, match="tree size 5"):
        tree.consistency_proof(3, 6)
    with pytest.raises(ValueError):
        consistency_proof(0, 3, LEAVES)
    with pytest.raises(ValueError):
        tree.root(6)
    with pytest.raises(ValueError, match="leaf hash #5 has 3 bytes"):
        tree.append(b"abc")
    assert tree.size == 5


def test_verifier_messages_say_what_failed() -> None:
    hashes = LEAVES[:7]
    root = root_from_leaf_hashes(hashes)
    proof = inclusion_proof(2, hashes)
    with pytest.raises(ProofError, match="too many hashes"):
        verify_inclusion(2, 7, hashes[2], [*proof, bytes(32)], root)
    with pytest.raises(ProofError, match="too few hashes"):
        verify_inclusion(2, 7, hashes[2], proof[:-1], root)
    with pytest.raises(ProofError, match="proof hash #1 has 31 bytes"):
        verify_inclusion(2, 7, hashes[2], [proof[0], bytes(31), *proof[2:]], root)
    with pytest.raises(ProofError, match="need 0 < size1 <= size2"):
        verify_consistency(0, 7, [], EMPTY_ROOT, root)
    with pytest.raises(ProofError, match="is empty"):
        verify_consistency(3, 7, [], root_from_leaf_hashes(hashes[:3]), root)
