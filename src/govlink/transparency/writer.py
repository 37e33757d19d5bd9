"""Group commit for the transparency log: entries of concurrent requests appended and committed together.

A request that releases data and writes nothing else (a masked query, a verification, a registry read) hands
its entry to the process's :class:`LogWriter` and waits; the writer's thread appends every entry waiting at
that moment in one transaction on its own connection, commits, and releases each caller with its index.  The
caller answers only after that (fail closed): if the batch cannot be committed, every caller in it gets
:class:`LogUnavailable` and no data leaves.

One writer per process means one writer transaction at a time, so SQLite never sees two requests race for
its write lock, and PostgreSQL commits one fsync for many entries.  While a batch commits, the next one
gathers: the busier the server, the larger the batches.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from govlink.db.engine import holds_write_lock, writing
from govlink.kit.errors import Unavailable
from govlink.transparency.service import LogEvent, append

MAX_BATCH = 2_000
WAIT_SECONDS = 30.0
LOG_WRITER = "log_writer"  # the key of a session's ``info`` holding the writer its entries go through


class LogUnavailable(Unavailable):
    """The log could not take an entry, so the data that needed it is not released."""

    code = "log_unavailable"


@dataclass
class _Waiting:
    event: LogEvent
    done: threading.Event = field(default_factory=threading.Event)
    index: int | None = None
    error: BaseException | None = None


class LogWriter:
    """Appends entries from many threads in shared transactions; :meth:`record` returns once committed."""

    def __init__(self, sessions: Callable[[], Session], *, max_batch: int = MAX_BATCH) -> None:
        self._sessions = sessions
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Waiting | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0  # committed so far, for tests and benchmarks

    def record(self, event: LogEvent) -> int:
        """The index of ``event``'s entry, once it is committed; :class:`LogUnavailable` if it was not."""
        waiting = _Waiting(event)
        self._ensure_running()
        self._queue.put(waiting)
        if not waiting.done.wait(WAIT_SECONDS):
            raise LogUnavailable("the transparency log did not answer in time; nothing was released")
        if waiting.error is not None or waiting.index is None:
            raise LogUnavailable("the transparency log could not be written; nothing was released") \
                from waiting.error
        return waiting.index

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
                indices = append(session, [w.event for w in batch])
        except Exception as exc:  # every waiting caller learns of it and releases nothing
            for waiting in batch:
                waiting.error = exc
        else:
            self.batches += 1
            for waiting, index in zip(batch, indices, strict=True):
                waiting.index = index
        finally:
            for waiting in batch:
                waiting.done.set()


def record_committed(session: Session, event: LogEvent) -> int:
    """Log an access that writes nothing else, and return once its entry is committed.

    Through the process's :class:`LogWriter` when ``session`` carries one (the web app's sessions do) — unless
    the session holds SQLite's write lock, which the writer would wait for while the caller waits for the
    writer; otherwise the entry is appended in the caller's transaction and commits with it, before any
    answer."""
    writer = session.info.get(LOG_WRITER)
    if isinstance(writer, LogWriter) and not holds_write_lock(session):
        return writer.record(event)
    return append(session, [event])[0]
