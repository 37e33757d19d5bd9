"""The public RFC 6962/9162 proof vectors (transparency-dev/merkle testdata) through GovLink's verifiers."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from govlink.transparency.merkle import (
    MerkleTree,
    ProofError,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)

VECTORS = Path(__file__).parent / "merkle_vectors"
# The leaves behind the vectors' trees: the RFC 6962 reference test data.
LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657")] + [
    bytes(range(0x60, 0x70))
]


def _vectors(kind: str) -> list[Any]:
    files = sorted((VECTORS / kind).rglob("*.json"))
    assert len(files) > 50, f"expected the {kind} vectors under {VECTORS / kind}"
    return [pytest.param(path, id=str(path.relative_to(VECTORS / kind))) for path in files]


def _load(path: Path) -> dict[str, Any]:
    vector: dict[str, Any] = json.loads(path.read_text())
    return vector


def _b64(value: str) -> bytes:
    return base64.b64decode(value)


def _proof(vector: dict[str, Any]) -> list[bytes]:
    return [_b64(item) for item in vector["proof"] or []]


@pytest.mark.parametrize("path", _vectors("inclusion"))
def test_inclusion_vector(path: Path) -> None:
    vector = _load(path)
    args = (
        vector["leafIdx"],
        vector["treeSize"],
        _b64(vector["leafHash"]),
        _proof(vector),
        _b64(vector["root"]),
    )
    if vector["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("path", _vectors("consistency"))
def test_consistency_vector(path: Path) -> None:
    vector = _load(path)
    args = (vector["size1"], vector["size2"], _proof(vector), _b64(vector["root1"]), _b64(vector["root2"]))
    if vector["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


def _happy_paths(kind: str) -> list[dict[str, Any]]:
    return [_load(path) for path in sorted((VECTORS / kind).glob("*/happy-path.json"))]


def test_generated_inclusion_proofs_equal_the_vectors() -> None:
    tree = MerkleTree(leaf_hash(leaf) for leaf in LEAVES)
    for vector in _happy_paths("inclusion"):
        size, index = vector["treeSize"], vector["leafIdx"]
        assert tree.root(size) == _b64(vector["root"])
        assert tree.leaf_hash(index) == _b64(vector["leafHash"])
        assert tree.inclusion_proof(index, size) == _proof(vector)


def test_generated_consistency_proofs_equal_the_vectors() -> None:
    tree = MerkleTree(leaf_hash(leaf) for leaf in LEAVES)
    for vector in _happy_paths("consistency"):
        size1, size2 = vector["size1"], vector["size2"]
        assert tree.root(size1) == _b64(vector["root1"])
        assert tree.root(size2) == _b64(vector["root2"])
        assert tree.consistency_proof(size1, size2) == _proof(vector)
