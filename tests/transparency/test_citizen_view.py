"""A citizen sees every access to their own records (deferred ones counted), and can check each offline."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from govlink.accounts import service as accounts
from govlink.accounts.actor import SYSTEM
from govlink.accounts.roles import Role
from govlink.accounts.schemas import UserIn
from govlink.cli.main import app as cli
from govlink.db.base import utcnow
from govlink.transparency import service
from govlink.transparency.merkle import leaf_hash
from govlink.transparency.service import LogEvent
from tests.conftest import PASSWORD, sign_in


def access(subject: str, purpose: str, deferred: dt.datetime | None = None) -> LogEvent:
    return LogEvent("data.read", "official.mz", department="MZ", subjects=(subject,), deferred_until=deferred,
                    details={"role": "analyst", "purpose": purpose, "grant": 7, "items": ["姓名", "身份证号"]})


def test_citizen_sees_own_accesses_and_checks_one_offline(
    client: TestClient, session: Session, make_user: Callable[..., str], tmp_path: Path
) -> None:
    accounts.create_user(session, SYSTEM, UserIn(username="wang", display_name="王", roles=[Role.PUBLIC],
                                                 password=PASSWORD, subject_key="person:P0000001"))
    mine = service.record(session, access("person:P0000001", "低保资格复核"))
    service.record(session, access("person:P0000001", "案件调查", deferred=utcnow() + dt.timedelta(days=90)))
    other = service.record(session, access("person:P0000002", "低保资格复核"))
    session.commit()

    sign_in(client, "wang")
    record = client.get("/api/transparency/my-record").json()
    assert record["subject"] == "person:P0000001"
    assert [e["index"] for e in record["entries"]] == [mine]
    assert record["entries"][0]["purpose"] == "低保资格复核" and record["entries"][0]["department"] == "MZ"
    assert record["deferred"] == 1
    page = client.get("/me/record").text
    assert "低保资格复核" in page and "案件调查" not in page

    proof = client.get(f"/api/transparency/my-record/{mine}/proof").json()
    assert leaf_hash(base64.b64decode(proof["salt"]) + json.dumps(
        proof["event"], sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ) == base64.b64decode(proof["leaf_hash"])
    assert client.get(f"/api/transparency/my-record/{other}/proof").status_code == 404

    (tmp_path / "proof.json").write_text(json.dumps(proof, ensure_ascii=False), encoding="utf-8")
    vkey = client.get("/api/transparency/public-key").json()["vkey"]
    result = CliRunner().invoke(cli, ["audit", "verify", "--proof", str(tmp_path / "proof.json"), "--log-key", vkey])
    assert result.exit_code == 0, result.output
    assert f"entry {mine} is in the log" in result.output


def test_officials_have_no_personal_record_view(client: TestClient, make_user: Callable[..., str]) -> None:
    sign_in(client, make_user(Role.ANALYST))
    assert client.get("/api/transparency/my-record").status_code == 403


def test_unlinked_public_account_is_told_why(client: TestClient, make_user: Callable[..., str]) -> None:
    sign_in(client, make_user(Role.PUBLIC))
    response = client.get("/api/transparency/my-record")
    assert response.status_code == 404 and response.json()["error"]["field"] == "subject"
    assert client.get("/me/record").status_code == 200
