"""rollups find new mentions by id; drop the collected_at index that slowed every insert

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 19:50:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('rollup_state', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_mention_id', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('mentions', schema=None) as batch_op:
        batch_op.drop_index('ix_mentions_collected_at')
    # a rollup made before this revision knows no id: rebuild everything on the next refresh
    op.execute("DELETE FROM rollup_state")


def downgrade() -> None:
    with op.batch_alter_table('mentions', schema=None) as batch_op:
        batch_op.create_index('ix_mentions_collected_at', ['collected_at'], unique=False)
    with op.batch_alter_table('rollup_state', schema=None) as batch_op:
        batch_op.drop_column('last_mention_id')
