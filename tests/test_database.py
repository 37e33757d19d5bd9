"""The schema comes only from Alembic, and the models agree with the migrations."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import OperationalError

from govlink.db.engine import (
    CACHE_KIB,
    WIDE_CACHE_KIB,
    begin_writing,
    holds_write_lock,
    make_engine,
    make_sessionmaker,
    wide_cache,
)
from govlink.db.migrate import current_revision, head_revision, upgrade
from govlink.schema import is_modelled, metadata
from govlink.settings import Settings


def test_models_match_migrations(engine: Engine) -> None:
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"include_name": is_modelled}), metadata)
    assert diff == [], f"models and migrations disagree; write a migration: {diff}"


def test_upgrade_is_idempotent_and_reaches_head(fresh_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    fresh = make_engine(Settings(data_dir=tmp_path, database_url=fresh_url))
    assert current_revision(fresh) is None
    upgrade(fresh)
    upgrade(fresh)
    assert current_revision(fresh) == head_revision()
    assert {"users", "departments", "api_tokens", "login_sessions", "jobs"} <= set(inspect(fresh).get_table_names())
    fresh.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path) -> None:  # type: ignore[no-untyped-def]
    sqlite = make_engine(Settings(data_dir=tmp_path))
    with sqlite.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    sqlite.dispose()


def test_a_transaction_begun_for_writing_is_not_refused_after_another_writer(tmp_path: Path) -> None:
    """SQLite refuses the first write of a transaction that read before another writer committed; one begun
    with begin_writing holds the lock from the start, so the other writer waits for it instead."""
    engine = make_engine(Settings(data_dir=tmp_path))
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE counter (n INTEGER)")
        connection.exec_driver_sql("INSERT INTO counter VALUES (0)")
    sessions = make_sessionmaker(engine)

    def bump() -> None:
        with sessions() as other, other.begin():
            other.execute(text("UPDATE counter SET n = n + 1"))

    with sessions() as stale:
        stale.execute(text("SELECT n FROM counter")).scalar_one()
        bump()
        with pytest.raises(OperationalError, match="locked"):
            stale.execute(text("UPDATE counter SET n = n + 10"))
    with sessions() as writing:
        begin_writing(writing)
        assert holds_write_lock(writing)
        seen = writing.execute(text("SELECT n FROM counter")).scalar_one()
        with engine.connect() as other:  # another writer now waits for the lock (here: gives up at once)
            other.exec_driver_sql("PRAGMA busy_timeout=0")
            with pytest.raises(OperationalError, match="locked"):
                other.execute(text("UPDATE counter SET n = n + 1"))
            other.rollback()
        writing.execute(text("UPDATE counter SET n = :n"), {"n": seen + 10})
        writing.commit()
    bump()
    with sessions() as check:
        assert check.execute(text("SELECT n FROM counter")).scalar_one() == seen + 10 + 1
        assert not holds_write_lock(check)
    engine.dispose()


def test_a_wide_cache_lasts_for_its_block_and_shrinks_back(tmp_path: Path) -> None:
    engine = make_engine(Settings(data_dir=tmp_path))
    with make_sessionmaker(engine)() as session, session.begin():
        def cache() -> int:  # negative: KiB
            return -int(session.execute(text("PRAGMA cache_size")).scalar_one())
        assert cache() == CACHE_KIB
        with wide_cache(session):
            assert cache() == WIDE_CACHE_KIB > CACHE_KIB
        assert cache() == CACHE_KIB
    engine.dispose()
