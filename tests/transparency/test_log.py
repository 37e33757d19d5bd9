"""The transparency log in the database: appends, checkpoints, proofs, and tampering caught by entry."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from govlink.accounts.roles import Role
from govlink.settings import Settings
from govlink.transparency import service
from govlink.transparency.checkpoint import SigningKey, add_signature, open_note
from govlink.transparency.merkle import verify_consistency, verify_inclusion
from govlink.transparency.models import LogEntry, LogEventBody, LogHead
from govlink.transparency.service import LogEvent
from govlink.transparency.verify import verify_log
from tests.conftest import csrf_headers, sign_in

KEY = SigningKey.generate("test.example/log")


def fill(session: Session, count: int, start: int = 0) -> list[int]:
    events = [LogEvent("data.read", f"analyst{i % 3}", {"n": start + i}, department="MZ",
                       subjects=(f"person:P{i:07d}",)) for i in range(count)]
    return service.append(session, events)


def publish(session: Session) -> str:
    return service.publish_checkpoint(session, KEY, service.LogTree()).note


def problems(session: Session, outside: tuple[str, ...] = ()) -> list[str]:
    return [str(p) for p in verify_log(session, KEY.verifier(), outside=outside).problems]


def test_appended_entries_verify_and_prove(session: Session) -> None:
    assert fill(session, 100) == list(range(100))
    first = publish(session)
    fill(session, 57, start=100)
    second = publish(session)
    assert problems(session) == []
    tree = service.LogTree()
    old, _ = open_note(first, [KEY.verifier()])
    new, _ = open_note(second, [KEY.verifier()])
    leaf, path = service.inclusion(session, tree, 42, new.size)
    verify_inclusion(42, new.size, leaf, path, new.root_hash)
    verify_consistency(old.size, new.size, service.consistency(session, tree, old.size, new.size),
                       old.root_hash, new.root_hash)


def test_event_body_never_holds_more_than_its_leaf_commits_to(session: Session) -> None:
    index = service.record(session, LogEvent("data.read", "analyst", {"items": ["name"]}, subjects=("person:P1",)))
    event, salt = service.event_with_salt(session, index)
    assert event["index"] == index and event["subjects"] == ["person:P1"]
    stored = session.get(LogEntry, index)
    assert stored is not None and len(salt) == 32
    assert b"P1" not in stored.leaf_hash


@pytest.fixture
def logged(session: Session) -> Session:
    fill(session, 40)
    publish(session)
    fill(session, 10, start=40)
    publish(session)
    assert problems(session) == []
    return session


def test_edited_event_is_caught(logged: Session) -> None:
    body = logged.get(LogEventBody, 17)
    assert body is not None and body.body is not None
    logged.execute(update(LogEventBody).where(LogEventBody.index == 17)
                   .values(body=body.body.replace('"n":17', '"n":99')))
    assert problems(logged) == ["entry 17: the event body or salt does not match the leaf"]


def test_rehashed_leaf_is_caught_by_the_checkpoints(logged: Session) -> None:
    from govlink.kit.canonical import canonical_json
    from govlink.transparency.merkle import leaf_hash

    event, salt = service.event_with_salt(logged, 23)
    event["actor"] = "someone-else"
    body = canonical_json(event)
    logged.execute(update(LogEventBody).where(LogEventBody.index == 23).values(body=body.decode()))
    logged.execute(update(LogEntry).where(LogEntry.index == 23).values(leaf_hash=leaf_hash(salt + body)))
    found = problems(logged)
    assert found and "(size 40)" in found[0] and "between 0 and 39" in found[0]


def test_deleted_entry_is_caught(logged: Session) -> None:
    logged.execute(delete(LogEventBody).where(LogEventBody.index == 30))
    logged.execute(delete(LogEntry).where(LogEntry.index == 30))
    found = problems(logged)
    assert "entry 30: missing: the next stored entry is 31" in found


def test_reordered_entries_are_caught(logged: Session) -> None:
    rows = {r.index: r for r in logged.scalars(select(LogEventBody).where(LogEventBody.index.in_([5, 6])))}
    leaves = {r.index: r.leaf_hash for r in logged.scalars(select(LogEntry).where(LogEntry.index.in_([5, 6])))}
    swap = {5: 6, 6: 5}
    values = {i: (rows[i].salt, rows[i].body, leaves[i]) for i in (5, 6)}
    for target, source in swap.items():
        salt, body, leaf = values[source]
        logged.execute(update(LogEventBody).where(LogEventBody.index == target).values(salt=salt, body=body))
        logged.execute(update(LogEntry).where(LogEntry.index == target).values(leaf_hash=leaf))
    found = problems(logged)
    assert "entry 5: holds the event logged as entry 6" in found
    assert "entry 6: holds the event logged as entry 5" in found


def test_truncated_log_is_caught(logged: Session) -> None:
    logged.execute(delete(LogEventBody).where(LogEventBody.index >= 45))
    logged.execute(delete(LogEntry).where(LogEntry.index >= 45))
    logged.execute(update(LogHead).values(size=45))
    found = problems(logged)
    assert any("published with 50 entries but only 45 are stored" in p for p in found)


def test_restored_backup_is_caught_by_a_checkpoint_kept_outside(logged: Session) -> None:
    fill(logged, 5, start=50)
    kept_by_witness = publish(logged)
    # "Restore" the database as it was before those five entries and that checkpoint.
    from govlink.transparency.models import LogCheckpoint

    logged.execute(delete(LogCheckpoint).where(LogCheckpoint.size == 55))
    logged.execute(delete(LogEventBody).where(LogEventBody.index >= 50))
    logged.execute(delete(LogEntry).where(LogEntry.index >= 50))
    logged.execute(update(LogHead).values(size=50))
    assert problems(logged) == []  # internally consistent, as a restored backup is
    found = problems(logged, outside=(kept_by_witness,))
    assert found == ["outside checkpoint 1: the log was published with 55 entries but only 50 are stored "
                     "(truncated, or restored from an older backup)"]


def test_forged_checkpoint_is_caught(logged: Session) -> None:
    forged = service.sign_note(service.Checkpoint(KEY.name, 50, b"\0" * 32).body(),
                               SigningKey.generate(KEY.name))
    found = problems(logged, outside=(forged,))
    assert found and "not signed by the log's key" in found[0]


def test_erased_event_leaves_the_tree_verifiable(logged: Session) -> None:
    service.erase_event(logged, 12)
    report = verify_log(logged, KEY.verifier())
    assert report.ok and report.erased == 1


def test_witness_cosignature_is_kept_and_verified(logged: Session) -> None:
    witness = SigningKey.generate("audit.example/witness")
    latest = service.latest_checkpoint(logged)
    assert latest is not None
    service.add_cosignature(logged, latest.id, add_signature(latest.note, witness), [witness.verifier()])
    report = verify_log(logged, KEY.verifier(), [witness.verifier()])
    assert report.ok and report.cosignatures == 1


def test_concurrent_writers_get_contiguous_indices(fresh_url: str, tmp_path: Path) -> None:
    from govlink.db.engine import make_engine
    from govlink.db.migrate import upgrade

    engine = make_engine(Settings(data_dir=tmp_path, database_url=fresh_url))
    upgrade(engine)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for round_ in range(5):
                with Session(engine) as s, s.begin():
                    fill(s, 4, start=n * 100 + round_ * 4)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with Session(engine) as s, s.begin():
        indices = s.scalars(select(LogEntry.index).order_by(LogEntry.index)).all()
        assert indices == list(range(32 * 5 * 4))
        publish(s)
        assert problems(s) == []
    engine.dispose()


def test_privileged_sign_in_and_account_changes_are_logged(
    client: TestClient, make_user: Callable[..., str]
) -> None:
    admin = make_user(Role.ADMIN)
    sign_in(client, admin)
    client.post("/api/users", json={"username": "c9", "display_name": "市民", "roles": ["public"]},
                headers=csrf_headers(client))
    entries = client.get("/api/transparency/entries").json()
    kinds = [(e["kind"], e["actor"]) for e in entries]
    assert ("auth.sign_in", admin) in kinds
    assert ("accounts.user_created", admin) in kinds
    citizen_login = TestClient(client.app)
    created = client.post("/api/users", json={"username": "c10", "display_name": "x", "roles": ["public"]},
                          headers=csrf_headers(client)).json()
    sign_in(citizen_login, "c10", created["password"])
    assert not [e for e in client.get("/api/transparency/entries?kind=auth.sign_in").json() if e["actor"] == "c10"]


def test_change_is_refused_when_its_log_entry_cannot_be_written(
    client: TestClient, make_user: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_in(client, make_user(Role.ADMIN))

    def broken(session: Session, event: LogEvent) -> int:
        raise RuntimeError("log storage unavailable")

    monkeypatch.setattr("govlink.accounts.service.record", broken)
    quiet = TestClient(client.app, raise_server_exceptions=False, cookies=client.cookies)
    response = quiet.post("/api/departments", json={"code": "FC1", "name": "x"}, headers=csrf_headers(client))
    assert response.status_code == 500
    monkeypatch.undo()
    assert client.get("/api/departments/FC1").status_code == 404


def test_public_proof_api_round_trip(client: TestClient, session: Session) -> None:
    fill(session, 30)
    session.commit()
    published = client.get("/api/transparency/checkpoint").json()
    assert published["size"] == session.scalar(select(LogHead.size))
    vkey = client.get("/api/transparency/public-key").json()["vkey"]
    checkpoint, names = open_note(published["checkpoint"], [vkey])
    assert names and base64.b64encode(checkpoint.root_hash).decode() == published["root_hash"]
    proof = client.get(f"/api/transparency/proof/inclusion?index=7&size={checkpoint.size}").json()
    verify_inclusion(7, checkpoint.size, base64.b64decode(proof["leaf_hash"]),
                     [base64.b64decode(p) for p in proof["proof"]], checkpoint.root_hash)
    assert client.get("/api/transparency/proof/inclusion?index=99&size=5").status_code == 422
    assert client.get("/api/transparency/checkpoints").json()[-1]["root_hash"] == published["root_hash"]
    assert client.get("/api/transparency/entries").status_code == 401
    assert "透明" in client.get("/transparency").text or "Transparency" in client.get("/transparency").text
