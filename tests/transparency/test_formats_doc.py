"""The worked examples in docs/transparency-formats.md verify, so the page cannot drift from the code."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from govlink.transparency.checkpoint import Checkpoint, SigningKey, add_signature, open_note, sign_note
from govlink.transparency.merkle import MerkleTree, leaf_hash, verify_consistency, verify_inclusion

DOC = (Path(__file__).parents[2] / "docs" / "transparency-formats.md").read_text(encoding="utf-8")


def _b64(value: str) -> bytes:
    return base64.b64decode(value)


def test_doc_examples_are_the_toy_log_they_describe() -> None:
    log_key = SigningKey("govlink.example.gov.cn/log", Ed25519PrivateKey.from_private_bytes(bytes(32)))
    witness = SigningKey("witness.example.org", Ed25519PrivateKey.from_private_bytes(bytes([1]) * 32))
    tree = MerkleTree(leaf_hash(bytes([i]) * 40) for i in range(5))
    note = add_signature(sign_note(Checkpoint(log_key.name, 5, tree.root()).body(), log_key), witness)

    checkpoint, inclusion, consistency = (
        json.loads(block) for block in re.findall(r"```json\n(.*?)```", DOC, re.S)
    )
    assert checkpoint["checkpoint"] == note
    assert f"A note reads:\n\n```\n{note}```" in DOC
    for key in (log_key, witness):
        assert f"`{key.public_key_vkey()}`" in DOC

    opened, names = open_note(
        checkpoint["checkpoint"], [log_key.public_key_vkey(), witness.public_key_vkey()]
    )
    assert names == [log_key.name, witness.name]
    assert (opened.size, opened.root_hash) == (checkpoint["size"], _b64(checkpoint["root_hash"]))

    assert "index=2&size=5" in DOC
    verify_inclusion(
        2,
        inclusion["size"],
        _b64(inclusion["leaf_hash"]),
        [_b64(h) for h in inclusion["proof"]],
        opened.root_hash,
    )
    assert "first=3&second=5" in DOC and consistency["first"] == 3
    verify_consistency(
        3, 5, [_b64(h) for h in consistency["proof"]], _b64(consistency["first_root_hash"]), opened.root_hash
    )
