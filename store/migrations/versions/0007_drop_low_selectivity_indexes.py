"""drop the sentiment and intent indexes on analyses

Three sentiments and five intents make poor indexes: SQLite used them to drive the mention
explorer's newest-first query through every negative analysis (500 ms at 1M mentions) instead of
scanning mentions by time and stopping at the limit (30 ms). Aggregates come from the rollups.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 19:05:00
"""
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('analyses', schema=None) as batch_op:
        batch_op.drop_index('ix_analyses_sentiment')
        batch_op.drop_index('ix_analyses_intent')


def downgrade() -> None:
    with op.batch_alter_table('analyses', schema=None) as batch_op:
        batch_op.create_index('ix_analyses_sentiment', ['sentiment'], unique=False)
        batch_op.create_index('ix_analyses_intent', ['primary_intent'], unique=False)
