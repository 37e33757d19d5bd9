"""The schema comes only from Alembic, and the models agree with the migrations."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from govlink.db.engine import make_engine
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
