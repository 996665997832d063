"""Care tickets page by page for the API: newest ticket first, each page strictly after the last id seen."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from store.models import Ticket
from store.tickets import ROW_KEYS, InboxQuery, _matching, _ticket_rows


def which_tickets_come_after(session: Session, query: InboxQuery, now: datetime, after_id: int | None,
                             limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` tickets of ``query`` (an inbox view, its reach and filters), highest id first,
    with an id below ``after_id`` when given; keys: store.tickets.ROW_KEYS. Tickets arriving while a
    client pages get higher ids, so pages never skip or repeat one."""
    statement = _matching(_ticket_rows(), query, now)
    if after_id is not None:
        statement = statement.where(Ticket.id < after_id)
    statement = statement.order_by(Ticket.id.desc()).limit(limit)
    return [dict(zip(ROW_KEYS, row)) for row in session.execute(statement)]
