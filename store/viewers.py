"""Who has a ticket open: each open ticket page refreshes its row, so collisions are visible."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from store.bulk import dialect_insert
from store.models import TicketViewer, User, utcnow


def note_ticket_viewer(session: Session, ticket_id: int, user_id: int) -> None:
    """Record that ``user_id`` has ``ticket_id`` open now."""
    now = utcnow()
    statement = dialect_insert(session, TicketViewer).values(ticket_id=ticket_id, user_id=user_id, seen_at=now)
    session.execute(statement.on_conflict_do_update(index_elements=["ticket_id", "user_id"],
                                                    set_={"seen_at": now}))


def who_else_has_this_ticket_open(session: Session, ticket_id: int, user_id: int,
                                  since: datetime) -> list[dict]:
    """Other users whose page showed the ticket since ``since``, most recent first."""
    rows = session.execute(select(User.username, TicketViewer.seen_at)
                           .join(User, User.id == TicketViewer.user_id)
                           .where(TicketViewer.ticket_id == ticket_id, TicketViewer.user_id != user_id,
                                  TicketViewer.seen_at >= since)
                           .order_by(TicketViewer.seen_at.desc()))
    return [{"username": name, "seen_at": seen} for name, seen in rows]
