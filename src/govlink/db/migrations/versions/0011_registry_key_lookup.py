"""registry: look entities up by type and key through one index

SQLite, without statistics, answered `entity_type = ? AND key IN (…) AND state = 'active'` through the index on
state, scanning every active entity (about 15 ms at 20,000 persons); a verification call makes this lookup.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 11:15:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_registry_entities_type_key', 'registry_entities', ['entity_type', 'key'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_registry_entities_type_key', table_name='registry_entities')
