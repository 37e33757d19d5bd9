"""Signed tree heads: C2SP tlog-checkpoint bodies inside C2SP signed notes, signed with Ed25519.

A signed checkpoint reads::

    govlink.example.gov.cn/log
    1234
    <base64 root hash>

    — govlink.example.gov.cn/log <base64(4-byte key ID || 64-byte Ed25519 signature)>

See https://c2sp.org/tlog-checkpoint and https://c2sp.org/signed-note; docs/transparency-formats.md
explains the format for third-party verifiers.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = 0x01  # signature type byte of signed-note Ed25519 keys
MAX_SIGNATURES = 100  # bounds the work a hostile note can demand of a verifier
_SIGNATURE_PREFIX = "— "  # em dash U+2014, then a space
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


class NoteError(ValueError):
    """A note or checkpoint is malformed, or no trusted key signed it."""


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: the log's origin line, its size in leaves, its root hash and any extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise NoteError(f"checkpoint origin must be one non-empty line, got {self.origin!r}")
        if not 0 <= self.size < 2**64:
            raise NoteError(f"checkpoint size must be between 0 and 2**64 - 1, got {self.size}")
        if len(self.root_hash) != 32:
            raise NoteError(f"checkpoint root hash must be 32 bytes, got {len(self.root_hash)}")
        for line in self.extensions:
            if not line or "\n" in line:
                raise NoteError(f"checkpoint extension must be one non-empty line, got {line!r}")

    def body(self) -> str:
        """The note text to sign: origin, size and root lines, then extension lines, each ending in \\n."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode(), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Read a checkpoint body (the note text without its signatures)."""
        if not text.endswith("\n"):
            raise NoteError("checkpoint text must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise NoteError(f"checkpoint needs origin, size and root hash lines, got {len(lines)} line(s)")
        origin, size, root, *extensions = lines
        if not _DECIMAL.fullmatch(size):
            raise NoteError(f"checkpoint size must be a decimal number without leading zeros, got {size!r}")
        return cls(origin, int(size), _decode_base64(root, "checkpoint root hash"), tuple(extensions))


def key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte signed-note key ID of an Ed25519 key: SHA-256(name || 0x0A || 0x01 || key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public_key).digest()[:4]


@dataclass(frozen=True)
class Verifier:
    """A public key that may sign notes, known by its name and key ID."""

    name: str
    public_key: bytes  # the raw 32-byte Ed25519 public key

    def __post_init__(self) -> None:
        _check_key_name(self.name)
        if len(self.public_key) != 32:
            raise NoteError(f"Ed25519 public key must be 32 bytes, got {len(self.public_key)}")

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public_key)

    def vkey(self) -> str:
        """The verifier key string `<name>+<hex key ID>+<base64(0x01 || public key)>`."""
        encoded = base64.b64encode(bytes([ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    @classmethod
    def parse(cls, vkey: str) -> Verifier:
        """Read a verifier key string as written by `vkey()` (or Go's golang.org/x/mod/sumdb/note)."""
        parts = vkey.split("+", 2)  # the base64 key may itself contain "+"
        if len(parts) != 3:
            raise NoteError(f"verifier key must be <name>+<key ID>+<key>, got {vkey!r}")
        name, hex_id, encoded = parts
        key = _decode_base64(encoded, f"verifier key {name!r}")
        if len(key) != 33 or key[0] != ED25519:
            raise NoteError(f"verifier key {name!r} is not a 0x01-prefixed 32-byte Ed25519 key")
        verifier = cls(name, key[1:])
        if len(hex_id) != 8 or hex_id.lower() != verifier.key_id.hex():
            raise NoteError(
                f"verifier key {name!r} has key ID {hex_id!r}, its key gives {verifier.key_id.hex()}"
            )
        return verifier

    def verifies(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


class SigningKey:
    """An Ed25519 private key with the name its signatures carry (for a log, its origin)."""

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        _check_key_name(name)
        self.name = name
        self._private_key = private_key

    @classmethod
    def generate(cls, name: str) -> SigningKey:
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, name: str, pem: bytes, password: bytes | None = None) -> SigningKey:
        """Load a PKCS#8 PEM private key, as written by `to_pem()`."""
        private_key = serialization.load_pem_private_key(pem, password)
        if not isinstance(private_key, Ed25519PrivateKey):
            raise ValueError(f"signing key {name!r}: PEM holds a {type(private_key).__name__}, not Ed25519")
        return cls(name, private_key)

    def to_pem(self, password: bytes | None = None) -> bytes:
        """The private key as PKCS#8 PEM, encrypted when a password is given. The name is not stored."""
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
        )
        return self._private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )

    def verifier(self) -> Verifier:
        raw = self._private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return Verifier(self.name, raw)

    def public_key_vkey(self) -> str:
        """The verifier key string that auditors and witnesses configure to trust this key."""
        return self.verifier().vkey()

    def signature_line(self, text: str) -> str:
        """One signed-note signature line over `text`, ending in a newline."""
        signature = self._private_key.sign(text.encode())
        encoded = base64.b64encode(self.verifier().key_id + signature).decode()
        return f"{_SIGNATURE_PREFIX}{self.name} {encoded}\n"


def sign_note(body: str, key: SigningKey) -> str:
    """The signed note of `body` (for instance `Checkpoint.body()`) with one signature by `key`."""
    _check_text(body)
    return body + "\n" + key.signature_line(body)


def add_signature(note_text: str, key: SigningKey) -> str:
    """Cosign: the note with a signature line by `key` appended (unchanged if `key` already signed it).

    Existing signatures are not checked here: a witness opens the note with the log's key first.
    """
    text, signatures = _split_note(note_text)
    own_id = key.verifier().key_id
    if any(name == key.name and blob[:4] == own_id for name, blob in signatures):
        return note_text
    return note_text + key.signature_line(text)


def open_note(note_text: str, verifiers: Iterable[Verifier | str]) -> tuple[Checkpoint, list[str]]:
    """Check a signed checkpoint against trusted keys; return it with the names of the keys that signed it.

    Verifiers are `Verifier`s or verifier key strings. Signatures by unknown keys are ignored. Raises
    NoteError when the note is malformed, when a trusted key's signature does not match the text, when no
    trusted key signed it, or when its text is not a checkpoint.
    """
    text, names = verify_note(note_text, verifiers)
    return Checkpoint.parse(text), names


def verify_note(note_text: str, verifiers: Iterable[Verifier | str]) -> tuple[str, list[str]]:
    """Check any signed note as `open_note` does; return its text and the names of the trusted signers."""
    text, signatures = _split_note(note_text)
    trusted: dict[tuple[str, bytes], Verifier] = {}
    for item in verifiers:
        verifier = Verifier.parse(item) if isinstance(item, str) else item
        trusted[verifier.name, verifier.key_id] = verifier
    verified: list[str] = []
    for name, blob in signatures:
        signer = trusted.get((name, blob[:4]))
        if signer is None:
            continue
        if not signer.verifies(text.encode(), blob[4:]):
            raise NoteError(
                f"signature by {name!r} does not match the note: the text or signature was altered"
            )
        if name not in verified:
            verified.append(name)
    if not verified:
        names = ", ".join(sorted({name for name, _ in signatures}))
        raise NoteError(f"no trusted key signed this note; it is signed by: {names}")
    return text, verified


def _split_note(note_text: str) -> tuple[str, list[tuple[str, bytes]]]:
    """The note text (ending in \n) and its signatures as (key name, key ID || signature)."""
    split = note_text.rfind("\n\n")
    if split < 0 or not note_text.endswith("\n"):
        raise NoteError("signed note must be text, a blank line, then signature lines each ending in \\n")
    text, lines = note_text[: split + 1], note_text[split + 2 : -1].split("\n")
    _check_text(text)
    if lines == [""]:
        raise NoteError("signed note has no signature lines")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"signed note has {len(lines)} signatures, more than {MAX_SIGNATURES}")
    return text, [_parse_signature_line(line) for line in lines]


def _parse_signature_line(line: str) -> tuple[str, bytes]:
    parts = line.removeprefix(_SIGNATURE_PREFIX).split(" ")
    if not line.startswith(_SIGNATURE_PREFIX) or len(parts) != 2:
        raise NoteError(f"signature line must be '— <key name> <base64 signature>', got {line!r}")
    name, encoded = parts
    _check_key_name(name)
    blob = _decode_base64(encoded, f"signature by {name!r}")
    if len(blob) < 5:
        raise NoteError(f"signature by {name!r} is too short to hold a key ID and a signature")
    return name, blob


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    if any(c != "\n" and (c < " " or c == "\x7f") for c in text):
        raise NoteError("note text must not contain control characters other than newline")


def _check_key_name(name: str) -> None:
    if not name or "+" in name or any(c.isspace() or not c.isprintable() for c in name):
        raise NoteError(f"key name must be non-empty, without spaces, '+' or control characters: {name!r}")


def _decode_base64(encoded: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise NoteError(f"{what} is not valid base64: {encoded!r}") from error
    if base64.b64encode(raw).decode() != encoded:  # one encoding per value, so notes compare as text
        raise NoteError(f"{what} is not in canonical base64: {encoded!r}")
    return raw
