"""job queue (PostgreSQL only): procrastinate's schema, the workers seen and each job's last error

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 12:45:00

SQLite keeps running everything in one `brandpulse run` process: nothing changes there.
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if not _postgresql():
        return
    from procrastinate.schema import SchemaManager

    # procrastinate's own DDL, run as one script on this migration's connection and transaction
    # (the driver, not SQLAlchemy, so its '%' and '::' reach the server untouched)
    op.get_bind().connection.driver_connection.execute(SchemaManager.get_schema())
    op.create_table(
        'queue_workers',
        sa.Column('name', sa.String(200), primary_key=True),  # host:pid
        sa.Column('queues', sa.String(500), nullable=False),  # comma-separated
        sa.Column('concurrency', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        'queue_job_errors',
        sa.Column('job_id', sa.BigInteger(), primary_key=True),
        sa.Column('attempt', sa.Integer(), nullable=False),
        sa.Column('error', sa.Text(), nullable=False),
        sa.Column('failed_at', sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    if not _postgresql():
        return
    op.drop_table('queue_job_errors')
    op.drop_table('queue_workers')
    op.execute("DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, "
               "procrastinate_jobs, procrastinate_workers CASCADE")
    for name, arguments in op.get_bind().execute(sa.text(
            "SELECT p.proname, pg_get_function_identity_arguments(p.oid) FROM pg_proc p "
            "JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate%'")):
        op.execute(f"DROP FUNCTION IF EXISTS {name}({arguments}) CASCADE")
    op.execute("DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type, "
               "procrastinate_job_status CASCADE")
