"""data rights: erased markers on mentions and authors, the erasure audit log, the suppression list

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 12:30:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('mentions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('erased_reason', sa.String(length=20), nullable=True))
    with op.batch_alter_table('authors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.create_table('erasures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('scope', sa.String(length=300), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('erasures', schema=None) as batch_op:
        batch_op.create_index('ix_erasures_kind', ['kind'], unique=False)
        batch_op.create_index('ix_erasures_started_at', ['started_at'], unique=False)
    op.create_table('suppressions',
    sa.Column('network', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('erasure_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['erasure_id'], ['erasures.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('network', 'kind', 'digest')
    )


def downgrade() -> None:
    op.drop_table('suppressions')
    with op.batch_alter_table('erasures', schema=None) as batch_op:
        batch_op.drop_index('ix_erasures_started_at')
        batch_op.drop_index('ix_erasures_kind')
    op.drop_table('erasures')
    with op.batch_alter_table('authors', schema=None) as batch_op:
        batch_op.drop_column('erased_at')
    with op.batch_alter_table('mentions', schema=None) as batch_op:
        batch_op.drop_column('erased_reason')
        batch_op.drop_column('erased_at')
