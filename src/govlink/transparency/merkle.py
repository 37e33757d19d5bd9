"""RFC 9162 (Certificate Transparency 2.0) Merkle tree hashing, proofs and proof verification.

Leaves are hashed as SHA-256(0x00 || data) and interior nodes as SHA-256(0x01 || left || right), so a leaf
can never be passed off as a node. Sizes and indices count leaves; every hash is 32 bytes.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256


class ProofError(ValueError):
    """A proof does not verify, or its arguments cannot describe a valid proof."""


def leaf_hash(data: bytes) -> bytes:
    """The hash of one leaf's data (RFC 9162 2.1.1)."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node from its two children (RFC 9162 2.1.1)."""
    return _sha256(b"\x01" + left + right).digest()


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]): the root of the tree whose leaves have these hashes, in one pass per level."""
    if not hashes:
        return EMPTY_ROOT
    level = hashes
    while len(level) > 1:
        # A lone last node moves up unchanged; this yields the RFC's left-balanced split.
        level = _hash_pairs(level) + ([level[-1]] if len(level) % 2 else [])
    return level[0]


def inclusion_proof(index: int, hashes: Sequence[bytes]) -> list[bytes]:
    """PATH(index, D[n]) (RFC 9162 2.1.3.1) for the tree of these leaf hashes."""
    _check_index(index, len(hashes))
    return _path(index, len(hashes), lambda lo, hi: root_from_leaf_hashes(hashes[lo:hi]))


def consistency_proof(first: int, second: int, hashes: Sequence[bytes]) -> list[bytes]:
    """PROOF(first, D[second]) (RFC 9162 2.1.4.1) from the first `second` of these leaf hashes."""
    _check_sizes(first, second, len(hashes))
    return _subproof(first, second, lambda lo, hi: root_from_leaf_hashes(hashes[lo:hi]))


class MerkleTree:
    """A tree that keeps every perfect subtree hash, so roots and proofs for any size cost O(log² n).

    `levels[h][i]` is the hash of the 2**h leaves starting at leaf i * 2**h.
    """

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        self.extend(leaf_hashes)

    def __len__(self) -> int:
        return len(self._levels[0])

    @property
    def size(self) -> int:
        return len(self._levels[0])

    def leaf_hash(self, index: int) -> bytes:
        _check_index(index, self.size)
        return self._levels[0][index]

    def append(self, leaf_hash: bytes) -> None:
        self.extend((leaf_hash,))

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        new = list(leaf_hashes)
        for position, value in enumerate(new):
            if len(value) != HASH_SIZE:
                raise ValueError(f"leaf hash #{self.size + position} has {len(value)} bytes, expected 32")
        self._levels[0].extend(new)
        height = 0
        while True:
            level = self._levels[height]
            if height + 1 == len(self._levels):
                if len(level) < 2:
                    return
                self._levels.append([])
            parents = self._levels[height + 1]
            start, end = 2 * len(parents), len(level) & ~1
            if start >= end:
                return  # no new pair here, so nothing changes above either
            parents.extend(_hash_pairs(level[start:end]))
            height += 1

    def root(self, size: int | None = None) -> bytes:
        """The root of the tree made of the first `size` leaves (all leaves by default)."""
        size = self.size if size is None else size
        _check_sizes(size, size, self.size, allow_empty=True)
        return self._range_hash(0, size) if size else EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        size = self.size if size is None else size
        _check_sizes(size, size, self.size)
        _check_index(index, size)
        return _path(index, size, self._range_hash)

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        second = self.size if second is None else second
        _check_sizes(first, second, self.size)
        return _subproof(first, second, self._range_hash)

    def _range_hash(self, lo: int, hi: int) -> bytes:
        # Proofs only ask for ranges whose start is aligned to the largest power of two in their length, so
        # the range is a run of cached perfect subtrees, largest first, folded from the right.
        parts: list[bytes] = []
        for height in range((hi - lo).bit_length() - 1, -1, -1):
            if (hi - lo) >> height & 1:
                parts.append(self._levels[height][lo >> height])
                lo += 1 << height
        result = parts.pop()
        while parts:
            result = node_hash(parts.pop(), result)
        return result


def verify_inclusion(
    leaf_index: int, tree_size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that `leaf_hash` is leaf `leaf_index` of the tree of `tree_size` and `root` (RFC 9162 2.1.3.2).

    Raises ProofError saying what failed; returns None when the proof holds.
    """
    if not 0 <= leaf_index < tree_size:
        raise ProofError(f"leaf index {leaf_index} is outside a tree of size {tree_size}")
    _check_lengths(leaf_hash=leaf_hash, root=root, proof=proof)
    fn, sn, r = leaf_index, tree_size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise ProofError(f"inclusion proof has too many hashes ({len(proof)}) for index {leaf_index}")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(f"inclusion proof has too few hashes ({len(proof)}) for index {leaf_index}")
    if not hmac.compare_digest(r, root):
        raise ProofError(f"inclusion proof for leaf {leaf_index} gives another root for size {tree_size}")


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> None:
    """Check that tree (`size2`, `root2`) extends tree (`size1`, `root1`) (RFC 9162 2.1.4.2).

    Raises ProofError saying what failed; returns None when the proof holds.
    """
    if not 0 < size1 <= size2:
        raise ProofError(f"need 0 < size1 <= size2 for a consistency proof, got {size1} and {size2}")
    if size1 == size2:
        if proof:
            raise ProofError(f"trees of equal size {size1} need an empty proof, got {len(proof)} hashes")
        if not hmac.compare_digest(root1, root2):
            raise ProofError(f"two trees of size {size1} have different roots")
        return
    if not proof:
        raise ProofError(f"consistency proof from size {size1} to {size2} is empty")
    _check_lengths(root1=root1, root2=root2, proof=proof)
    path = [root1, *proof] if size1 & (size1 - 1) == 0 else list(proof)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError(f"consistency proof from size {size1} to {size2} has too many hashes")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(f"consistency proof from size {size1} to {size2} has too few hashes")
    if not hmac.compare_digest(fr, root1):
        raise ProofError(f"consistency proof does not lead to the given root of size {size1}")
    if not hmac.compare_digest(sr, root2):
        raise ProofError(f"consistency proof does not lead to the given root of size {size2}")


def _path(index: int, size: int, subtree: Callable[[int, int], bytes]) -> list[bytes]:
    # PATH's recursion unrolled from the top: each step records the sibling subtree and descends.
    proof: list[bytes] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            proof.append(subtree(lo + k, hi))
            hi = lo + k
        else:
            proof.append(subtree(lo, lo + k))
            lo += k
    proof.reverse()
    return proof


def _subproof(first: int, second: int, subtree: Callable[[int, int], bytes]) -> list[bytes]:
    # SUBPROOF(m, D[lo:hi], b) unrolled from the top, as in _path; `whole` is the RFC's flag b.
    proof: list[bytes] = []
    lo, hi, m, whole = 0, second, first, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            proof.append(subtree(lo + k, hi))
            hi = lo + k
        else:
            proof.append(subtree(lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    if not whole:
        proof.append(subtree(lo, hi))
    proof.reverse()
    return proof


def _hash_pairs(level: Sequence[bytes]) -> list[bytes]:
    """Parent hashes of (level[0], level[1]), (level[2], level[3]), …; a lone last node is left out."""
    pairs = iter(level)
    return [_sha256(b"\x01" + left + right).digest() for left, right in zip(pairs, pairs, strict=False)]


def _split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_index(index: int, size: int) -> None:
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")


def _check_sizes(first: int, second: int, available: int, *, allow_empty: bool = False) -> None:
    if not (0 if allow_empty else 1) <= first <= second <= available:
        lowest = 0 if allow_empty else 1
        raise ValueError(f"need {lowest} <= {first} <= {second} <= tree size {available}")


def _check_lengths(proof: Sequence[bytes], **hashes: bytes) -> None:
    for name, value in hashes.items():
        if len(value) != HASH_SIZE:
            raise ProofError(f"{name} has {len(value)} bytes, expected {HASH_SIZE}")
    for position, value in enumerate(proof):
        if len(value) != HASH_SIZE:
            raise ProofError(f"proof hash #{position} has {len(value)} bytes, expected {HASH_SIZE}")
