"""Leases in the store, so two `brandpulse run` processes never collect one source at once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlmodel import Session

from store.bulk import dialect_insert
from store.models import Lease, utcnow


def take_lease(session: Session, name: str, holder: str, ttl_seconds: float) -> bool:
    """Take or renew the lease ``name`` for ``holder``; False while someone else holds it."""
    now = utcnow()
    statement = dialect_insert(session, Lease).values(name=name, holder=holder,
                                                      expires_at=now + timedelta(seconds=ttl_seconds))
    statement = statement.on_conflict_do_update(
        index_elements=["name"],
        set_={"holder": statement.excluded.holder, "expires_at": statement.excluded.expires_at},
        where=or_(Lease.expires_at < now, Lease.holder == holder))
    session.execute(statement)
    session.flush()
    return session.execute(select(Lease.holder).where(Lease.name == name)).scalar() == holder


def give_back_lease(session: Session, name: str, holder: str) -> None:
    """Release a lease early (only its holder can)."""
    session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))


def who_holds_lease(session: Session, name: str) -> tuple[str, datetime] | None:
    """(holder, expiry) of a live lease, or None."""
    row = session.execute(select(Lease.holder, Lease.expires_at).where(
        Lease.name == name, Lease.expires_at >= utcnow())).first()
    return (row[0], row[1]) if row else None
