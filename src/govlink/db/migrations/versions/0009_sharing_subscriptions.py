"""sharing subscriptions: a department's subscriptions to resources and registries, and their webhook deliveries

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 08:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import govlink.db.base

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('share_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=True),
    sa.Column('registry_view', sa.String(length=16), nullable=True),
    sa.Column('webhook_url', sa.String(length=2000), nullable=True),
    sa.Column('webhook_secret', sa.String(length=64), nullable=True),
    sa.Column('since', sa.Integer(), nullable=False),
    sa.Column('delivered_through', sa.Integer(), nullable=True),
    sa.Column('created_at', govlink.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', govlink.db.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_by', sa.String(length=64), nullable=True),
    sa.CheckConstraint('(resource_id IS NULL) <> (registry_view IS NULL)', name=op.f('ck_share_subscriptions_one_target')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_share_subscriptions_department_id_departments'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], name=op.f('fk_share_subscriptions_resource_id_resources'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_share_subscriptions'))
    )
    with op.batch_alter_table('share_subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_share_subscriptions_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_share_subscriptions_resource_id'), ['resource_id'], unique=False)

    op.create_table('share_webhook_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('notice', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('next_attempt_at', govlink.db.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', govlink.db.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('created_at', govlink.db.base.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['subscription_id'], ['share_subscriptions.id'], name=op.f('fk_share_webhook_deliveries_subscription_id_share_subscriptions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_share_webhook_deliveries')),
    sa.UniqueConstraint('subscription_id', 'notice', name=op.f('uq_share_webhook_deliveries_subscription_id'))
    )
    with op.batch_alter_table('share_webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_share_webhook_deliveries_subscription_id'), ['subscription_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('share_webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_share_webhook_deliveries_subscription_id'))

    op.drop_table('share_webhook_deliveries')
    with op.batch_alter_table('share_subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_share_subscriptions_resource_id'))
        batch_op.drop_index(batch_op.f('ix_share_subscriptions_department_id'))

    op.drop_table('share_subscriptions')
