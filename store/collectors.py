"""Collector cursors and connector health (spend and holds shared by processes: store/spend.py)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from store.models import CollectorCursor, CollectorGap, CollectorHealth, utcnow
from store.spend import reserve_spend, settle_spend, when_may_source_run  # noqa: F401 (re-exported)


def what_cursor_is_saved(session: Session, source: str, brand: str) -> str | None:
    """Where the (source, brand) stream left off, or None for a first run."""
    row = session.get(CollectorCursor, (source, brand))
    return row.cursor if row else None


def save_cursor(session: Session, source: str, brand: str, cursor: str | None) -> None:
    """Remember the stream position; call in the same transaction as the page it follows."""
    row = session.get(CollectorCursor, (source, brand)) or CollectorCursor(source=source, brand=brand)
    row.cursor = cursor
    row.updated_at = utcnow()
    session.add(row)


def _health(session: Session, source: str, brand: str) -> CollectorHealth:
    return session.get(CollectorHealth, (source, brand)) or CollectorHealth(source=source, brand=brand)


def record_collector_success(session: Session, source: str, brand: str, items: int,
                             next_run_at: datetime | None = None) -> None:
    """Note a successful pass and how many items it fetched."""
    health = _health(session, source, brand)
    now = utcnow()
    health.last_run_at = health.last_success_at = now
    health.items_last_run = items
    health.items_total += items
    health.rate_limited_until = None
    health.state = "ok"
    health.next_run_at = next_run_at
    session.add(health)


def record_collector_degraded(session: Session, source: str, brand: str, items: int, problems: str,
                              next_run_at: datetime | None = None) -> None:
    """Note a pass that ran to its end but met problems (a quarantined file, a failed part)."""
    record_collector_success(session, source, brand, items, next_run_at)
    health = _health(session, source, brand)
    health.state = "degraded"
    health.last_error_at = utcnow()
    health.last_error = problems[:4000]
    session.add(health)


def record_collector_failure(session: Session, source: str, brand: str, error: str,
                             rate_limited_until: datetime | None = None, state: str = "error") -> None:
    """Note a failed or held-back pass with its reason (and until when it must wait)."""
    health = _health(session, source, brand)
    health.last_run_at = health.last_error_at = utcnow()
    health.last_error = error[:4000]
    health.items_last_run = 0
    health.rate_limited_until = rate_limited_until
    health.state = state
    session.add(health)


def which_sources_report_health(session: Session) -> list[CollectorHealth]:
    """Health of every (source, brand) that has run."""
    return list(session.exec(select(CollectorHealth).order_by(CollectorHealth.source,
                                                              CollectorHealth.brand)))


def what_did_source_spend_today(session: Session, source: str, day: str) -> float:
    """Spend of a source over all its brands on a UTC day ('YYYY-MM-DD'), pages being read included."""
    rows = session.exec(select(CollectorHealth).where(CollectorHealth.source == source,
                                                      CollectorHealth.spend_day == day))
    return sum(row.spend_today for row in rows)


def record_spend(session: Session, source: str, brand: str, amount: float, day: str) -> None:
    """Add billed spend for today (in the same transaction as the page it paid for); one UPDATE, so
    processes recording at once never lose each other's spend."""
    reserve_spend(session, source, brand, 0.0, day, None)
    settle_spend(session, source, brand, 0.0, amount, day)


def record_gap(session: Session, source: str, brand: str, started_at: datetime, ended_at: datetime,
               backfilled_items: int) -> None:
    """Note that a source was down from ``started_at`` and what its recovery back-filled."""
    session.add(CollectorGap(source=source, brand=brand, started_at=started_at, ended_at=ended_at,
                             backfilled_items=backfilled_items))


def which_gaps_did_sources_have(session: Session, source: str | None = None) -> list[CollectorGap]:
    """Recorded outages, newest first."""
    statement = select(CollectorGap).order_by(CollectorGap.ended_at.desc())
    if source:
        statement = statement.where(CollectorGap.source == source)
    return list(session.exec(statement))


def when_did_source_last_succeed(session: Session, source: str, brand: str) -> datetime | None:
    """The last successful pass of a (source, brand)."""
    health = session.get(CollectorHealth, (source, brand))
    return health.last_success_at if health else None


def how_many_records_were_quarantined(session: Session) -> list[tuple[str, int, str]]:
    """(origin, count, latest reason) of quarantined records, most first."""
    from sqlalchemy import func

    from store.models import Quarantine

    rows = session.exec(select(Quarantine.origin, func.count(Quarantine.id), func.max(Quarantine.reason))
                        .group_by(Quarantine.origin).order_by(func.count(Quarantine.id).desc()))
    return [(origin, count, reason) for origin, count, reason in rows]
