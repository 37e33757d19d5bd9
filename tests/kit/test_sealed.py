"""Sealed secrets: they open with their key for their row, and with nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govlink.kit import sealed

KEY = bytes(range(32))


@given(st.text(max_size=200), st.text(min_size=1, max_size=40))
def test_a_sealed_secret_opens_with_its_key_for_its_row(secret: str, context: str) -> None:
    value = sealed.seal(KEY, secret, context)
    assert sealed.is_sealed(value) and value.isascii()
    assert sealed.unseal(KEY, value, context) == secret


def test_a_sealed_secret_does_not_open_elsewhere() -> None:
    value = sealed.seal(KEY, "the webhook's secret", "subscription/1")
    assert "secret" not in value and sealed.seal(KEY, "the webhook's secret", "subscription/1") != value  # nonce
    for key, context in ((bytes(32), "subscription/1"), (KEY, "subscription/2")):
        with pytest.raises(ValueError, match="does not open"):
            sealed.unseal(key, value, context)
    tampered = value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1]
    for broken in (tampered, "v1.not-base64!", "v1."):
        with pytest.raises(ValueError, match="does not open"):
            sealed.unseal(KEY, broken, "subscription/1")
    with pytest.raises(ValueError, match="not a sealed value"):
        sealed.unseal(KEY, "ab" * 32, "subscription/1")


def test_the_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "webhook.key"
    key = sealed.load_or_create_key(path)
    assert len(key) == 32 and sealed.load_or_create_key(path) == key
    assert path.stat().st_mode & 0o777 == 0o600
    path.write_bytes(b"short")
    with pytest.raises(ValueError, match="5 bytes"):
        sealed.load_or_create_key(path)
