"""accounts speak for a registry subject

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 10:39:35.789966
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject_key", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_users_subject_key"), ["subject_key"])


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_users_subject_key"), type_="unique")
        batch_op.drop_column("subject_key")
