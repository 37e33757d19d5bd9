"""`govlink audit`: verify a platform's log, name a tampered entry, and check one entry offline."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from govlink.cli.main import app
from govlink.transparency.merkle import leaf_hash

runner = CliRunner()


def govlink(url: str, data_dir: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--data-dir", str(data_dir), "--database-url", url, *args])
    return result.exit_code, result.output


def test_verify_is_green_then_names_the_edited_entry(fresh_url: str, tmp_path: Path) -> None:
    assert govlink(fresh_url, tmp_path, "init", "--admin-password", "a-long-password")[0] == 0
    for code in ("GA", "RS", "MZ"):
        assert govlink(fresh_url, tmp_path, "department", "create", code, f"部门{code}")[0] == 0
    code, out = govlink(fresh_url, tmp_path, "audit", "checkpoint")
    assert code == 0 and out.startswith("govlink.example/district-log\n4\n")
    code, out = govlink(fresh_url, tmp_path, "audit", "verify")
    assert code == 0 and "the log verifies" in out

    engine = create_engine(fresh_url)
    with engine.begin() as conn:
        body = conn.execute(text('SELECT body FROM log_event_bodies WHERE "index" = 2')).scalar_one()
        conn.execute(text('UPDATE log_event_bodies SET body = :b WHERE "index" = 2'),
                     {"b": body.replace("部门RS", "部门XX")})
    engine.dispose()
    code, out = govlink(fresh_url, tmp_path, "audit", "verify")
    assert code == 1
    assert "entry 2: the event body or salt does not match the leaf" in out


def test_one_entry_checks_offline(fresh_url: str, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from govlink.app import create_app
    from govlink.settings import Settings

    assert govlink(fresh_url, tmp_path, "init", "--admin-password", "a-long-password")[0] == 0
    govlink(fresh_url, tmp_path, "department", "create", "GA", "公安")
    settings = Settings(data_dir=tmp_path, database_url=fresh_url)
    with TestClient(create_app(settings)) as client:
        checkpoint = client.get("/api/transparency/checkpoint").json()
        proof = client.get(f"/api/transparency/proof/inclusion?index=1&size={checkpoint['size']}").json()
    engine = create_engine(fresh_url)
    with engine.begin() as conn:
        row = conn.execute(text('SELECT salt, body FROM log_event_bodies WHERE "index" = 1')).one()
    engine.dispose()
    proof["event"], proof["salt"] = json.loads(row.body), base64.b64encode(bytes(row.salt)).decode()
    assert base64.b64encode(leaf_hash(bytes(row.salt) + row.body.encode())).decode() == proof["leaf_hash"]
    (tmp_path / "checkpoint.txt").write_text(checkpoint["checkpoint"], encoding="utf-8")
    (tmp_path / "proof.json").write_text(json.dumps(proof, ensure_ascii=False), encoding="utf-8")
    args = ["audit", "verify", "--checkpoint", str(tmp_path / "checkpoint.txt"),
            "--proof", str(tmp_path / "proof.json")]
    code, out = govlink(fresh_url, tmp_path, *args)
    assert code == 0 and "entry 1 is in the log" in out

    proof["event"]["actor"] = "somebody-else"
    (tmp_path / "proof.json").write_text(json.dumps(proof, ensure_ascii=False), encoding="utf-8")
    code, out = govlink(fresh_url, tmp_path, *args)
    assert code == 1 and "do not hash to the proof's leaf" in out
