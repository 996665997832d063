"""A source's daily spend, shared by every process on the database: reserved before a page, settled after.

Two workers reading the spend below the cap and both fetching a page would overshoot it, so a page's
worst-case cost is reserved first, under a lock on the source's spend: PostgreSQL takes a
transaction-scoped advisory lock, SQLite's first write (the row insert below) takes the database's
write lock. The reservation is committed before the page is fetched and settled to the real cost in
the page's own transaction; a process killed in between leaves it counted (the cap errs on the safe
side). Every change is one SQL UPDATE, so concurrent writers never lose each other's spend.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import case, func, or_, select, text, update
from sqlmodel import Session

from store.bulk import dialect_insert
from store.models import CollectorHealth

EPSILON = 1e-9  # float sums of cents must not refuse a page that exactly fits
SOURCE_WIDE_HOLDS = ("rate_limited", "usage_capped", "daily_cap")  # the network's limit, not a brand's


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_xact_lock`` (the same in every process)."""
    return int.from_bytes(hashlib.sha256(f"brandpulse:{name}".encode()).digest()[:8], "big", signed=True)


def _lock_source_spend(session: Session, source: str) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(f"spend:{source}")})


def _ensure_row(session: Session, source: str, brand: str) -> None:
    """The (source, brand) health row exists; on SQLite this first write takes the write lock."""
    session.execute(dialect_insert(session, CollectorHealth).values(
        source=source, brand=brand, items_last_run=0, items_total=0, state="ok", spend_today=0.0,
        spend_total=0.0).on_conflict_do_nothing(index_elements=["source", "brand"]))


def _spent(session: Session, source: str, day: str) -> float:
    return float(session.execute(select(func.coalesce(func.sum(CollectorHealth.spend_today), 0.0))
                                 .where(CollectorHealth.source == source, CollectorHealth.spend_day == day))
                 .scalar())


def reserve_spend(session: Session, source: str, brand: str, amount: float, day: str,
                  cap: float | None) -> tuple[bool, float]:
    """Reserve ``amount`` of the source's spend on ``day`` for (source, brand) unless it would take the
    source (all its brands, reservations of pages being read included) past ``cap``.

    (reserved?, what the source had spent and reserved before). Commit before fetching the page; settle
    with :func:`settle_spend` in the page's transaction, or give it back with ``actual=0``.
    """
    _lock_source_spend(session, source)
    _ensure_row(session, source, brand)
    spent = _spent(session, source, day)
    if cap is not None and spent + amount > cap + EPSILON:
        return False, spent
    session.execute(update(CollectorHealth)
                    .where(CollectorHealth.source == source, CollectorHealth.brand == brand)
                    .values(spend_today=case((CollectorHealth.spend_day == day, CollectorHealth.spend_today + amount),
                                             else_=amount), spend_day=day)
                    .execution_options(synchronize_session=False))
    return True, spent


def settle_spend(session: Session, source: str, brand: str, reserved: float, actual: float, day: str) -> None:
    """Replace a reservation made on ``day`` by the page's real cost (``actual``, 0 when nothing was read)."""
    session.execute(update(CollectorHealth)
                    .where(CollectorHealth.source == source, CollectorHealth.brand == brand)
                    .values(spend_total=CollectorHealth.spend_total + actual,
                            spend_today=case((CollectorHealth.spend_day == day,
                                              CollectorHealth.spend_today - reserved + actual),
                                             else_=CollectorHealth.spend_today))
                    .execution_options(synchronize_session=False))


def when_may_source_run(session: Session, source: str, brand: str,
                        now: datetime | None = None) -> tuple[datetime | None, str]:
    """(time before which the (source, brand) must not run, its state): its own hold, or a hold of the
    network's limits (rate limit, usage cap, daily cap) that another brand of the source met, whichever
    ends later. Every process reads the same rows, so a 429 one of them met holds them all."""
    rows = session.execute(select(CollectorHealth.brand, CollectorHealth.rate_limited_until, CollectorHealth.state)
                           .where(CollectorHealth.source == source,
                                  or_(CollectorHealth.brand == brand,
                                      CollectorHealth.state.in_(SOURCE_WIDE_HOLDS)))).all()
    own = next(((until, state) for name, until, state in rows if name == brand), (None, "ok"))
    held = [(until, state) for name, until, state in rows
            if name != brand and until is not None and (now is None or until > now)]
    latest = max(held, key=lambda hold: hold[0], default=None)
    if latest and (own[0] is None or latest[0] > own[0]):
        return latest
    return own
