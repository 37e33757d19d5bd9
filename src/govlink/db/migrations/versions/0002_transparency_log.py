"""transparency log

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 10:30:42.031274
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import govlink.db.base

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "log_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("published_at", govlink.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_checkpoints")),
    )
    with op.batch_alter_table("log_checkpoints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_log_checkpoints_size"), ["size"], unique=False)

    op.create_table(
        "log_entries",
        sa.Column("index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("logged_at", govlink.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("index", name=op.f("pk_log_entries")),
    )
    with op.batch_alter_table("log_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_log_entries_kind"), ["kind"], unique=False)

    log_head = op.create_table(
        "log_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_head")),
    )
    op.bulk_insert(log_head, [{"id": 1, "size": 0}])
    op.create_table(
        "log_event_bodies",
        sa.Column("index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("salt", sa.LargeBinary(length=32), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("subjects", sa.Text(), nullable=False),
        sa.Column("deferred_until", govlink.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("erased_at", govlink.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["index"], ["log_entries.index"], name=op.f("fk_log_event_bodies_index_log_entries"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("index", name=op.f("pk_log_event_bodies")),
    )
    with op.batch_alter_table("log_event_bodies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_log_event_bodies_actor"), ["actor"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("log_event_bodies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_log_event_bodies_actor"))

    op.drop_table("log_event_bodies")
    op.drop_table("log_head")
    with op.batch_alter_table("log_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_log_entries_kind"))

    op.drop_table("log_entries")
    with op.batch_alter_table("log_checkpoints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_log_checkpoints_size"))

    op.drop_table("log_checkpoints")
