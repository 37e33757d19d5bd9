"""sharing: applications for 有条件开放 open data by citizens and enterprises

A request (and the grant it becomes) is made either by a department or by a member of the public (the
applicant's account), never both.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ONE_REQUESTER = '(department_id IS NULL) <> (applicant_id IS NULL)'
TABLES = ('share_requests', 'share_grants')


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('applicant_id', sa.Integer(), nullable=True))
            batch_op.alter_column('department_id', existing_type=sa.Integer(), nullable=True)
            batch_op.create_foreign_key(batch_op.f(f'fk_{table}_applicant_id_users'), 'users', ['applicant_id'],
                                        ['id'], ondelete='RESTRICT')
            batch_op.create_index(batch_op.f(f'ix_{table}_applicant_id'), ['applicant_id'], unique=False)
            batch_op.create_check_constraint(batch_op.f(f'ck_{table}_one_requester'), ONE_REQUESTER)


def downgrade() -> None:
    for table in TABLES:
        op.execute(sa.text(f'DELETE FROM {table} WHERE applicant_id IS NOT NULL'))  # noqa: S608 (constant)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'ck_{table}_one_requester'), type_='check')
            batch_op.drop_index(batch_op.f(f'ix_{table}_applicant_id'))
            batch_op.drop_constraint(batch_op.f(f'fk_{table}_applicant_id_users'), type_='foreignkey')
            batch_op.alter_column('department_id', existing_type=sa.Integer(), nullable=False)
            batch_op.drop_column('applicant_id')
