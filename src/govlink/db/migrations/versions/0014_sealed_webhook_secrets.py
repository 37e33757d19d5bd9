"""sharing: webhook secrets are kept sealed

A subscription's webhook secret is stored sealed with AES-256-GCM under a key outside the database
(govlink.kit.sealed), which makes the value longer than the 64 hex characters of the secret itself.  A secret
stored in clear before this revision is sealed the first time a notice is signed with it.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 19:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('share_subscriptions') as batch:
        batch.alter_column('webhook_secret', existing_type=sa.String(length=64), type_=sa.String(length=200),
                           existing_nullable=True)


def downgrade() -> None:
    with op.batch_alter_table('share_subscriptions') as batch:
        batch.alter_column('webhook_secret', existing_type=sa.String(length=200), type_=sa.String(length=64),
                           existing_nullable=True)
