"""topic members: which mentions each topic was clustered from

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('topic_mentions',
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('mention_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['mention_id'], ['mentions.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('topic_id', 'mention_id')
    )
    with op.batch_alter_table('topic_mentions', schema=None) as batch_op:
        batch_op.create_index('ix_topic_mentions_mention', ['mention_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('topic_mentions', schema=None) as batch_op:
        batch_op.drop_index('ix_topic_mentions_mention')
    op.drop_table('topic_mentions')
