"""Alerts, and the time series alert rules read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlmodel import Session

from brandpulse.core.errors import NotFoundError
from store.buckets import time_bucket
from store.bulk import dialect_insert
from store.models import Alert, Analysis, Author, Mention, MentionBrand, utcnow
from store.search import like_pattern
from store.webhooks import enqueue_alert_fired


def how_many_mentions_per_hour(session: Session, brand_id: int, since: datetime,
                               until: datetime) -> dict[str, tuple[int, int, int]]:
    """Per hour label: (mentions, analysed mentions, negative mentions) about a brand."""
    hour = time_bucket(session, Mention.created_at, "hour")
    negative = func.sum(case((Analysis.sentiment == "negative", 1), else_=0))
    statement = (select(hour, func.count(Mention.id), func.count(Analysis.sentiment), negative)
                 .join(MentionBrand, MentionBrand.mention_id == Mention.id)
                 .outerjoin(Analysis, Analysis.mention_id == Mention.id)
                 .where(MentionBrand.brand_id == brand_id, Mention.created_at >= since,
                        Mention.created_at < until)
                 .group_by(hour))
    return {label: (int(n), int(scored), int(neg or 0)) for label, n, scored, neg in session.execute(statement)}


def when_was_brand_first_mentioned(session: Session, brand_id: int) -> datetime | None:
    """The time of the oldest stored mention about a brand."""
    return session.execute(select(func.min(Mention.created_at))
                           .join(MentionBrand, MentionBrand.mention_id == Mention.id)
                           .where(MentionBrand.brand_id == brand_id)).scalar()


def which_mentions_lead_window(session: Session, brand_id: int, start: datetime, end: datetime,
                               limit: int = 5) -> list[dict[str, Any]]:
    """The most engaged mentions about a brand in a window (alert evidence)."""
    engagement = Mention.likes + Mention.replies + Mention.reposts
    rows = session.execute(select(Mention.id, Mention.network, Mention.text, engagement)
                           .join(MentionBrand, MentionBrand.mention_id == Mention.id)
                           .where(MentionBrand.brand_id == brand_id, Mention.created_at >= start,
                                  Mention.created_at < end)
                           .order_by(engagement.desc(), Mention.id).limit(limit))
    return [{"mention_id": mid, "network": net, "text": text[:280], "engagement": int(eng)}
            for mid, net, text, eng in rows]


def when_did_rule_last_fire_per_severity(session: Session, brand_id: int, rule: str) -> dict[str, datetime]:
    """Per severity, the end of the newest window that fired ``rule`` for a brand."""
    return dict(session.execute(select(Alert.severity, func.max(Alert.window_end))
                                .where(Alert.brand_id == brand_id, Alert.rule == rule)
                                .group_by(Alert.severity)).all())


def where_did_rule_episode_start(session: Session, brand_id: int, rule: str, since: datetime) -> datetime | None:
    """The start of the oldest window of ``rule``'s alerts for a brand whose window ended since ``since``."""
    return session.execute(select(func.min(Alert.window_start))
                           .where(Alert.brand_id == brand_id, Alert.rule == rule,
                                  Alert.window_end >= since)).scalar()


def which_mentions_came_between(session: Session, brand_id: int, since: datetime,
                                until: datetime) -> list[tuple[datetime, bool, bool]]:
    """(created_at, analysed, negative) of each mention about a brand in [since, until), oldest first."""
    rows = session.execute(select(Mention.created_at, Analysis.sentiment)
                           .join(MentionBrand, MentionBrand.mention_id == Mention.id)
                           .outerjoin(Analysis, Analysis.mention_id == Mention.id)
                           .where(MentionBrand.brand_id == brand_id, Mention.created_at >= since,
                                  Mention.created_at < until)
                           .order_by(Mention.created_at))
    return [(at, sentiment is not None, sentiment == "negative") for at, sentiment in rows]


def save_alert(session: Session, alert: dict[str, Any]) -> bool:
    """Store an alert unless its dedupe key exists; True when it is new."""
    result = session.execute(dialect_insert(session, Alert).on_conflict_do_nothing(
        index_elements=["dedupe_key"]).returning(Alert.id), alert)
    row = result.first()
    if row is not None:
        enqueue_alert_fired(session, row[0], alert)  # webhooks, same transaction
    return row is not None


def which_alerts_fired(session: Session, since: datetime | None = None, brand_id: int | None = None,
                       limit: int = 200) -> list[Alert]:
    """Alerts newest first, optionally since a time and for one brand."""
    statement = select(Alert).order_by(Alert.window_end.desc(), Alert.id.desc()).limit(limit)
    if since is not None:
        statement = statement.where(Alert.fired_at >= since)
    if brand_id is not None:
        statement = statement.where(Alert.brand_id == brand_id)
    return list(session.execute(statement).scalars())


def acknowledge_alert(session: Session, alert_id: int, user_id: int | None) -> Alert:
    """Mark an alert as seen by a user (the first acknowledgement is kept)."""
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise NotFoundError(f"alert #{alert_id} does not exist; refresh the alerts page")
    if alert.acknowledged_at is None:
        alert.acknowledged_at = utcnow()
        alert.acknowledged_by = user_id
        session.add(alert)
    return alert


def which_complaints_came_from_big_authors(session: Session, brand_id: int, since: datetime, until: datetime,
                                           min_followers: int) -> list[dict[str, Any]]:
    """Complaints about a brand by authors with at least ``min_followers``, oldest first."""
    rows = session.execute(
        select(Mention.id, Mention.created_at, Mention.network, Mention.text, Mention.url, Author.handle,
               Author.followers)
        .join(MentionBrand, and_(MentionBrand.mention_id == Mention.id, MentionBrand.brand_id == brand_id))
        .join(Analysis, Analysis.mention_id == Mention.id).join(Author, Author.id == Mention.author_id)
        .where(Analysis.complaint.is_(True), Author.followers >= min_followers,
               Mention.created_at >= since, Mention.created_at < until)
        .order_by(Mention.created_at))
    keys = ("mention_id", "created_at", "network", "text", "url", "author", "followers")
    return [dict(zip(keys, row)) for row in rows]


def which_mentions_use_words(session: Session, brand_id: int, since: datetime, until: datetime,
                             words: list[str]) -> list[dict[str, Any]]:
    """Mentions about a brand containing any of ``words`` (case-insensitive), oldest first."""
    if not words:
        return []
    rows = session.execute(
        select(Mention.id, Mention.created_at, Mention.network, Mention.text, Mention.url)
        .join(MentionBrand, and_(MentionBrand.mention_id == Mention.id, MentionBrand.brand_id == brand_id))
        .where(Mention.created_at >= since, Mention.created_at < until,
               or_(*[Mention.text.ilike(like_pattern(word), escape="\\") for word in words]))
        .order_by(Mention.created_at))
    lowered = [w.lower() for w in words]
    return [{"mention_id": mid, "created_at": at, "network": network, "text": text[:280], "url": url,
             "keywords": [w for w in lowered if w in text.lower()]} for mid, at, network, text, url in rows]


def which_alerts_await_delivery(session: Session, limit: int = 100) -> list[Alert]:
    """Alerts not yet delivered and not failed, oldest first."""
    return list(session.execute(select(Alert).where(Alert.delivered_at.is_(None), Alert.delivery_error.is_(None))
                                .order_by(Alert.fired_at, Alert.id).limit(limit)).scalars())
