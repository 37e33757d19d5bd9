"""The worker loop: lease a job, run its handler, record the outcome, repeat.

Runs as ``govlink worker`` and as a thread inside ``govlink serve`` and ``govlink demo``.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from govlink.db.base import utcnow
from govlink.db.engine import writing
from govlink.jobs import service
from govlink.settings import Settings

log = logging.getLogger(__name__)


class JobCancelled(Exception):
    """Raised inside a handler when its lease was taken over by another worker."""


@dataclass
class JobContext:
    """What a handler gets: the job's payload, a session factory and a way to report progress."""

    job_id: int
    payload: dict[str, Any]
    sessions: sessionmaker[Session]
    settings: Settings
    _report: Callable[[float, str], bool] = field(repr=False)

    def progress(self, fraction: float, message: str = "") -> None:
        if not self._report(fraction, message):
            raise JobCancelled(f"job {self.job_id} is no longer leased to this worker")


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int


Handler = Callable[[JobContext], dict[str, Any]]
# Work the worker schedules for itself: kind → how often.
Schedule = Mapping[str, dt.timedelta]


class Worker:
    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        handlers: Mapping[str, Handler],
        schedule: Schedule | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.handlers = dict(handlers)
        self.schedule = dict(schedule or {})
        self.name = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        self.lease = dt.timedelta(seconds=settings.job_lease_seconds)
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def enqueue_scheduled(self) -> None:
        """Queue each scheduled kind once per period (the dedupe key names the period)."""
        now = utcnow()
        with self.sessions() as session, writing(session):
            for kind, period in self.schedule.items():
                slot = int(now.timestamp() // period.total_seconds())
                service.enqueue(session, kind, dedupe_key=f"{kind}@{slot}")
            service.fail_exhausted(session)

    def run_once(self) -> bool:
        """Run one job if there is one; True when a job was run."""
        with self.sessions() as session:
            job = service.claim_next(session, self.name, self.lease, list(self.handlers))
            if job is None:
                return False
            claimed = ClaimedJob(job.id, job.kind, dict(job.payload), job.attempts)
        self._run(claimed)  # outside the claiming session: the handler opens its own
        return True

    def _run(self, job: ClaimedJob) -> None:
        def report(fraction: float, message: str) -> bool:
            with self.sessions() as s, writing(s):
                return service.report_progress(s, job.id, self.name, fraction, message, self.lease)

        context = JobContext(job.id, job.payload, self.sessions, self.settings, report)
        try:
            result = self.handlers[job.kind](context)
        except JobCancelled:
            log.warning("job %s was taken over by another worker", job.id)
        except Exception as exc:
            log.exception("job %s (%s) failed", job.id, job.kind)
            with self.sessions() as s, writing(s):
                backoff = dt.timedelta(seconds=min(300, 5 * 2**job.attempts))
                service.fail(s, job.id, self.name, f"{type(exc).__name__}: {exc}", retry_in=backoff)
        else:
            with self.sessions() as s, writing(s):
                service.finish(s, job.id, self.name, result)

    def run_forever(self) -> None:
        """Work until :meth:`stop` is called; idle between polls."""
        last_schedule = 0.0
        while not self._stop.is_set():
            try:
                if utcnow().timestamp() - last_schedule > 60:
                    self.enqueue_scheduled()
                    last_schedule = utcnow().timestamp()
                if self.run_once():
                    continue
            except Exception:  # a database hiccup must not kill the worker
                log.exception("worker loop error")
            self._stop.wait(self.settings.worker_poll_seconds)

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run_forever, name="govlink-worker", daemon=True)
        thread.start()
        return thread
