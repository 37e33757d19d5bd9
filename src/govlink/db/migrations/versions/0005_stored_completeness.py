"""stored completeness

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 11:21:39.858187
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("resources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("completeness", sa.Float(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("quality_missing", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("resources", schema=None) as batch_op:
        batch_op.drop_column("quality_missing")
        batch_op.drop_column("completeness")
