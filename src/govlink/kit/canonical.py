"""Canonical JSON: one byte string per value, so hashes of JSON documents are reproducible.

Keys sorted, no white space (``,`` and ``:`` as separators), UTF-8 without escaping non-ASCII, as
documented for third-party verifiers in ``docs/transparency-formats.md``.
"""

from __future__ import annotations

import json
from typing import Any


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
