"""Engines and sessions for SQLite (embedded, WAL) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from govlink.settings import Settings

POOL_SIZE = 20
# Web requests that may hold a connection at once: the pool's size and overflow, less a few for the worker and
# a request's write on the side (``after_transaction``).  Beyond it a request waits for a slot without holding
# the event loop, so a connection taken on the loop itself never waits for one the loop must first release.
REQUEST_SLOTS = 2 * POOL_SIZE - 4
# A connection execution option: its transactions begin holding SQLite's write lock (see begin_writing).
WRITES = "govlink_writes"
CACHE_KIB = 64 * 1024  # SQLite's page cache of a connection
# … and of one writing changes all over a large table's indexes (see wide_cache).
WIDE_CACHE_KIB = 1024 * 1024


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # 16 KiB pages for a new database (no effect on an existing one): resource data rows are wide, and bulk
    # writes of them go faster with fewer, fuller pages.
    cursor.execute("PRAGMA page_size=16384")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute(f"PRAGMA cache_size=-{CACHE_KIB}")  # a version written in bulk stays in memory until commit
    # Reads through a memory map rather than a read() call per page: a relink looking up a few hundred thousand
    # mentions by index spent half its reading time in those calls.  Address space only; the kernel's page cache
    # holds the pages either way.
    cursor.execute("PRAGMA mmap_size=8589934592")
    cursor.close()


def _explicit_transactions(engine: Engine) -> None:
    """Let SQLAlchemy, not pysqlite, begin transactions, so SAVEPOINTs nest (SQLAlchemy's documented recipe
    for pysqlite); ingestion writes a version inside one and rolls it back when the content is unchanged."""

    @event.listens_for(engine, "connect")
    def _no_implicit_begin(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _explicit_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if connection.get_execution_options().get(WRITES) else "BEGIN")


def make_engine(settings: Settings) -> Engine:
    """An engine for the configured database; SQLite gets WAL, foreign keys and a busy timeout."""
    url = settings.sqlalchemy_url
    if url.startswith("sqlite"):
        settings.ensure_data_dir()
        # Connections kept open for the web server's request threads: one opened for a burst and closed after
        # it starts each query with a cold page cache and its PRAGMAs.
        engine = create_engine(url, connect_args={"check_same_thread": False}, pool_size=POOL_SIZE,
                               max_overflow=POOL_SIZE)
        event.listen(engine, "connect", _sqlite_pragmas)
        _explicit_transactions(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_SIZE)


def make_sessionmaker(engine: Engine, *, info: dict[str, Any] | None = None) -> sessionmaker[Session]:
    """Sessions of ``engine``; ``info`` is copied into each session's ``info`` (the log writer …)."""
    return sessionmaker(bind=engine, expire_on_commit=False, info=info)


def begin_writing(session: Session) -> None:
    """Begin ``session``'s next transaction holding the write lock (SQLite: ``BEGIN IMMEDIATE``), for work that
    reads and then writes.

    SQLite refuses at once, whatever the busy timeout, the first write of a transaction whose reads began before
    another writer (the log writer, the worker) committed: its snapshot is stale.  Begun with the lock, the
    transaction waits its turn instead.  PostgreSQL needs nothing: its writers do not refuse each other so.
    Called when ``session`` is already in a transaction, it does nothing (that transaction goes on as it is)."""
    session.info[_BEGAN_WRITING] = True
    if session.in_transaction() or session.get_bind().dialect.name != "sqlite":
        return
    session.connection(execution_options={WRITES: True})


_BEGAN_WRITING = "began_writing"


def began_writing(session: Session) -> bool:
    """Whether :func:`begin_writing` was called for ``session`` (on any database): its work writes, so ending its
    transaction may wait (for a disk to sync, a checkpoint)."""
    return bool(session.info.get(_BEGAN_WRITING))


@contextmanager
def writing(session: Session) -> Iterator[Session]:
    """``session``'s one transaction around the block, begun holding the write lock (:func:`begin_writing`):
    committed when the block ends normally, rolled back otherwise.  For work that reads and then writes (a job
    claimed, the log's head advanced) beside other writers."""
    begin_writing(session)
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    session.commit()


def holds_write_lock(session: Session) -> bool:
    """Whether ``session`` is in a transaction begun by :func:`begin_writing` (one that holds SQLite's write
    lock: any other connection's write waits for it to end)."""
    return session.in_transaction() and bool(session.connection().get_execution_options().get(WRITES))


def after_transaction(session: Session, write: Callable[[Session], object]) -> None:
    """Run ``write`` in a short transaction of its own once ``session``'s transaction has ended, committed or not.

    For a small write on the side (a token's last use, a quota's count) by a request: done inside the request's
    transaction, it would turn a reading transaction into a writing one, which SQLite refuses once another writer
    has committed since the first read; done beside it while the request still runs, it would make the request's
    own later write stale in the same way.  Bound to a connection already in a transaction (the tests'), the
    write joins that transaction."""
    pending = session.info.get(_SIDE_WRITES)
    if pending is None:
        pending = session.info[_SIDE_WRITES] = []
        event.listen(session, "after_transaction_end", _side_writes)
    pending.append(write)


_SIDE_WRITES = "side_writes"


def has_side_writes(session: Session) -> bool:
    """Whether writes wait for ``session``'s transaction to end (:func:`after_transaction`)."""
    return bool(session.info.get(_SIDE_WRITES))


def _side_writes(ended: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None or not ended.info.get(_SIDE_WRITES):
        return
    writes, ended.info[_SIDE_WRITES] = ended.info[_SIDE_WRITES], []
    with Session(ended.get_bind()) as own, own.begin():
        for write in writes:
            write(own)


@contextmanager
def wide_cache(session: Session) -> Iterator[None]:
    """On SQLite, let ``session``'s connection keep up to :data:`WIDE_CACHE_KIB` of pages in memory while the
    block runs.  For work that changes rows scattered across a large table's indexes (a relink deleting and adding
    ten thousand of a million mentions touches most leaf pages of each of ten indexes): with the usual cache the
    changed pages spill to the write-ahead log during the transaction, each spilled page written again when
    changed again.  The cache shrinks back afterwards; the memory is only taken as pages are read."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    connection.exec_driver_sql(f"PRAGMA cache_size=-{WIDE_CACHE_KIB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size=-{CACHE_KIB}")
