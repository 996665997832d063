"""Full-text search over mention text: a trigram index filled in the background, LIKE for the rest.

SQLite keeps a contentless FTS5 trigram table (``mention_fts``), PostgreSQL a copy of the text
with a pg_trgm GIN index (``mention_search``); both are filled after ingestion (with the
rollups), so collecting stays as fast as before. Mentions newer than the index are still
found, by LIKE. Terms shorter than 3 characters, or so common that the index would return
more than ``CAP`` posts, use the newest-first LIKE scan, which stops at its limit.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

CAP = 5000


def like_pattern(term: str) -> str:
    """``%term%`` with LIKE's wildcards in the term escaped (escape character: backslash)."""
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def how_far_is_search_indexed(session: Session) -> int:
    """The highest mention id in the search index (0 when empty)."""
    table, key = ("mention_fts", "rowid") if _sqlite(session) else ("mention_search", "mention_id")
    return session.execute(text(f"SELECT COALESCE(MAX({key}), 0) FROM {table}")).scalar_one()


def refresh_search_index(session: Session, batch: int = 50_000) -> int:
    """Index mentions stored since the last refresh; return how many were added."""
    added = 0
    insert = ("INSERT INTO mention_fts (rowid, text) SELECT id, text FROM mentions WHERE id > :after "
              "ORDER BY id LIMIT :batch") if _sqlite(session) else (
             "INSERT INTO mention_search (mention_id, text) SELECT id, text FROM mentions WHERE id > :after "
             "ORDER BY id LIMIT :batch")
    while True:
        count = session.execute(text(insert), {"after": how_far_is_search_indexed(session), "batch": batch}).rowcount
        added += count
        if count < batch:
            return added


def which_mentions_contain(session: Session, term: str) -> tuple[list[int] | None, int]:
    """(ids of indexed mentions containing ``term`` case-insensitively, index watermark).

    The ids are None when the index cannot answer (term under 3 characters, or over CAP hits):
    callers then scan with LIKE.
    """
    term = term.strip()
    watermark = how_far_is_search_indexed(session)
    if len(term) < 3 or watermark == 0:
        return None, 0
    if _sqlite(session):
        phrase = '"' + term.replace('"', '""') + '"'
        rows = session.execute(text("SELECT rowid FROM mention_fts WHERE mention_fts MATCH :q LIMIT :cap"),
                               {"q": phrase, "cap": CAP + 1}).scalars().all()
    else:
        rows = session.execute(text("SELECT mention_id FROM mention_search WHERE text ILIKE :p LIMIT :cap"),
                               {"p": like_pattern(term), "cap": CAP + 1}).scalars().all()
    return (None if len(rows) > CAP else list(rows)), watermark
