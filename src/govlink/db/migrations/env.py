"""Alembic environment: uses the connection handed over by govlink.db.migrate when there is one."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from govlink.schema import is_modelled, metadata

config = context.config


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=metadata, render_as_batch=True, include_name=is_modelled
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config(config.get_section(config.config_ini_section) or {}, poolclass=pool.NullPool)
    with engine.connect() as conn:
        context.configure(
            connection=conn, target_metadata=metadata, render_as_batch=True, include_name=is_modelled
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
