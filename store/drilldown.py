"""The mentions behind a bar or point of a chart: a day, a brand or an aspect (with a sentiment) under the
page's filters."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import String, cast, func, select
from sqlmodel import Session

from store.models import Analysis, Author, Mention
from store.queries import MentionFilter, _filtered_in, _with_analysis
from store.search import like_pattern

COLUMNS = ("id", "created_at", "network", "author", "followers", "text", "sentiment", "intent",
           "complaint_score", "engagement")


def on_days(flt: MentionFilter, first: date, last: date) -> MentionFilter:
    """``flt`` narrowed to the days ``first``..``last`` (UTC, inclusive), never beyond its own period."""
    since = datetime.combine(first, time.min, timezone.utc)
    until = datetime.combine(last + timedelta(days=1), time.min, timezone.utc)
    return replace(flt, since=max(since, flt.since) if flt.since else since,
                   until=min(until, flt.until) if flt.until else until)


def _named_aspect(entities: Any, aspect: str) -> bool:
    """Whether the analysis names ``aspect`` as an ASPECT entity (compared as the rollups count it)."""
    return any(isinstance(e, dict) and e.get("label") == "ASPECT"
               and (e.get("text") or "").strip()[:200] == aspect for e in entities or ())


def which_mentions_are_behind(session: Session, flt: MentionFilter, *, sentiment: str | None = None,
                              aspect: str | None = None, limit: int = 100) -> dict[str, Any]:
    """{"count", "mentions"}: how many mentions match ``flt`` (of ``sentiment`` when given, 'unscored' for
    none; naming ``aspect`` when given) and the newest ``limit`` of them, with author and analysis."""
    base = _filtered_in(session, _with_analysis(select(Mention.id).select_from(Mention)), flt)
    if sentiment == "unscored":
        base = base.where(Analysis.sentiment.is_(None))
    elif sentiment:
        base = base.where(Analysis.sentiment == sentiment)
    if aspect:
        inner = json.dumps(aspect)[1:-1]
        if inner == aspect:  # plain text: the stored JSON holds it as is, so LIKE narrows the scan
            base = base.where(cast(Analysis.entities, String).like(like_pattern(aspect), escape="\\"))
        newest = base.add_columns(Analysis.entities).order_by(Mention.created_at.desc(), Mention.id.desc())
        ids = [mention_id for mention_id, entities in session.execute(newest) if _named_aspect(entities, aspect)]
        count, chosen = len(ids), Mention.id.in_(ids[:limit])
    else:
        count = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
        chosen = Mention.id.in_(base.order_by(Mention.created_at.desc(), Mention.id.desc()).limit(limit))
    statement = (select(Mention.id, Mention.created_at, Mention.network, Author.handle, Author.followers,
                        Mention.text, Analysis.sentiment, Analysis.primary_intent, Analysis.complaint_score,
                        Mention.likes + Mention.replies + Mention.reposts)
                 .select_from(Mention).outerjoin(Author, Author.id == Mention.author_id)
                 .outerjoin(Analysis, Analysis.mention_id == Mention.id).where(chosen)
                 .order_by(Mention.created_at.desc(), Mention.id.desc()).limit(limit))
    return {"count": count, "mentions": [dict(zip(COLUMNS, row)) for row in session.execute(statement)]}
