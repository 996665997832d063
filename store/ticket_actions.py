"""Changes to care tickets; every change lands in the ticket's event history with user and time."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session

from brandpulse.core.errors import NotFoundError, WorkflowError
from brandpulse.core.roles import CARE_ROLES
from store.models import Ticket, TicketEvent, TicketMention, User, utcnow
from store.tickets import CLOSED_STATUSES
from store.webhooks import enqueue_ticket_change

TRANSITIONS = {
    "new": {"assigned", "in_progress", "dismissed", "resolved"},
    "assigned": {"in_progress", "waiting_customer", "resolved", "dismissed", "new"},
    "in_progress": {"waiting_customer", "resolved", "dismissed", "assigned"},
    "waiting_customer": {"in_progress", "resolved", "dismissed"},
    "resolved": {"in_progress"},
    "dismissed": {"new"},
}


def get_ticket(session: Session, ticket_id: int, *, for_update: bool = False) -> Ticket:
    """The ticket, or NotFoundError; ``for_update`` locks its row until the transaction ends
    (PostgreSQL; on SQLite a no-op write takes the database's write lock first), so a version
    checked before a write is still the version written over."""
    if for_update and session.get_bind().dialect.name == "sqlite":
        session.execute(update(Ticket).where(Ticket.id == ticket_id).values(version=Ticket.version))
    ticket = session.get(Ticket, ticket_id, with_for_update=for_update or None, populate_existing=for_update)
    if ticket is None:
        raise NotFoundError(f"ticket #{ticket_id} does not exist; refresh the inbox")
    return ticket


def record_event(session: Session, ticket: Ticket, kind: str, user_id: int | None, *,
                 from_value: str | None = None, to_value: str | None = None,
                 body: str | None = None) -> TicketEvent:
    """Append one event to a ticket's history and touch the ticket (a new version of it)."""
    now = utcnow()
    event = TicketEvent(ticket_id=ticket.id, kind=kind, from_value=from_value, to_value=to_value,
                        body=body, user_id=user_id, created_at=now)
    session.add(event)
    ticket.updated_at = now
    ticket.version = (ticket.version or 0) + 1
    session.add(ticket)
    enqueue_ticket_change(session, ticket, kind, from_value, to_value)  # ticket.updated webhook, same transaction
    return event


def change_ticket_status(session: Session, ticket_id: int, status: str, user_id: int | None,
                         note: str | None = None) -> Ticket:
    """Move a ticket along its workflow, recording who did it and when."""
    ticket = get_ticket(session, ticket_id)
    allowed = TRANSITIONS.get(ticket.status, set())
    if status not in allowed:
        raise WorkflowError(f"ticket #{ticket_id} cannot go from {ticket.status!r} to {status!r}; "
                            f"from {ticket.status!r} it may go to: {', '.join(sorted(allowed))}")
    record_event(session, ticket, "status", user_id, from_value=ticket.status, to_value=status, body=note)
    ticket.status = status
    now = utcnow()  # only a published reply (or one recorded as given elsewhere) stops the first-response clock
    ticket.resolved_at = now if status in CLOSED_STATUSES else None
    return ticket


def assign_ticket(session: Session, ticket_id: int, assignee_id: int | None, user_id: int | None) -> Ticket:
    """Give a ticket to a care user (None: back to the team queue), recording the change."""
    ticket = get_ticket(session, ticket_id)
    if ticket.status in CLOSED_STATUSES:
        raise WorkflowError(f"ticket #{ticket_id} is {ticket.status}; reopen it before assigning it")
    names = _usernames(session, {ticket.assignee_id, assignee_id})
    if assignee_id is not None:
        assignee = session.get(User, assignee_id)
        if assignee is None or not assignee.active or assignee.role not in CARE_ROLES:
            raise NotFoundError(f"user #{assignee_id} is not an active care user; pick someone from the team")
    if assignee_id == ticket.assignee_id:
        return ticket
    record_event(session, ticket, "assigned", user_id, from_value=names.get(ticket.assignee_id),
                 to_value=names.get(assignee_id) or "team queue")
    ticket.assignee_id = assignee_id
    if assignee_id is not None and ticket.status == "new":
        ticket.status = "assigned"
    elif assignee_id is None and ticket.status == "assigned":
        ticket.status = "new"
    return ticket


def add_ticket_note(session: Session, ticket_id: int, body: str, user_id: int | None,
                    kind: str = "note") -> TicketEvent:
    """An internal note (or, with kind='draft', a reply draft) on a ticket."""
    body = body.strip()
    if not body:
        raise WorkflowError(f"the {kind} for ticket #{ticket_id} is empty; write something first")
    return record_event(session, get_ticket(session, ticket_id), kind, user_id, body=body)


def merge_into_ticket(session: Session, ticket_id: int, mention_id: int, reason: str) -> None:
    """Attach another mention of the same grievance to an open ticket."""
    ticket = get_ticket(session, ticket_id)
    session.add(TicketMention(mention_id=mention_id, ticket_id=ticket_id, reason=reason))
    record_event(session, ticket, "merged", None, to_value=str(mention_id), body=reason)


def ticket_history(session: Session, ticket_id: int) -> list[dict[str, Any]]:
    """Every event of a ticket, oldest first, with the name of the user who made it."""
    rows = session.execute(select(TicketEvent, User.username)
                           .outerjoin(User, User.id == TicketEvent.user_id)
                           .where(TicketEvent.ticket_id == ticket_id)
                           .order_by(TicketEvent.created_at, TicketEvent.id))
    return [{"at": event.created_at, "kind": event.kind, "user": username or "system",
             "from": event.from_value, "to": event.to_value, "body": event.body}
            for event, username in rows]


def _usernames(session: Session, ids: set[int | None]) -> dict[int, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    return dict(session.execute(select(User.id, User.username).where(User.id.in_(wanted))).all())
