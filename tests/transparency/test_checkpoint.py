"""Signed checkpoints: C2SP tlog-checkpoint bodies in signed notes, signed and cosigned with Ed25519."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from govlink.transparency.checkpoint import (
    Checkpoint,
    NoteError,
    SigningKey,
    Verifier,
    add_signature,
    key_id,
    open_note,
    sign_note,
    verify_note,
)

ORIGIN = "govlink.example.gov.cn/log"
# Known answers published with golang.org/x/mod/sumdb/note (its package example) and with the C2SP
# signed-note specification: a key, its private seed, a text and the note that signs it.
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SEED = base64.b64decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")[1:]
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT
    + "\n\u2014 PeterNeumann "
    + "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n\u2014 example.com/foo "
    + "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)
ROOT = hashlib.sha256(b"root").digest()


@pytest.fixture(scope="module")
def log_key() -> SigningKey:
    return SigningKey.generate(ORIGIN)


@pytest.fixture(scope="module")
def witness_key() -> SigningKey:
    return SigningKey.generate("witness.audit.example.gov.cn")


def test_body_is_three_lines_then_extensions() -> None:
    checkpoint = Checkpoint(ORIGIN, 42, ROOT, ("note: demo",))
    root_b64 = base64.b64encode(ROOT).decode()
    assert checkpoint.body() == f"{ORIGIN}\n42\n{root_b64}\nnote: demo\n"
    assert Checkpoint.parse(checkpoint.body()) == checkpoint


@given(
    origin=st.text(st.characters(min_codepoint=0x20, exclude_characters="\x7f"), min_size=1),
    size=st.integers(min_value=0, max_value=2**64 - 1),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1)),
)
def test_checkpoint_round_trips(origin: str, size: int, root: bytes, extensions: list[str]) -> None:
    checkpoint = Checkpoint(origin, size, root, tuple(extensions))
    assert Checkpoint.parse(checkpoint.body()) == checkpoint


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"{ORIGIN}\n42\n", "origin, size and root hash"),
        (f"{ORIGIN}\n042\n{base64.b64encode(ROOT).decode()}\n", "leading zeros"),
        (f"{ORIGIN}\n-1\n{base64.b64encode(ROOT).decode()}\n", "decimal"),
        (f"{ORIGIN}\n42\n{base64.b64encode(ROOT[:16]).decode()}\n", "32 bytes"),
        (f"{ORIGIN}\n42\nnot base64!\n", "not valid base64"),
        (f"{ORIGIN}\n42\n{base64.b64encode(ROOT).decode()}", "end with a newline"),
        (f"{ORIGIN}\n42\n{base64.b64encode(ROOT).decode()}\n\n", "extension"),
        (f"\n42\n{base64.b64encode(ROOT).decode()}\n", "origin"),
    ],
)
def test_malformed_checkpoints_are_refused(text: str, message: str) -> None:
    with pytest.raises(NoteError, match=message):
        Checkpoint.parse(text)


def test_signed_note_verifies_and_has_the_c2sp_shape(log_key: SigningKey) -> None:
    checkpoint = Checkpoint(ORIGIN, 7, ROOT)
    note = sign_note(checkpoint.body(), log_key)
    body, signatures = note.split("\n\n")
    assert body + "\n" == checkpoint.body()
    assert signatures.startswith(f"\u2014 {ORIGIN} ") and signatures.endswith("\n")
    blob = base64.b64decode(signatures.split(" ")[2])
    assert len(blob) == 4 + 64 and blob[:4] == log_key.verifier().key_id
    assert open_note(note, [log_key.public_key_vkey()]) == (checkpoint, [ORIGIN])
    assert open_note(note, [log_key.verifier()]) == (checkpoint, [ORIGIN])


def test_notes_match_the_published_known_answers() -> None:
    go_key = SigningKey("PeterNeumann", Ed25519PrivateKey.from_private_bytes(GO_SEED))
    assert go_key.public_key_vkey() == GO_VKEY
    assert sign_note(GO_TEXT, go_key) == GO_NOTE  # Ed25519 is deterministic, so byte for byte
    assert verify_note(GO_NOTE, [GO_VKEY]) == (GO_TEXT, ["PeterNeumann"])
    assert verify_note(SPEC_NOTE, [SPEC_VKEY]) == ("This is an example message.\n", ["example.com/foo"])
    with pytest.raises(NoteError, match="origin, size and root hash"):
        open_note(GO_NOTE, [GO_VKEY])  # a valid note, but not a checkpoint


def test_key_id_and_vkey_follow_signed_note(log_key: SigningKey) -> None:
    verifier = log_key.verifier()
    expected_id = hashlib.sha256(ORIGIN.encode() + b"\n\x01" + verifier.public_key).digest()[:4]
    assert key_id(ORIGIN, verifier.public_key) == expected_id
    name, hex_id, encoded = log_key.public_key_vkey().split("+", 2)
    assert (name, hex_id) == (ORIGIN, expected_id.hex())
    assert base64.b64decode(encoded) == b"\x01" + verifier.public_key
    assert Verifier.parse(log_key.public_key_vkey()) == verifier


def test_vkeys_round_trip_even_when_the_base64_key_contains_plus() -> None:
    keys = [SigningKey("k", Ed25519PrivateKey.from_private_bytes(i.to_bytes(32, "big"))) for i in range(20)]
    vkeys = [key.public_key_vkey() for key in keys]
    assert any(vkey.count("+") > 2 for vkey in vkeys)
    assert [Verifier.parse(vkey) for vkey in vkeys] == [key.verifier() for key in keys]


def test_vkey_with_the_wrong_key_id_is_refused(log_key: SigningKey) -> None:
    name, _, encoded = log_key.public_key_vkey().split("+", 2)
    with pytest.raises(NoteError, match="key ID"):
        Verifier.parse(f"{name}+00000000+{encoded}")


def test_tampered_body_fails(log_key: SigningKey) -> None:
    note = sign_note(Checkpoint(ORIGIN, 7, ROOT).body(), log_key)
    tampered = note.replace(f"{ORIGIN}\n7\n", f"{ORIGIN}\n8\n")
    with pytest.raises(NoteError, match="does not match the note"):
        open_note(tampered, [log_key.public_key_vkey()])


def test_tampered_signature_fails(log_key: SigningKey) -> None:
    note = sign_note(Checkpoint(ORIGIN, 7, ROOT).body(), log_key)
    body, line = note.split("\n\n")
    blob = bytearray(base64.b64decode(line.split(" ")[2]))
    blob[10] ^= 1
    forged = f"{body}\n\n\u2014 {ORIGIN} {base64.b64encode(bytes(blob)).decode()}\n"
    with pytest.raises(NoteError, match="does not match the note"):
        open_note(forged, [log_key.public_key_vkey()])


def test_unknown_key_fails(log_key: SigningKey) -> None:
    note = sign_note(Checkpoint(ORIGIN, 7, ROOT).body(), log_key)
    impostor = SigningKey.generate(ORIGIN)  # same name, different key, so a different key ID
    with pytest.raises(NoteError, match=f"no trusted key signed this note; it is signed by: {ORIGIN}"):
        open_note(note, [impostor.public_key_vkey()])
    with pytest.raises(NoteError, match="no trusted key"):
        open_note(note, [])


def test_cosignature_by_a_witness_verifies_both(log_key: SigningKey, witness_key: SigningKey) -> None:
    checkpoint = Checkpoint(ORIGIN, 1000, ROOT)
    note = sign_note(checkpoint.body(), log_key)
    cosigned = add_signature(note, witness_key)
    assert cosigned.startswith(note) and cosigned.count("\n\u2014 ") == 2
    assert add_signature(cosigned, witness_key) == cosigned
    both = [log_key.public_key_vkey(), witness_key.public_key_vkey()]
    assert open_note(cosigned, both) == (checkpoint, [ORIGIN, witness_key.name])
    assert open_note(cosigned, [witness_key.public_key_vkey()]) == (checkpoint, [witness_key.name])
    assert open_note(note, both) == (checkpoint, [ORIGIN])


@pytest.mark.parametrize(
    ("note", "message"),
    [
        (f"{ORIGIN}\n1\nAAAA\n", "blank line"),
        (f"{ORIGIN}\n1\nAAAA\n\n", "no signature lines"),
        (f"{ORIGIN}\n1\nAAAA\n\n- {ORIGIN} AAAAAAAA\n", "signature line must be"),
        (f"{ORIGIN}\n1\nAAAA\n\n\u2014 {ORIGIN} AAAA AAAA\n", "signature line must be"),
        (f"{ORIGIN}\n1\nAAAA\n\n\u2014 {ORIGIN} AAAA\n", "too short"),
        (f"{ORIGIN}\n1\nAAAA\n\n\u2014 {ORIGIN} AAAAAAAA", "ending in"),
        (f"{ORIGIN}\n1\r\nAAAA\n\n\u2014 {ORIGIN} AAAAAAAA\n", "control characters"),
        (f"{ORIGIN}\n1\nAAAA\n\n\u2014 bad+name AAAAAAAA\n", "key name"),
    ],
)
def test_malformed_notes_are_refused(log_key: SigningKey, note: str, message: str) -> None:
    with pytest.raises(NoteError, match=message):
        open_note(note, [log_key.public_key_vkey()])


def test_signing_key_pem_round_trip(log_key: SigningKey) -> None:
    for password in (None, b"correct horse"):
        pem = log_key.to_pem(password)
        assert pem.startswith(b"-----BEGIN ")
        loaded = SigningKey.from_pem(ORIGIN, pem, password)
        assert loaded.public_key_vkey() == log_key.public_key_vkey()
    note = sign_note(Checkpoint(ORIGIN, 3, ROOT).body(), SigningKey.from_pem(ORIGIN, log_key.to_pem()))
    assert open_note(note, [log_key.public_key_vkey()])[1] == [ORIGIN]


def test_key_names_are_checked() -> None:
    for name in ("", "has space", "has+plus", "tab\tname"):
        with pytest.raises(NoteError, match="key name"):
            SigningKey.generate(name)
