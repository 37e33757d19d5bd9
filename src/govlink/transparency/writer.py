"""Group commit for the transparency log: entries of concurrent requests appended and committed together.

A request that releases data and writes nothing else (a masked query, a verification, a registry read) hands
its entry to the process's :class:`LogWriter`; the writer's thread appends every entry waiting at that moment in
one transaction on its own connection, commits, and settles each entry's future with its index.  Nothing is
released before that (fail closed): if the batch cannot be committed, every entry in it fails with
:class:`LogUnavailable` and no data leaves.

A web request does not hold a thread while it waits: its session collects the futures of the entries it made
(:func:`collect_entries`), and the request's session dependency awaits them (:func:`settle_entries`) after the
route returns and before the answer is sent.  Elsewhere (a job, the CLI) :func:`record_committed` waits itself.

One writer per process means one writer transaction at a time, so SQLite never sees two requests race for
its write lock, and PostgreSQL commits one fsync for many entries.  While a batch commits, the next one
gathers: the busier the server, the larger the batches.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future

from sqlalchemy.orm import Session

from govlink.db.engine import holds_write_lock, writing
from govlink.kit.errors import Unavailable
from govlink.transparency.service import LogEvent, append

MAX_BATCH = 2_000
WAIT_SECONDS = 30.0
LOG_WRITER = "log_writer"  # the key of a session's ``info`` holding the writer its entries go through
_PENDING = "log_entries_pending"  # the key of a session's ``info`` collecting its entries' futures


class LogUnavailable(Unavailable):
    """The log could not take an entry, so the data that needed it is not released."""

    code = "log_unavailable"


_Waiting = tuple[LogEvent, Future[int]]  # an entry and what its caller awaits


class LogWriter:
    """Appends entries from many threads in shared transactions; each entry's future settles once committed."""

    def __init__(self, sessions: Callable[[], Session], *, max_batch: int = MAX_BATCH) -> None:
        self._sessions = sessions
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Waiting | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0  # committed so far, for tests and benchmarks

    def submit(self, event: LogEvent) -> Future[int]:
        """Queue ``event``: its future gives the entry's index once committed, or fails if it was not."""
        future: Future[int] = Future()
        self._ensure_running()
        self._queue.put((event, future))
        return future

    def record(self, event: LogEvent) -> int:
        """The index of ``event``'s entry, once it is committed; :class:`LogUnavailable` if it was not."""
        return _settled(self.submit(event))

    def close(self) -> None:
        """Finish what is queued and stop the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join()

    def _ensure_running(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="govlink-log-writer", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < self._max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch.append(more)
            self._commit(batch)
            if stop:
                return

    def _commit(self, batch: list[_Waiting]) -> None:
        try:
            with self._sessions() as session, writing(session):
                indices = append(session, [event for event, _ in batch])
        except Exception as exc:  # every waiting caller learns of it and releases nothing
            for _, future in batch:
                future.set_exception(exc)
        else:
            self.batches += 1
            for (_, future), index in zip(batch, indices, strict=True):
                future.set_result(index)


def _settled(future: Future[int], timeout: float = WAIT_SECONDS) -> int:
    try:
        return future.result(timeout)
    except TimeoutError:
        raise LogUnavailable("the transparency log did not answer in time; nothing was released") from None
    except Exception as exc:
        raise LogUnavailable("the transparency log could not be written; nothing was released") from exc


def record_committed(session: Session, event: LogEvent) -> None:
    """Log an access that writes nothing else; the entry is committed before any answer.

    Through the process's :class:`LogWriter` when ``session`` carries one (the web app's sessions do) — unless
    the session holds SQLite's write lock, which the writer would wait for while the caller waits for the
    writer.  A session that collects its entries (a web request's) hands the future to the request, which
    awaits it before answering; otherwise this returns once the entry is committed.  Without a writer the entry
    is appended in the caller's transaction and commits with it, before any answer."""
    writer = session.info.get(LOG_WRITER)
    if not isinstance(writer, LogWriter) or holds_write_lock(session):
        append(session, [event])
        return
    future = writer.submit(event)
    pending = session.info.get(_PENDING)
    if isinstance(pending, list):
        pending.append(future)
    else:
        _settled(future)


def collect_entries(session: Session) -> None:
    """Let the entries ``session`` logs through the writer be awaited by :func:`settle_entries` instead of
    holding the caller's thread until each is committed."""
    session.info[_PENDING] = []


async def settle_entries(session: Session) -> None:
    """Return once every entry ``session`` collected is committed; :class:`LogUnavailable` if one was not."""
    pending: list[Future[int]] = session.info.get(_PENDING) or []
    session.info[_PENDING] = []
    waiting = [asyncio.wrap_future(future) for future in pending if not future.done()]
    if waiting:
        await asyncio.wait(waiting, timeout=WAIT_SECONDS)  # never cancels: the writer settles each future
    for future in pending:
        _settled(future, timeout=0)
