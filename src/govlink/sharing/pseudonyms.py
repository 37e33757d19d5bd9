"""Join keys for matching: keyed HMAC pseudonyms of ID numbers and credit codes, one key per consuming department.

Construction (version 1)::

    department_key = HMAC-SHA256(platform_secret, "govlink/pseudonym/v1/" || department_code)
    pseudonym      = "p1" || hex(HMAC-SHA256(department_key, entity_type || ":" || standard_key))[:32]

``platform_secret`` is 32 random bytes made on first use at ``Settings.pseudonym_key_path`` (readable by the
owner only) and never leaves the platform; ``standard_key`` is the ID number or credit code in its standard
form (:mod:`govlink.standards`), so every written form of one number gives one pseudonym.

Why this shape: a plain hash of an ID number is no protection (the 18-digit space with its check character
is enumerated in hours), so the digest is keyed with a secret only the platform holds.  Deriving one key
per department means two departments' pseudonyms of the same person differ, so they cannot join their
extracts behind the platform's back, while one department gets the same pseudonym every time and can match
its own records across deliveries.  128 bits of the digest keep collisions out of reach for any district.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from govlink.kit import keyfiles
from govlink.standards.credit_code import CreditCodeError, parse_credit_code
from govlink.standards.id_number import IdNumberError, parse_id_number

SECRET_BYTES = 32
VERSION = "p1"
_CONTEXT = b"govlink/pseudonym/v1/"


def load_or_create_secret(path: Path) -> bytes:
    """The platform's pseudonym secret stored at ``path``, made on first use and readable by the owner only."""
    secret = keyfiles.read_or_create(path, lambda: os.urandom(SECRET_BYTES))
    if len(secret) < SECRET_BYTES:
        raise ValueError(f"{path} holds {len(secret)} bytes; a pseudonym secret has at least {SECRET_BYTES}")
    return secret


def department_key(secret: bytes, department_code: str) -> bytes:
    """The key of one consuming department, derived from the platform's secret."""
    return hmac.new(secret, _CONTEXT + department_code.encode(), hashlib.sha256).digest()


def pseudonym(key: bytes, entity_type: str, standard_key: str) -> str:
    """The pseudonym of one already-standardised key under a department's key."""
    digest = hmac.new(key, f"{entity_type}:{standard_key}".encode(), hashlib.sha256).hexdigest()
    return VERSION + digest[:32]


def standard_key(entity_type: str, raw: str) -> str:
    """The standard form of an ID number (persons) or credit code (enterprises); raises ValueError."""
    try:
        if entity_type == "person":
            return parse_id_number(raw).value
        if entity_type == "enterprise":
            return parse_credit_code(raw).value
    except (IdNumberError, CreditCodeError) as exc:
        raise ValueError(f"{raw!r} is not a valid {'ID number' if entity_type == 'person' else 'credit code'}: "
                         f"{exc}") from exc
    raise ValueError(f"pseudonyms are made for persons and enterprises, not {entity_type!r}")


def pseudonymise(secret: bytes, department_code: str, entity_type: str, raw: str) -> str:
    """The join key a department gets for a person's ID number or an enterprise's credit code."""
    return pseudonym(department_key(secret, department_code), entity_type, standard_key(entity_type, raw))
