"""Enqueue, lease, report and finish jobs; safe with several workers on SQLite or PostgreSQL.

A worker takes a job by a conditional UPDATE (status and lease checked in the WHERE clause), so
two workers can never both win it; a worker that dies leaves a lease that runs out, and the job
is taken again until its attempts are spent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from govlink.db.base import utcnow
from govlink.db.engine import begin_writing
from govlink.jobs.models import Job, JobStatus
from govlink.kit.errors import NotFound


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    dedupe_key: str | None = None,
    run_after: dt.datetime | None = None,
    max_attempts: int = 3,
) -> Job:
    """Queue a job; with a ``dedupe_key`` already used, return that job instead of a new one."""
    if dedupe_key is not None:
        existing = session.scalar(select(Job).where(Job.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    job = Job(
        kind=kind,
        payload=payload or {},
        dedupe_key=dedupe_key,
        run_after=run_after or utcnow(),
        max_attempts=max_attempts,
    )
    try:
        with session.begin_nested():
            session.add(job)
    except IntegrityError:
        found = session.scalar(select(Job).where(Job.dedupe_key == dedupe_key))
        if found is None:
            raise
        return found
    return job


def claim_next(session: Session, worker: str, lease: dt.timedelta, kinds: Sequence[str]) -> Job | None:
    """Lease the oldest runnable job of the given kinds to ``worker``, or return None."""
    now = utcnow()
    runnable = or_(
        Job.status == JobStatus.QUEUED,
        (Job.status == JobStatus.RUNNING) & (Job.lease_until < now),
    )
    query = (select(Job.id)
             .where(runnable, Job.kind.in_(kinds), Job.run_after <= now, Job.attempts < Job.max_attempts)
             .order_by(Job.run_after, Job.id)
             .limit(5))
    if session.scalars(query).first() is None:  # most polls find nothing, and take no write lock for it
        session.rollback()
        return None
    session.rollback()
    begin_writing(session)  # then look again holding the lock: another worker may have taken them meanwhile
    for job_id in session.scalars(query).all():
        taken = session.execute(
            update(Job)
            .where(Job.id == job_id, runnable, Job.attempts < Job.max_attempts)
            .values(
                status=JobStatus.RUNNING,
                worker=worker,
                lease_until=now + lease,
                attempts=Job.attempts + 1,
                started_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if getattr(taken, "rowcount", 0) == 1:
            session.commit()
            return session.get(Job, job_id, populate_existing=True)
    session.rollback()
    return None


def fail_exhausted(session: Session) -> int:
    """Mark jobs whose lease ran out on their last attempt as failed."""
    result = session.execute(
        update(Job)
        .where(
            Job.status == JobStatus.RUNNING,
            Job.lease_until < utcnow(),
            Job.attempts >= Job.max_attempts,
        )
        .values(status=JobStatus.FAILED, error="the worker stopped during the last attempt")
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def report_progress(
    session: Session, job_id: int, worker: str, fraction: float, message: str, lease: dt.timedelta
) -> bool:
    """Record progress and extend the lease; False when the job is no longer this worker's."""
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.worker == worker, Job.status == JobStatus.RUNNING)
        .values(progress=max(0.0, min(1.0, fraction)), message=message, lease_until=utcnow() + lease)
        .execution_options(synchronize_session=False)
    )
    return getattr(result, "rowcount", 0) == 1


def finish(session: Session, job_id: int, worker: str, result: dict[str, Any]) -> None:
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.worker == worker)
        .values(
            status=JobStatus.DONE, progress=1.0, result=result, finished_at=utcnow(), lease_until=None
        )
        .execution_options(synchronize_session=False)
    )


def fail(session: Session, job_id: int, worker: str, error: str, *, retry_in: dt.timedelta) -> None:
    """Record a failure; the job is queued again after ``retry_in`` until its attempts are spent."""
    job = session.get(Job, job_id)
    if job is None or job.worker != worker:
        return
    job.error = error
    job.lease_until = None
    if job.attempts >= job.max_attempts:
        job.status = JobStatus.FAILED
        job.finished_at = utcnow()
    else:
        job.status = JobStatus.QUEUED
        job.run_after = utcnow() + retry_in


def get_job(session: Session, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"no job {job_id}", field="job")
    return job


def list_jobs(session: Session, *, limit: int = 100) -> Sequence[Job]:
    return session.scalars(select(Job).order_by(Job.id.desc()).limit(limit)).all()
