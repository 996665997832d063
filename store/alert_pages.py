"""Alerts page by page for the API: newest alert first, each page strictly after the last id seen."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import select
from sqlmodel import Session

from brandpulse.core.errors import NotFoundError
from store.models import Alert, Brand, User

KEYS = ("id", "brand", "rule", "severity", "title", "evidence", "window_start", "window_end", "fired_at",
        "acknowledged_at", "acknowledged_by", "delivered_at")


def _rows():
    return (select(Alert.id, Brand.name, Alert.rule, Alert.severity, Alert.title, Alert.evidence,
                   Alert.window_start, Alert.window_end, Alert.fired_at, Alert.acknowledged_at, User.username,
                   Alert.delivered_at)
            .outerjoin(Brand, Brand.id == Alert.brand_id).outerjoin(User, User.id == Alert.acknowledged_by))


def which_alerts_come_after(session: Session, *, brand_ids: Sequence[int] = (), since: datetime | None = None,
                            rules: Sequence[str] = (), acknowledged: bool | None = None,
                            after_id: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Up to ``limit`` alerts, highest id first, below ``after_id`` when given: of these brands, fired
    at or after ``since``, of these rules, acknowledged or not (empty/None filters nothing)."""
    statement = _rows()
    if brand_ids:
        statement = statement.where(Alert.brand_id.in_(list(brand_ids)))
    if since is not None:
        statement = statement.where(Alert.fired_at >= since)
    if rules:
        statement = statement.where(Alert.rule.in_(list(rules)))
    if acknowledged is not None:
        statement = statement.where(Alert.acknowledged_at.is_not(None) if acknowledged
                                    else Alert.acknowledged_at.is_(None))
    if after_id is not None:
        statement = statement.where(Alert.id < after_id)
    return [dict(zip(KEYS, row)) for row in session.execute(statement.order_by(Alert.id.desc()).limit(limit))]


def which_alert_is(session: Session, alert_id: int) -> dict[str, Any]:
    """One alert with its brand's name and who acknowledged it, or NotFoundError."""
    row = session.execute(_rows().where(Alert.id == alert_id)).first()
    if row is None:
        raise NotFoundError(f"alert #{alert_id} does not exist; list the alerts to find its id")
    return dict(zip(KEYS, row))
