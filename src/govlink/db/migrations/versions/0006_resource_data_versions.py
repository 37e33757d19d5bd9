"""resource data versions

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 15:55:54.649742
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import govlink.db.base

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "column_mappings",
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("column", sa.String(length=200), nullable=False),
        sa.Column("item", sa.String(length=100), nullable=True),
        sa.Column("confirmed_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", govlink.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"], ["resources.id"], name=op.f("fk_column_mappings_resource_id_resources"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("resource_id", "column", name=op.f("pk_column_mappings")),
    )
    op.create_table(
        "data_pulls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("scheduled", sa.Boolean(), nullable=False),
        sa.Column("last_run_at", govlink.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_outcome", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", govlink.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"], ["resources.id"], name=op.f("fk_data_pulls_resource_id_resources"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_pulls")),
        sa.UniqueConstraint("resource_id", name=op.f("uq_data_pulls_resource_id")),
    )
    op.create_table(
        "data_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("table_name", sa.String(length=63), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("encoding", sa.String(length=32), nullable=False),
        sa.Column("sheet", sa.String(length=100), nullable=True),
        sa.Column("header_row", sa.Integer(), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("rows_accepted", sa.Integer(), nullable=False),
        sa.Column("rows_quarantined", sa.Integer(), nullable=False),
        sa.Column("quarantine_reasons", sa.JSON(), nullable=False),
        sa.Column("quality", sa.JSON(), nullable=False),
        sa.Column("based_on", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", govlink.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("published_at", govlink.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["resource_id"], ["resources.id"], name=op.f("fk_data_versions_resource_id_resources"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_versions")),
        sa.UniqueConstraint("resource_id", "number", name=op.f("uq_data_versions_resource_id")),
    )
    with op.batch_alter_table("data_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_data_versions_content_hash"), ["content_hash"], unique=False)
        batch_op.create_index(batch_op.f("ix_data_versions_resource_id"), ["resource_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_data_versions_state"), ["state"], unique=False)

    op.create_table(
        "quarantined_cells",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("record", sa.Integer(), nullable=False),
        sa.Column("column", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["data_versions.id"],
            name=op.f("fk_quarantined_cells_version_id_data_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantined_cells")),
    )
    with op.batch_alter_table("quarantined_cells", schema=None) as batch_op:
        batch_op.create_index("ix_quarantined_cells_version_record", ["version_id", "record"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("quarantined_cells", schema=None) as batch_op:
        batch_op.drop_index("ix_quarantined_cells_version_record")

    op.drop_table("quarantined_cells")
    with op.batch_alter_table("data_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_data_versions_state"))
        batch_op.drop_index(batch_op.f("ix_data_versions_resource_id"))
        batch_op.drop_index(batch_op.f("ix_data_versions_content_hash"))

    op.drop_table("data_versions")
    op.drop_table("data_pulls")
    op.drop_table("column_mappings")
