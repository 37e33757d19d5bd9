"""catalog

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 10:51:19.673978
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import govlink.db.base

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "resource_sequences",
        sa.Column("classification", sa.String(length=12), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("classification", name=op.f("pk_resource_sequences")),
    )
    op.create_table(
        "resources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("classification", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=40), nullable=False),
        sa.Column("subject_type", sa.String(length=16), nullable=False),
        sa.Column("share_type", sa.String(length=16), nullable=False),
        sa.Column("share_condition", sa.Text(), nullable=False),
        sa.Column("share_basis", sa.Text(), nullable=False),
        sa.Column("open_type", sa.String(length=16), nullable=False),
        sa.Column("open_condition", sa.Text(), nullable=False),
        sa.Column("licence", sa.String(length=200), nullable=True),
        sa.Column("update_cycle", sa.String(length=16), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("review_comment", sa.Text(), nullable=False),
        sa.Column("data_updated_at", govlink.db.base.UtcDateTime(timezone=True), nullable=True),
        sa.Column("use_count", sa.Integer(), nullable=False),
        sa.Column("initials_key", sa.Text(), nullable=False),
        sa.Column("pinyin_key", sa.Text(), nullable=False),
        sa.Column("created_at", govlink.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", govlink.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_resources_department_id_departments"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resources")),
        sa.UniqueConstraint("code", name=op.f("uq_resources_code")),
    )
    with op.batch_alter_table("resources", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_resources_classification"), ["classification"], unique=False)
        batch_op.create_index(batch_op.f("ix_resources_department_id"), ["department_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_resources_open_type"), ["open_type"], unique=False)
        batch_op.create_index(batch_op.f("ix_resources_share_type"), ["share_type"], unique=False)
        batch_op.create_index(batch_op.f("ix_resources_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_resources_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "resource_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("data_type", sa.String(length=16), nullable=False),
        sa.Column("semantic_type", sa.String(length=64), nullable=True),
        sa.Column("grade", sa.String(length=16), nullable=False),
        sa.Column("personal", sa.Boolean(), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"], ["resources.id"], name=op.f("fk_resource_items_resource_id_resources"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resource_items")),
        sa.UniqueConstraint("resource_id", "position", name=op.f("uq_resource_items_resource_id")),
    )
    with op.batch_alter_table("resource_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_resource_items_resource_id"), ["resource_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_resource_items_semantic_type"), ["semantic_type"], unique=False)

    op.create_table(
        "resource_relations",
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("related_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["related_id"],
            ["resources.id"],
            name=op.f("fk_resource_relations_related_id_resources"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["resources.id"],
            name=op.f("fk_resource_relations_resource_id_resources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("resource_id", "related_id", name=op.f("pk_resource_relations")),
    )
    op.create_table(
        "resource_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("diff", sa.JSON(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("at", govlink.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["resources.id"],
            name=op.f("fk_resource_revisions_resource_id_resources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resource_revisions")),
    )
    with op.batch_alter_table("resource_revisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_resource_revisions_resource_id"), ["resource_id"], unique=False)

    # The full-text index, in each database's own form (see govlink.catalog.search).
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TABLE resource_search ("
            "resource_id INTEGER PRIMARY KEY REFERENCES resources(id) ON DELETE CASCADE, "
            "document TSVECTOR NOT NULL)"
        )
        op.execute("CREATE INDEX ix_resource_search_document ON resource_search USING GIN (document)")
    else:
        op.execute(
            "CREATE VIRTUAL TABLE resource_search USING fts5("
            "name_terms, other_terms, tokenize = 'unicode61 remove_diacritics 0')"
        )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS resource_search")
    with op.batch_alter_table("resource_revisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resource_revisions_resource_id"))

    op.drop_table("resource_revisions")
    op.drop_table("resource_relations")
    with op.batch_alter_table("resource_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resource_items_semantic_type"))
        batch_op.drop_index(batch_op.f("ix_resource_items_resource_id"))

    op.drop_table("resource_items")
    with op.batch_alter_table("resources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resources_updated_at"))
        batch_op.drop_index(batch_op.f("ix_resources_status"))
        batch_op.drop_index(batch_op.f("ix_resources_share_type"))
        batch_op.drop_index(batch_op.f("ix_resources_open_type"))
        batch_op.drop_index(batch_op.f("ix_resources_department_id"))
        batch_op.drop_index(batch_op.f("ix_resources_classification"))

    op.drop_table("resources")
    op.drop_table("resource_sequences")
