"""Incidents: many complaints with one cause, worked as one (one status, one answer, one resolution).

A ticket belongs to at most one incident (``tickets.incident_id``). An incident is open or
monitoring until it is resolved; a ticket of a resolved incident may join a new one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import and_, func, or_, select
from sqlmodel import Session

from brandpulse.core.errors import NotFoundError
from store.models import Alert, Author, Brand, Incident, Mention, Reply, Ticket, User, utcnow
from store.tickets import OPEN_STATUSES

INCIDENT_STATUSES = ("open", "monitoring", "resolved")
ACTIVE_INCIDENT_STATUSES = ("open", "monitoring")


def add_incident(session: Session, *, title: str, cause: str, brand_id: int | None,
                 created_by: int | None) -> Incident:
    """Write a new open incident (in the caller's transaction) and return it with its id."""
    now = utcnow()
    incident = Incident(title=title, cause=cause, brand_id=brand_id, created_by=created_by,
                        status="open", created_at=now, updated_at=now)
    session.add(incident)
    session.flush()
    return incident


def get_incident(session: Session, incident_id: int) -> Incident:
    """The incident, or NotFoundError."""
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFoundError(f"incident #{incident_id} does not exist; `brandpulse incidents list` "
                            "or the Incidents page shows the open ones")
    return incident


def what_is_this_incident(session: Session, incident_id: int) -> dict[str, Any]:
    """The incident's fields with its brand's name (``brand``), or NotFoundError."""
    incident = get_incident(session, incident_id)
    brand = session.get(Brand, incident.brand_id) if incident.brand_id else None
    return {**incident.model_dump(), "brand": brand.name if brand else None}


def which_incident_holds_these_tickets(session: Session, ticket_ids: Sequence[int]) -> dict[int, Incident]:
    """ticket id -> the open or monitoring incident it belongs to (tickets in none are left out)."""
    if not ticket_ids:
        return {}
    rows = session.execute(select(Ticket.id, Incident).join(Incident, Incident.id == Ticket.incident_id)
                           .where(Ticket.id.in_(list(ticket_ids)),
                                  Incident.status.in_(ACTIVE_INCIDENT_STATUSES)))
    return {ticket_id: incident for ticket_id, incident in rows}


def which_complaints_could_join_an_incident(session: Session, since: datetime,
                                            brand_id: int | None = None) -> list[dict[str, Any]]:
    """Open complaint tickets posted since ``since`` that belong to no open incident, oldest post first:
    each with its brand, author, post (network, time, text), team and assignee."""
    statement = (
        select(Ticket.id, Ticket.brand_id, Brand.name, Ticket.author_id, Author.handle, Mention.network,
               Mention.created_at, Mention.text, Ticket.team, Ticket.assignee_id, Ticket.priority)
        .join(Mention, Mention.id == Ticket.mention_id)
        .outerjoin(Author, Author.id == Ticket.author_id)
        .outerjoin(Brand, Brand.id == Ticket.brand_id)
        .outerjoin(Incident, Incident.id == Ticket.incident_id)
        .where(Ticket.status.in_(OPEN_STATUSES), Ticket.intent == "complaint", Mention.created_at >= since,
               or_(Ticket.incident_id.is_(None), Incident.status == "resolved"))
        .order_by(Mention.created_at, Ticket.id))
    if brand_id is not None:
        statement = statement.where(Ticket.brand_id == brand_id)
    keys = ("id", "brand_id", "brand", "author_id", "handle", "network", "posted_at", "text", "team",
            "assignee_id", "priority")
    return [dict(zip(keys, row)) for row in session.execute(statement)]


def which_burst_alerts_ended_since(session: Session, since: datetime, rules: Sequence[str],
                                   brand_id: int | None = None) -> list[Alert]:
    """Alerts of ``rules`` whose window ended at or after ``since``, by brand and window start."""
    statement = (select(Alert).where(Alert.rule.in_(list(rules)), Alert.window_end >= since,
                                     Alert.brand_id.is_not(None))
                 .order_by(Alert.brand_id, Alert.window_start, Alert.id))
    if brand_id is not None:
        statement = statement.where(Alert.brand_id == brand_id)
    return list(session.execute(statement).scalars())


def _open_ticket_filter(team: str | None, reach: tuple[str | None, int] | None):
    wanted = [Ticket.incident_id == Incident.id, Ticket.status.in_(OPEN_STATUSES)]
    if team:
        wanted.append(Ticket.team == team)
    if reach is not None:
        team_of, user_id = reach
        wanted.append(or_(Ticket.assignee_id == user_id, *([Ticket.team == team_of] if team_of else [])))
    return and_(*wanted)


def which_incidents_are_open(session: Session, team: str | None = None,
                             reach: tuple[str | None, int] | None = None,
                             include_resolved: bool = False) -> list[dict[str, Any]]:
    """Open and monitoring incidents (all, with ``include_resolved``), newest first: id, title,
    status, cause, brand, tickets (its open tickets), first_posted_at, max_priority, created_at.

    ``team`` or ``reach`` = (team, user id) count only those open tickets (as
    store.tickets.which_tickets_are_open does) and leave out incidents with none of them.
    """
    tickets = func.count(Ticket.id)
    statement = (
        select(Incident.id, Incident.title, Incident.status, Incident.cause, Brand.name, tickets,
               func.min(Mention.created_at), func.max(Ticket.priority), Incident.created_at,
               Incident.resolved_at)
        .outerjoin(Brand, Brand.id == Incident.brand_id)
        .outerjoin(Ticket, _open_ticket_filter(team, reach))
        .outerjoin(Mention, Mention.id == Ticket.mention_id)
        .group_by(Incident.id, Incident.title, Incident.status, Incident.cause, Brand.name,
                  Incident.created_at, Incident.resolved_at)
        .order_by(Incident.created_at.desc(), Incident.id.desc()))
    if not include_resolved:
        statement = statement.where(Incident.status.in_(ACTIVE_INCIDENT_STATUSES))
    if team or reach is not None:
        statement = statement.having(tickets > 0)
    keys = ("id", "title", "status", "cause", "brand", "tickets", "first_posted_at", "max_priority",
            "created_at", "resolved_at")
    return [dict(zip(keys, row)) for row in session.execute(statement)]


def which_tickets_are_in_this_incident(session: Session, incident_id: int) -> list[dict[str, Any]]:
    """Every ticket of an incident, newest post first, with its post, author, brand and assignee."""
    rows = session.execute(
        select(Ticket, Mention.network, Mention.created_at, Mention.text, Mention.url, Author.handle,
               Brand.name, User.username)
        .join(Mention, Mention.id == Ticket.mention_id)
        .outerjoin(Author, Author.id == Ticket.author_id)
        .outerjoin(Brand, Brand.id == Ticket.brand_id)
        .outerjoin(User, User.id == Ticket.assignee_id)
        .where(Ticket.incident_id == incident_id)
        .order_by(Mention.created_at.desc(), Ticket.id.desc()))
    keys = ("ticket", "network", "posted_at", "text", "url", "author", "brand", "assignee")
    return [dict(zip(keys, row)) for row in rows]


def which_replies_did_this_incident_send(session: Session, incident_id: int) -> list[Reply]:
    """The replies written for an incident's public answer, oldest first."""
    return list(session.execute(select(Reply).where(Reply.incident_id == incident_id)
                                .order_by(Reply.id)).scalars())


def which_tickets_are_these(session: Session, ticket_ids: Sequence[int], lock: bool = False) -> dict[int, Ticket]:
    """ticket id -> ticket, for the ids that exist. ``lock``: held until the transaction ends (on
    PostgreSQL; SQLite's single writer refuses the later of two racing writes), so two leads grouping
    the same ticket at once cannot both take it."""
    if not ticket_ids:
        return {}
    statement = select(Ticket).where(Ticket.id.in_(list(ticket_ids))).order_by(Ticket.id)
    if lock:
        statement = statement.with_for_update()
    return {t.id: t for t in session.execute(statement).scalars()}
