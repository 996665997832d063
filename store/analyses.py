"""Pending analysis work and its results."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import Session

from store.bulk import upsert_rows
from store.models import Analysis, Mention, utcnow

ANALYSIS_COLUMNS = ("model_name", "model_version", "language", "sentiment", "emotion",
                    "emotion_scores", "complaint", "complaint_score", "severity", "intents",
                    "primary_intent", "offensive", "offensive_score", "entities")


def which_mentions_await_analysis(session: Session, limit: int) -> list[tuple[int, str, str | None]]:
    """(id, text, source language) of the oldest pending mentions, at most ``limit``."""
    rows = session.execute(select(Mention.id, Mention.text, Mention.language)
                           .where(Mention.analysis_status == "pending")
                           .order_by(Mention.id).limit(limit))
    return [tuple(row) for row in rows]


def how_many_mentions_await_analysis(session: Session) -> int:
    """Count of mentions still pending analysis."""
    return session.execute(select(func.count()).select_from(Mention)
                           .where(Mention.analysis_status == "pending")).scalar_one()


def save_analyses(session: Session, results: dict[int, dict[str, Any]]) -> None:
    """Store one analysis per mention (replacing an earlier one) and mark them analysed."""
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
                        .values(analysis_status=status, analysis_error=None))


def mark_analysis_failed(session: Session, failures: dict[int, str]) -> None:
    """Record why each mention could not be analysed; it is not retried automatically."""
    for mention_id, reason in failures.items():
        session.execute(update(Mention).where(Mention.id == mention_id)
                        .values(analysis_status="failed", analysis_error=reason))


def which_mentions_failed_analysis(session: Session, limit: int = 100) -> list[tuple[int, str]]:
    """(id, reason) of mentions whose analysis failed, newest first."""
    rows = session.execute(select(Mention.id, Mention.analysis_error)
                           .where(Mention.analysis_status == "failed")
                           .order_by(Mention.id.desc()).limit(limit))
    return [tuple(row) for row in rows]
