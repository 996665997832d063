"""collector spend and state

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 16:27:41.916200
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('collector_health', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False,
                                      server_default='ok'))
        batch_op.add_column(sa.Column('spend_day', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True))
        batch_op.add_column(sa.Column('spend_today', sa.Float(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('spend_total', sa.Float(), nullable=False, server_default='0'))



def downgrade() -> None:
    with op.batch_alter_table('collector_health', schema=None) as batch_op:
        batch_op.drop_column('spend_total')
        batch_op.drop_column('spend_today')
        batch_op.drop_column('spend_day')
        batch_op.drop_column('state')

