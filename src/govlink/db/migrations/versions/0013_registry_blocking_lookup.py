"""registry: find a new mention's blocking neighbours through indexes

An incremental relink scores a new mention without a key only against the stored mentions that share one of its
blocking values (name, phone, birth date, road and number, street and number).  Name and phone were indexed;
without the other three, SQLite scanned all of a district's mentions once per new mention.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 17:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_registry_mentions_birth_date', 'registry_mentions', ['birth_date'], unique=False)
    op.create_index('ix_registry_mentions_road_number', 'registry_mentions', ['road', 'number'], unique=False)
    op.create_index('ix_registry_mentions_street_number', 'registry_mentions', ['street', 'number'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_registry_mentions_street_number', table_name='registry_mentions')
    op.drop_index('ix_registry_mentions_road_number', table_name='registry_mentions')
    op.drop_index('ix_registry_mentions_birth_date', table_name='registry_mentions')
