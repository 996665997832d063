"""Which scheduled reports were produced (each period's report once), and what the brand report reads
for its own period only (alerts, the authors who spoke, which posts fall in it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import and_, func, select
from sqlmodel import Session

from store.bulk import dialect_insert
from store.models import Alert, Author, AuthorInfluence, Mention, MentionBrand, ReportRun, utcnow


def has_report_been_made(session: Session, brand_id: int, cadence: str, period_end: datetime) -> bool:
    """Whether the report of this brand, cadence and period exists."""
    return session.execute(select(ReportRun.id).where(ReportRun.brand_id == brand_id, ReportRun.cadence == cadence,
                                                      ReportRun.period_end == period_end)).first() is not None


def record_report(session: Session, brand_id: int, cadence: str, period_end: datetime, path: str,
                  error: str | None) -> None:
    """Remember a produced (or failed) report."""
    session.execute(dialect_insert(session, ReportRun).on_conflict_do_nothing(), [{
        "brand_id": brand_id, "cadence": cadence, "period_end": period_end, "path": path,
        "delivered": error is None, "error": error, "created_at": utcnow()}])


def which_reports_were_made(session: Session, limit: int = 50) -> list[ReportRun]:
    """Produced reports, newest first."""
    return list(session.execute(select(ReportRun).order_by(ReportRun.period_end.desc(), ReportRun.id.desc())
                                .limit(limit)).scalars())


# ---- what the brand report reads for its own period [since, until) ----------------------------------------

def which_alerts_fired_between(session: Session, brand_id: int, since: datetime, until: datetime) -> list[Alert]:
    """A brand's alerts whose window ended in [since, until), oldest first."""
    return list(session.execute(select(Alert).where(Alert.brand_id == brand_id, Alert.window_end >= since,
                                                    Alert.window_end < until)
                                .order_by(Alert.window_end, Alert.id)).scalars())


def who_led_the_conversation_between(session: Session, brand_id: int, since: datetime, until: datetime,
                                     limit: int = 10) -> list[dict[str, Any]]:
    """Authors who posted about a brand in [since, until): their posts there and their stored influence
    (score, tier; None when not scored), highest score first, then most posts."""
    posts = func.count(Mention.id)
    statement = (select(Author.id, Author.handle, Author.network, Author.followers, AuthorInfluence.score,
                        AuthorInfluence.tier, posts)
                 .join(Mention, Mention.author_id == Author.id)
                 .join(MentionBrand, and_(MentionBrand.mention_id == Mention.id, MentionBrand.brand_id == brand_id))
                 .outerjoin(AuthorInfluence, and_(AuthorInfluence.author_id == Author.id,
                                                  AuthorInfluence.brand_id == brand_id))
                 .where(Mention.created_at >= since, Mention.created_at < until)
                 .group_by(Author.id, Author.handle, Author.network, Author.followers, AuthorInfluence.score,
                           AuthorInfluence.tier)
                 .order_by(func.coalesce(AuthorInfluence.score, -1.0).desc(), posts.desc(), Author.id).limit(limit))
    keys = ("author_id", "handle", "network", "followers", "score", "tier", "posts")
    return [dict(zip(keys, row)) for row in session.execute(statement)]


def which_mentions_fall_between(session: Session, mention_ids: Sequence[int], since: datetime,
                                until: datetime) -> set[int]:
    """Those of ``mention_ids`` posted in [since, until)."""
    if not mention_ids:
        return set()
    return set(session.execute(select(Mention.id).where(Mention.id.in_(list(mention_ids)),
                                                        Mention.created_at >= since,
                                                        Mention.created_at < until)).scalars())
