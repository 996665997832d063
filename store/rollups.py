"""Daily rollups behind the overview: counts per day and brand under every dashboard filter.

At a million mentions, counting raw rows for each page view is too slow, so each day a
mention or analysis touched is recounted from scratch (idempotent) into ``mention_rollups``
and ``term_rollups``. ``refresh_rollups`` runs after analysis and on the scheduler.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

from sqlalchemy import case, delete, func, select, union
from sqlmodel import Session

from store.buckets import parse_bucket, time_bucket
from store.bulk import dialect_insert
from store.models import (
    Analysis,
    Mention,
    MentionBrand,
    MentionRollup,
    RollupState,
    TermRollup,
    utcnow,
)

STATE = "daily"
OVERLAP = timedelta(minutes=10)  # re-reads a little, so slow transactions are never missed


def _dimensions():
    return (MentionBrand.brand_id, Mention.network,
            func.coalesce(Analysis.language, Mention.language, ""),
            func.coalesce(Analysis.sentiment, "unscored"), func.coalesce(Analysis.primary_intent, ""))


def which_days_changed(session: Session, after_id: int | None, since: datetime | None) -> list[str]:
    """Day labels of mentions stored after mention ``after_id`` or analysed since ``since``
    (every day when ``after_id`` is None). New mentions are found by id, so ingestion needs no
    extra index."""
    day = time_bucket(session, Mention.created_at, "day")
    if after_id is None:
        return sorted(session.execute(select(day).distinct()).scalars())
    stored = select(day.label("day")).where(Mention.id > after_id)
    analysed = (select(day.label("day")).join(Analysis, Analysis.mention_id == Mention.id)
                .where(Analysis.analyzed_at >= since))
    return sorted(session.execute(select(union(stored, analysed).subquery().c.day).distinct()).scalars())


def rebuild_day(session: Session, day: str) -> None:
    """Recount one day's rollups from the mentions and analyses themselves."""
    start = parse_bucket(day, "day")
    window = (Mention.created_at >= start,)
    if start.date() < date.max:  # the last day a datetime holds has no next day to stop at
        window += (Mention.created_at < start + timedelta(days=1),)
    session.execute(delete(MentionRollup).where(MentionRollup.day == day))
    session.execute(delete(TermRollup).where(TermRollup.day == day))
    dims = _dimensions()
    base = (select(*dims, func.count(Mention.id),
                   func.sum(case((Analysis.complaint.is_(True), 1), else_=0)))
            .select_from(Mention).join(MentionBrand, MentionBrand.mention_id == Mention.id)
            .outerjoin(Analysis, Analysis.mention_id == Mention.id).where(*window).group_by(*dims))
    keys = ("brand_id", "network", "language", "sentiment", "intent")
    rows = [{"day": day, **dict(zip(keys, row[:5])), "mentions": row[5], "complaints": row[6] or 0}
            for row in session.execute(base)]
    if rows:
        session.execute(dialect_insert(session, MentionRollup), rows)
    terms: Counter = Counter()
    entity_rows = (select(*dims, Analysis.entities).select_from(Mention)
                   .join(MentionBrand, MentionBrand.mention_id == Mention.id)
                   .join(Analysis, Analysis.mention_id == Mention.id).where(*window))
    for *key, entities in session.execute(entity_rows):
        for entity in entities or ():
            term = (entity.get("text") or "").strip()[:200]
            if term:
                terms[(*key, entity.get("label", ""), term)] += 1
    if terms:
        session.execute(dialect_insert(session, TermRollup), [
            {"day": day, **dict(zip(keys, key[:5])), "label": key[5], "term": key[6], "mentions": n}
            for key, n in terms.items()])


def refresh_rollups(session: Session) -> int:
    """Rebuild every day touched since the last refresh; return how many days were rebuilt."""
    state = session.get(RollupState, STATE)
    mark = utcnow()
    newest = session.execute(select(func.coalesce(func.max(Mention.id), 0))).scalar_one()
    days = which_days_changed(session, state.last_mention_id if state else None,
                              state.refreshed_at - OVERLAP if state else None)
    for day in days:
        rebuild_day(session, day)
    if state is None:
        state = RollupState(name=STATE, refreshed_at=mark)
    state.refreshed_at = mark
    state.last_mention_id = newest
    session.add(state)
    return len(days)
