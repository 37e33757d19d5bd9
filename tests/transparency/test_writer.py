"""Group commit: concurrent requests' entries committed together, each caller answered only once its own is."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy import event as sqlalchemy_events
from sqlalchemy.orm import Session

from govlink.accounts import service as accounts
from govlink.accounts.actor import SYSTEM
from govlink.accounts.roles import Role
from govlink.accounts.schemas import TokenIn, UserIn
from govlink.accounts.scopes import Scope
from govlink.app import create_app
from govlink.db.engine import REQUEST_SLOTS, make_engine, make_sessionmaker
from govlink.db.migrate import upgrade
from govlink.demo.service import register_departments
from govlink.settings import Settings
from govlink.transparency import service
from govlink.transparency import writer as writer_module
from govlink.transparency.models import LogEntry, LogEventBody
from govlink.transparency.service import LogEvent
from govlink.transparency.writer import LOG_WRITER, LogUnavailable, LogWriter, record_committed


@pytest.fixture
def own_engine(fresh_url: str, tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(Settings(data_dir=tmp_path, database_url=fresh_url))
    upgrade(engine)
    yield engine
    engine.dispose()


def event(n: int) -> LogEvent:
    return LogEvent("sharing.verified", f"analyst{n}", {"n": n}, department="MZ", subjects=(f"person:P{n:07d}",))


def test_concurrent_callers_get_contiguous_committed_entries(own_engine: Engine) -> None:
    writer = LogWriter(make_sessionmaker(own_engine))
    answers: dict[int, int] = {}
    errors: list[BaseException] = []

    def caller(n: int) -> None:
        try:
            for round_ in range(10):
                index = writer.record(event(n * 100 + round_))
                with Session(own_engine) as other:  # committed: another connection sees it at once
                    assert other.get(LogEntry, index) is not None
                answers[n * 100 + round_] = index
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.close()
    assert errors == []
    assert sorted(answers.values()) == list(range(320))
    with Session(own_engine) as s:
        bodies = {index: actor for index, actor in s.execute(select(LogEventBody.index, LogEventBody.actor))}
    # Each caller's index names its own event.
    assert all(bodies[index] == f"analyst{n}" for n, index in answers.items())


def test_a_batch_that_cannot_commit_releases_nothing() -> None:
    def broken() -> Session:
        raise ConnectionError("the database went away")

    writer = LogWriter(broken)
    with pytest.raises(LogUnavailable, match="could not be written"):
        writer.record(event(1))
    writer.close()


def test_without_a_writer_the_entry_joins_the_callers_transaction(session: Session) -> None:
    before = service.statistics(session)["size"]
    record_committed(session, event(7))
    assert service.statistics(session)["size"] == before + 1
    assert service.search(session, kind="sharing.verified")[0].index == before


@pytest.fixture
def served(own_engine: Engine, tmp_path: Path) -> tuple[FastAPI, dict[str, str]]:
    return serve(own_engine, tmp_path)


def serve(engine: Engine, folder: Path, **options: Any) -> tuple[FastAPI, dict[str, str]]:
    """The app on its own database, with a department's analyst and the headers of their API token."""
    settings = Settings(data_dir=folder, database_url=engine.url.render_as_string(hide_password=False), **options)
    own_engine = engine
    with Session(own_engine) as s, s.begin():
        register_departments(s)
        accounts.create_user(s, SYSTEM, UserIn(username="analyst.mz", display_name="民政分析员",
                                                roles=[Role.ANALYST], department_code="MZ"))
        token = accounts.create_token(s, SYSTEM, "analyst.mz", TokenIn(name="救助系统", scopes=[Scope.SHARING_READ],
                                                                        expires_in_days=1), max_days=30).token
    return create_app(settings, engine=own_engine), {"Authorization": f"Bearer {token}"}


VERIFY = {"name": "张三", "id_number": "11010519491231002X", "purpose": "低保审核"}


def test_the_apps_verification_answers_after_its_entry_is_committed(
        served: tuple[FastAPI, dict[str, str]], own_engine: Engine) -> None:
    app, headers = served
    assert isinstance(app.state.sessions().info[LOG_WRITER], LogWriter)
    with TestClient(app) as client:
        for answered in range(1, 4):
            answer = client.post("/api/sharing/verify/person", headers=headers, json=VERIFY)
            assert answer.status_code == 200 and answer.json()["verdict"] == "unknown"
            with Session(own_engine) as other:  # committed by the time the answer came
                assert len(service.search(other, kind="sharing.verified")) == answered
    with Session(own_engine) as s:
        logged = [e.document for e in service.search(s, kind="sharing.verified") if e.document]
    assert len(logged) == 3
    assert all(e["department"] == "MZ" and e["details"]["application"] == "救助系统" for e in logged)


def test_a_verification_whose_entry_cannot_be_committed_answers_nothing(
        served: tuple[FastAPI, dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> None:
    app, headers = served

    def broken(session: Session, events: list[LogEvent]) -> list[int]:
        raise ConnectionError("the disk is full")

    monkeypatch.setattr(writer_module, "append", broken)
    with TestClient(app) as client:
        answer = client.post("/api/sharing/verify/person", headers=headers, json=VERIFY)
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "log_unavailable" and "verdict" not in answer.text


def test_every_request_gives_back_its_database_slot(served: tuple[FastAPI, dict[str, str]]) -> None:
    """Answered, refused or invalid, a request releases its slot: more requests than there are slots, one after
    another, are all answered (a slot kept would leave the last ones waiting for ever)."""
    app, headers = served

    async def calls() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://govlink") as client:
            statuses = []
            for n in range(REQUEST_SLOTS + 6):
                if n % 3 == 0:
                    call = client.post("/api/sharing/verify/person", json=VERIFY, headers=headers)
                elif n % 3 == 1:  # an unknown token
                    call = client.post("/api/sharing/verify/person", json=VERIFY,
                                       headers={"Authorization": "Bearer glk_no_such"})
                else:  # no ID number
                    call = client.post("/api/sharing/verify/person", json={"name": "张三"}, headers=headers)
                statuses.append((await asyncio.wait_for(call, 10)).status_code)
            return statuses

    statuses = asyncio.run(calls())
    assert set(statuses) == {200, 401, 422}


def test_uploads_streaming_in_hold_no_database_slot(own_engine: Engine, tmp_path: Path) -> None:
    """More uploads than there are slots, their bodies still coming, do not keep a verification waiting."""
    app, headers = serve(own_engine, tmp_path, max_upload_bytes=1024)  # each upload is refused once in
    with Session(own_engine) as s, s.begin():
        accounts.create_user(s, SYSTEM, UserIn(username="steward.mz", display_name="民政数据专员",
                                                roles=[Role.STEWARD], department_code="MZ"))
        steward = accounts.create_token(s, SYSTEM, "steward.mz", TokenIn(name="上传", scopes=[Scope.DATA_WRITE],
                                                                          expires_in_days=1), max_days=30).token

    uploads = REQUEST_SLOTS + 2

    async def calls() -> tuple[int, list[int]]:
        arrived, all_in, finish = 0, asyncio.Event(), asyncio.Event()

        async def slow_body() -> AsyncIterator[bytes]:
            nonlocal arrived
            yield "姓名,公民身份号码\n".encode()
            arrived += 1  # the app has taken the first chunk and asks for more
            if arrived == uploads:
                all_in.set()
            await finish.wait()
            yield "张三,11010519491231002X\n".encode() * 50

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://govlink") as client:
            pending = [asyncio.create_task(client.post(
                "/api/departments/MZ/uploads", params={"file_name": f"名单{n}.csv"}, content=slow_body(),
                headers={"Authorization": f"Bearer {steward}"})) for n in range(uploads)]
            await asyncio.wait_for(all_in.wait(), 10)  # every upload is in, waiting for the rest of its body
            answer = await asyncio.wait_for(
                client.post("/api/sharing/verify/person", json=VERIFY, headers=headers), 10)
            finish.set()
            return answer.status_code, [(await upload).status_code for upload in pending]

    verified, uploaded = asyncio.run(calls())
    assert verified == 200
    assert set(uploaded) == {413}


def test_a_transaction_that_wrote_ends_off_the_event_loop(own_engine: Engine, tmp_path: Path) -> None:
    """An upload's commit (a whole version written) may wait on the disk: it ends in a worker thread, while a
    verification's reading transaction ends on the loop itself."""
    app, headers = serve(own_engine, tmp_path)
    with Session(own_engine) as s, s.begin():
        accounts.create_user(s, SYSTEM, UserIn(username="steward.mz", display_name="民政数据专员",
                                                roles=[Role.STEWARD], department_code="MZ"))
        steward = accounts.create_token(s, SYSTEM, "steward.mz", TokenIn(name="上传", scopes=[Scope.DATA_WRITE],
                                                                          expires_in_days=1), max_days=30).token
    on_loop: list[bool] = []  # for each transaction committed: whether it ended on the event loop's thread

    async def calls() -> tuple[int, int, int]:
        loop_thread = threading.current_thread()

        def committed(session: Session) -> None:
            on_loop.append(threading.current_thread() is loop_thread)

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://govlink") as client:
            sqlalchemy_events.listen(Session, "after_commit", committed)
            try:
                uploaded = await client.post("/api/departments/MZ/uploads", params={"file_name": "名单.csv"},
                                             content="姓名,公民身份号码\n张三,11010519491231002X\n".encode(),
                                             headers={"Authorization": f"Bearer {steward}"})
                upload_commits = len(on_loop)
                # The token's first use is recorded beside the first call (a write); the second call only reads.
                for _ in range(2):
                    verified = await client.post("/api/sharing/verify/person", json=VERIFY, headers=headers)
            finally:
                sqlalchemy_events.remove(Session, "after_commit", committed)
            return uploaded.status_code, verified.status_code, upload_commits

    uploaded, verified, upload_commits = asyncio.run(calls())
    assert (uploaded, verified) == (200, 200)
    assert upload_commits and not on_loop[upload_commits - 1]  # the upload's version, committed in a thread
    assert len(on_loop) > upload_commits and on_loop[-1]  # the last verification's transaction, on the loop
