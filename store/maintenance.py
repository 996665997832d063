"""Database housekeeping the query planner depends on."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

BIG_CHANGE = 10_000
TABLES = ("mentions", "mention_brands", "analyses", "authors", "mention_search")


def keep_statistics_fresh(session: Session, changed_rows: int) -> bool:
    """ANALYZE the big tables on PostgreSQL after a large load; True when it ran.

    Autovacuum gets there eventually, but right after a bulk import PostgreSQL's planner still
    believes the tables are small and picks plans 20x slower (seen at 1M mentions: 1.4 s instead
    of 60 ms for the mention explorer). SQLite's planner needs no statistics for these queries.
    """
    if changed_rows < BIG_CHANGE or session.get_bind().dialect.name != "postgresql":
        return False
    session.execute(text(f"ANALYZE {', '.join(TABLES)}"))
    return True
