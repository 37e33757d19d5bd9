"""Secrets the platform must use again later (a webhook's signing key), kept in the database sealed.

A sealed value is AES-256-GCM (NIST SP 800-38D) under a key held in a file outside the database, with a fresh
96-bit nonce each time and the row it belongs to as associated data: a copy of the database alone reveals no
secret, and a sealed value moved to another row does not open there.  Written as ``v1.`` followed by the URL-safe
base64 of nonce, ciphertext and tag.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from govlink.kit import keyfiles

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
PREFIX = "v1."


def load_or_create_key(path: Path) -> bytes:
    """The sealing key stored at ``path``, made on first use and readable by the owner only."""
    key = keyfiles.read_or_create(path, lambda: os.urandom(KEY_BYTES))
    if len(key) != KEY_BYTES:
        raise ValueError(f"{path} holds {len(key)} bytes; a sealing key has {KEY_BYTES}")
    return key


def seal(key: bytes, secret: str, context: str) -> str:
    """``secret`` sealed under ``key`` for the row named by ``context`` (e.g. ``subscription/12``)."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, secret.encode(), context.encode())
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)


def unseal(key: bytes, value: str, context: str) -> str:
    """The secret inside ``value``; ValueError when it was not sealed under ``key`` for ``context``."""
    if not is_sealed(value):
        raise ValueError("not a sealed value")
    try:
        raw = base64.urlsafe_b64decode(value[len(PREFIX):].encode("ascii"))
        if len(raw) < NONCE_BYTES + TAG_BYTES:
            raise InvalidTag
        return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode()).decode()
    except (binascii.Error, InvalidTag, UnicodeError) as exc:
        raise ValueError(f"the sealed value does not open with this key for {context}") from exc
