"""search index for mention text (FTS5 trigram on SQLite, pg_trgm on PostgreSQL)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 18:55:00
"""
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # contentless: only the trigram index is stored; filled by store.search.refresh_search_index
        op.execute("CREATE VIRTUAL TABLE IF NOT EXISTS mention_fts USING fts5(text, content='', tokenize='trigram')")
        return
    op.execute("CREATE TABLE IF NOT EXISTS mention_search (mention_id INTEGER PRIMARY KEY "
               "REFERENCES mentions(id) ON DELETE CASCADE, text TEXT NOT NULL)")
    available = bind.exec_driver_sql("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'").first()
    if available:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX IF NOT EXISTS ix_mention_search_trgm ON mention_search USING gin (text gin_trgm_ops)")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS mention_fts")
    else:
        op.execute("DROP TABLE IF EXISTS mention_search")
