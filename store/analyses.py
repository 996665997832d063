"""Pending analysis work and its results."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlmodel import Session

from store.bulk import upsert_rows
from store.claiming import update_chosen
from store.models import Analysis, Mention, utcnow
from store.webhooks import enqueue_mentions_analysed

ANALYSIS_COLUMNS = ("model_name", "model_version", "language", "sentiment", "emotion",
                    "emotion_scores", "complaint", "complaint_score", "severity", "intents",
                    "primary_intent", "offensive", "offensive_score", "entities")


CLAIM_SECONDS = 600  # a worker killed mid-batch frees its mentions after this long


def _claimable(now):
    return or_(Mention.analysis_status == "pending",
               and_(Mention.analysis_status == "claimed", Mention.analysis_claimed_until < now))


def claim_mentions_for_analysis(session: Session, limit: int, ttl_seconds: float = CLAIM_SECONDS
                                ) -> list[tuple[int, str, str | None]]:
    """Claim the oldest pending mentions (or ones whose claim expired), at most ``limit``, and
    return their (id, text, source language): no other worker gets them while the claim holds.

    PostgreSQL skips rows another worker is claiming (FOR UPDATE SKIP LOCKED); SQLite runs
    one writer at a time, so the claiming UPDATE is atomic there by itself.
    """
    now = utcnow()
    chosen = select(Mention.id).where(_claimable(now)).order_by(Mention.id).limit(limit)
    rows = update_chosen(session, Mention, chosen, {
        "analysis_status": "claimed", "analysis_claimed_until": now + timedelta(seconds=ttl_seconds)},
        (Mention.id, Mention.text, Mention.language))
    return sorted(tuple(row) for row in rows)


def release_claims(session: Session, mention_ids: list[int]) -> None:
    """Give claimed mentions back to the queue (the analysis of their batch failed as a whole)."""
    if mention_ids:
        session.execute(update(Mention).where(Mention.id.in_(mention_ids),
                                              Mention.analysis_status == "claimed")
                        .values(analysis_status="pending", analysis_claimed_until=None)
                        .execution_options(synchronize_session=False))


def which_claims_are_held(session: Session) -> tuple[int, datetime | None]:
    """(mentions claimed by a worker right now, when the last of those claims lapses)."""
    count, until = session.execute(select(func.count(), func.max(Mention.analysis_claimed_until)).where(
        Mention.analysis_status == "claimed", Mention.analysis_claimed_until >= utcnow())).one()
    return count, until


def how_many_mentions_await_analysis(session: Session) -> int:
    """Count of mentions still to be analysed (pending, or claimed by a worker)."""
    return session.execute(select(func.count()).select_from(Mention).where(
        Mention.analysis_status.in_(("pending", "claimed")))).scalar_one()


def save_analyses(session: Session, results: dict[int, dict[str, Any]]) -> None:
    """Store one analysis per mention (replacing an earlier one) and mark them analysed; a mention
    erased while it was being analysed (forgotten, deleted) keeps no analysis of its old text."""
    erased = set(session.execute(select(Mention.id).where(Mention.id.in_(list(results)),
                                                          Mention.erased_at.is_not(None))).scalars()) if results else set()
    results = {mention_id: result for mention_id, result in results.items() if mention_id not in erased}
    if not results:
        return
    now = utcnow()
    rows = []
    for mention_id, result in results.items():
        scores = result.get("sentiment_scores") or {}
        row = {column: result.get(column) for column in ANALYSIS_COLUMNS}
        row.update(mention_id=mention_id, analyzed_at=now,
                   sentiment_negative=scores.get("negative"), sentiment_neutral=scores.get("neutral"),
                   sentiment_positive=scores.get("positive"),
                   intents=result.get("intents") or [], entities=result.get("entities") or [],
                   complaint=bool(result.get("complaint")), offensive=bool(result.get("offensive")))
        rows.append(row)
    upsert_rows(session, Analysis, rows, ("mention_id",), [c for c in rows[0] if c != "mention_id"])
    by_status: dict[str, list[int]] = {}
    for mention_id, result in results.items():
        status = "unsupported_language" if result.get("language_supported") is False else "done"
        by_status.setdefault(status, []).append(mention_id)
    for status, ids in by_status.items():
        session.execute(update(Mention).where(Mention.id.in_(ids))
                        .values(analysis_status=status, analysis_error=None,
                                analysis_claimed_until=None))
    enqueue_mentions_analysed(session, rows)  # webhooks (one subscriber look-up per batch), same transaction


def mark_analysis_failed(session: Session, failures: dict[int, str]) -> None:
    """Record why each mention could not be analysed; it is not retried automatically."""
    for mention_id, reason in failures.items():
        session.execute(update(Mention).where(Mention.id == mention_id)
                        .values(analysis_status="failed", analysis_error=reason,
                                analysis_claimed_until=None))


def which_mentions_failed_analysis(session: Session, limit: int = 100) -> list[tuple[int, str]]:
    """(id, reason) of mentions whose analysis failed, newest first."""
    rows = session.execute(select(Mention.id, Mention.analysis_error)
                           .where(Mention.analysis_status == "failed")
                           .order_by(Mention.id.desc()).limit(limit))
    return [tuple(row) for row in rows]
