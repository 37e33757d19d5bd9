"""`govlink witness` against a served platform: cosigns consistent checkpoints, refuses a rewritten history."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from govlink.transparency.checkpoint import SigningKey
from tests.servers import govlink_server


def govlink(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "govlink", *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.fixture
def platform(fresh_url: str, tmp_path: Path) -> Iterator[tuple[str, dict[str, str], Path]]:
    witness_key = tmp_path / "witness.pem"
    witness_key.write_bytes(SigningKey.generate("audit.example/witness").to_pem())
    vkey = SigningKey.from_pem("audit.example/witness", witness_key.read_bytes()).public_key_vkey()
    env = {**os.environ, "GOVLINK_DATA_DIR": str(tmp_path / "data"), "GOVLINK_DATABASE_URL": fresh_url,
           "GOVLINK_WITNESS_KEYS": json.dumps([vkey])}
    assert govlink(env, "init", "--admin-password", "a-long-password").returncode == 0
    assert govlink(env, "user", "create", "auditor", "--role", "auditor").returncode == 0
    with govlink_server(env=env) as base:
        yield base, env, witness_key


def test_witness_cosigns_consistent_checkpoints_and_refuses_a_rewrite(
    platform: tuple[str, dict[str, str], Path], fresh_url: str, tmp_path: Path
) -> None:
    base, env, witness_key = platform
    issued = govlink(env, "token", "create", "--user", "auditor", "--scope", "transparency:witness")
    token = re.search(r"glk_\S+", issued.stdout)
    assert token, issued.stdout + issued.stderr
    log_key = govlink(env, "audit", "public-key").stdout.strip()
    state = tmp_path / "witness-state.txt"
    witness = ["witness", "--url", base, "--key", str(witness_key), "--state", str(state),
               "--log-key", log_key, "--name", "audit.example/witness", "--token", token.group(0)]

    first = govlink(env, *witness)
    assert first.returncode == 0, first.stderr
    assert govlink(env, "department", "create", "GA", "公安").returncode == 0
    assert govlink(env, "audit", "checkpoint").returncode == 0
    second = govlink(env, *witness)
    assert second.returncode == 0, second.stderr
    verified = govlink(env, "audit", "verify")
    assert verified.returncode == 0 and "2 witness cosignatures" in verified.stdout, verified.stdout

    # Someone with database access rewrites history and publishes a fresh, validly signed checkpoint.
    engine = create_engine(fresh_url)
    with engine.begin() as conn:
        conn.execute(text('UPDATE log_entries SET leaf_hash = :h WHERE "index" = 0'), {"h": b"\x01" * 32})
        conn.execute(text('DELETE FROM log_checkpoints'))
    engine.dispose()
    assert govlink(env, "audit", "checkpoint").returncode == 0
    refused = govlink(env, *witness)
    assert refused.returncode == 1
    assert "two histories" in refused.stderr or "not consistent" in refused.stderr
    caught = govlink(env, "audit", "verify", "--checkpoint", str(state))
    assert caught.returncode == 1 and "entry 0: the event body or salt does not match the leaf" in caught.stdout
