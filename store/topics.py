"""Recent mentions to cluster, and the topics found for each brand."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, select
from sqlmodel import Session

from store.bulk import dialect_insert
from store.models import Analysis, Mention, MentionBrand, Topic


def which_recent_mentions_to_cluster(session: Session, brand_id: int, since: datetime,
                                     limit: int) -> list[dict[str, Any]]:
    """Analysed, supported-language mentions about a brand since a time, newest first."""
    rows = session.execute(
        select(Mention.id, Mention.created_at, Mention.network, Mention.text, Analysis.sentiment)
        .join(MentionBrand, and_(MentionBrand.mention_id == Mention.id, MentionBrand.brand_id == brand_id))
        .join(Analysis, Analysis.mention_id == Mention.id)
        .where(Mention.created_at >= since, Mention.analysis_status == "done")
        .order_by(Mention.created_at.desc()).limit(limit))
    keys = ("mention_id", "created_at", "network", "text", "sentiment")
    return [dict(zip(keys, row)) for row in rows]


def save_topics(session: Session, brand_id: int, topics: list[dict[str, Any]]) -> None:
    """Replace a brand's topics with a fresh set."""
    session.execute(delete(Topic).where(Topic.brand_id == brand_id))
    if topics:
        session.execute(dialect_insert(session, Topic), [{**t, "brand_id": brand_id} for t in topics])


def what_are_people_talking_about(session: Session, brand_id: int) -> list[Topic]:
    """The brand's current topics, biggest first."""
    return list(session.execute(select(Topic).where(Topic.brand_id == brand_id)
                                .order_by(Topic.size.desc(), Topic.id)).scalars())


def when_were_topics_computed(session: Session, brand_id: int) -> datetime | None:
    """When the brand's topics were last computed."""
    return session.execute(select(func.max(Topic.computed_at)).where(Topic.brand_id == brand_id)).scalar()
