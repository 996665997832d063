"""Recent mentions to cluster, and the topics found for each brand."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, select
from sqlmodel import Session

from store.bulk import dialect_insert
from store.models import Analysis, Mention, MentionBrand, Topic, TopicMention


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
    """Replace a brand's topics with a fresh set; a topic's ``members`` (mention ids) are kept with it."""
    session.execute(delete(TopicMention).where(
        TopicMention.topic_id.in_(select(Topic.id).where(Topic.brand_id == brand_id))))
    session.execute(delete(Topic).where(Topic.brand_id == brand_id))
    for fields in topics:
        topic = Topic(**{k: v for k, v in fields.items() if k != "members"}, brand_id=brand_id)
        session.add(topic)
        session.flush()
        members = sorted(set(fields.get("members") or ()))
        if members:
            session.execute(dialect_insert(session, TopicMention),
                            [{"topic_id": topic.id, "mention_id": m} for m in members])


def what_are_people_talking_about(session: Session, brand_id: int) -> list[Topic]:
    """The brand's current topics, biggest first."""
    return list(session.execute(select(Topic).where(Topic.brand_id == brand_id)
                                .order_by(Topic.size.desc(), Topic.id)).scalars())


def when_were_topics_computed(session: Session, brand_id: int) -> datetime | None:
    """When the brand's topics were last computed."""
    return session.execute(select(func.max(Topic.computed_at)).where(Topic.brand_id == brand_id)).scalar()


def how_do_people_feel_about_topics(session: Session, topic_ids: list[int], since: datetime | None = None,
                                    until: datetime | None = None) -> dict[int, dict[str, int]]:
    """Per topic, its member mentions (posted in [since, until) when given) counted by the sentiment of
    their analyses ('unscored' where none was given)."""
    if not topic_ids:
        return {}
    sentiment = func.coalesce(Analysis.sentiment, "unscored")
    statement = (select(TopicMention.topic_id, sentiment, func.count(Mention.id))
                 .join(Mention, Mention.id == TopicMention.mention_id)
                 .outerjoin(Analysis, Analysis.mention_id == Mention.id)
                 .where(TopicMention.topic_id.in_(topic_ids)).group_by(TopicMention.topic_id, sentiment))
    if since is not None:
        statement = statement.where(Mention.created_at >= since)
    if until is not None:
        statement = statement.where(Mention.created_at < until)
    split: dict[int, dict[str, int]] = {}
    for topic_id, feeling, n in session.execute(statement):
        split.setdefault(topic_id, {})[feeling] = n
    return split
