"""Background jobs: leased once, retried on failure, taken over after a crash, never run twice."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from govlink.db.base import utcnow
from govlink.jobs import service
from govlink.jobs.models import Job, JobStatus
from govlink.jobs.worker import JobContext, Worker
from govlink.settings import Settings


def _worker(settings: Settings, sessions: sessionmaker[Session], **handlers: Any) -> Worker:
    return Worker(settings, sessions, handlers)


def test_job_runs_once_and_records_result(settings: Settings, sessions: sessionmaker[Session]) -> None:
    calls: list[dict[str, Any]] = []

    def count(context: JobContext) -> dict[str, Any]:
        calls.append(context.payload)
        context.progress(0.5, "half way")
        return {"ok": True}

    with sessions() as s, s.begin():
        job_id = service.enqueue(s, "test.count", {"n": 1}).id
    worker = _worker(settings, sessions, **{"test.count": count})
    assert worker.run_once() is True
    assert worker.run_once() is False
    with sessions() as s:
        job = s.get(Job, job_id)
        assert job is not None
        assert (job.status, job.result, job.progress, job.attempts) == (JobStatus.DONE, {"ok": True}, 1.0, 1)
    assert calls == [{"n": 1}]


def test_dedupe_key_gives_the_same_job(session: Session) -> None:
    first = service.enqueue(session, "test.x", dedupe_key="once")
    second = service.enqueue(session, "test.x", dedupe_key="once")
    assert first.id == second.id


def test_failure_is_retried_then_marked_failed(settings: Settings, sessions: sessionmaker[Session]) -> None:
    def broken(context: JobContext) -> dict[str, Any]:
        raise RuntimeError("source database unreachable")

    with sessions() as s, s.begin():
        job_id = service.enqueue(s, "test.broken", max_attempts=2).id
    worker = _worker(settings, sessions, **{"test.broken": broken})
    assert worker.run_once()
    with sessions() as s, s.begin():
        job = s.get(Job, job_id)
        assert job is not None and job.status == JobStatus.QUEUED and "unreachable" in (job.error or "")
        s.execute(update(Job).where(Job.id == job_id).values(run_after=utcnow()))
    assert worker.run_once()
    with sessions() as s:
        job = s.get(Job, job_id)
        assert job is not None and job.status == JobStatus.FAILED and job.attempts == 2


def test_expired_lease_is_taken_over(settings: Settings, sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        job_id = service.enqueue(s, "test.slow").id
    with sessions() as s:
        first = service.claim_next(s, "crashed-worker", dt.timedelta(seconds=60), ["test.slow"])
        assert first is not None
    with sessions() as s:
        assert service.claim_next(s, "other", dt.timedelta(seconds=60), ["test.slow"]) is None
    with sessions() as s, s.begin():
        s.execute(update(Job).where(Job.id == job_id).values(lease_until=utcnow() - dt.timedelta(seconds=1)))
    with sessions() as s:
        taken = service.claim_next(s, "other", dt.timedelta(seconds=60), ["test.slow"])
        assert taken is not None and taken.id == job_id and taken.attempts == 2


def test_scheduled_maintenance_purges_expired_sessions(settings: Settings, sessions: sessionmaker[Session]) -> None:
    from govlink.app import job_handlers, job_schedule

    worker = Worker(settings, sessions, job_handlers(), job_schedule(settings))
    worker.enqueue_scheduled()
    worker.enqueue_scheduled()  # the same period: no second job
    with sessions() as s:
        queued = [j for j in service.list_jobs(s) if j.kind == "accounts.purge_sessions"]
        assert len(queued) == 1
    assert worker.run_once()


def test_jobs_api_shows_progress(client: TestClient, session: Session, make_user: Any) -> None:
    from govlink.accounts.roles import Role
    from tests.conftest import sign_in

    service.enqueue(session, "test.visible", {"file": "a.csv"})
    session.commit()
    sign_in(client, make_user(Role.ADMIN))
    jobs = client.get("/api/jobs").json()
    assert any(j["kind"] == "test.visible" and j["status"] == "queued" for j in jobs)
    assert "test.visible" in client.get("/admin/jobs").text
