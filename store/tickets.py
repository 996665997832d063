"""Care tickets and their event history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import and_, func, or_, select
from sqlmodel import Session

from store.bulk import dialect_insert
from store.models import (
    Analysis,
    Author,
    Brand,
    Mention,
    MentionBrand,
    Ticket,
    TicketEvent,
    TicketMention,
    User,
    utcnow,
)

OPEN_STATUSES = ("new", "assigned", "in_progress", "waiting_customer")
CLOSED_STATUSES = ("resolved", "dismissed")


@dataclass
class TicketCandidate:
    """An analysed mention about an own brand that deserves a ticket."""
    mention_id: int
    brand_id: int
    brand: str
    author_id: int | None
    followers: int | None
    network: str
    language: str | None
    created_at: datetime
    likes: int
    replies: int
    reposts: int
    complaint: bool
    complaint_score: float | None
    sentiment_negative: float | None
    severity: str | None
    primary_intent: str | None
    text: str = ""
    conversation_id: str | None = None
    customer_id: int | None = None
    handle: str | None = None
    entities: list[dict[str, str]] | None = None

    @property
    def aspects(self) -> set[str]:
        return {e["text"] for e in self.entities or () if e.get("label") == "ASPECT"}


def which_mentions_need_tickets(session: Session, intents: Sequence[str], since: datetime,
                                limit: int = 5000) -> list[TicketCandidate]:
    """Analysed complaints/questions about own brands, posted after ``since``, with no ticket."""
    wanted = [Analysis.primary_intent.in_(list(intents))]
    if "complaint" in intents:
        wanted.append(Analysis.complaint.is_(True))
    statement = (
        select(Mention.id, Brand.id, Brand.name, Mention.author_id, Author.followers, Mention.network,
               Analysis.language, Mention.created_at, Mention.likes, Mention.replies, Mention.reposts,
               Analysis.complaint, Analysis.complaint_score, Analysis.sentiment_negative,
               Analysis.severity, Analysis.primary_intent, Mention.text, Mention.conversation_id,
               Author.customer_id, Author.handle, Analysis.entities)
        .join(Analysis, Analysis.mention_id == Mention.id)
        .join(MentionBrand, MentionBrand.mention_id == Mention.id)
        .join(Brand, and_(Brand.id == MentionBrand.brand_id, Brand.is_competitor.is_(False)))
        .outerjoin(Author, Author.id == Mention.author_id)
        .outerjoin(TicketMention, TicketMention.mention_id == Mention.id)
        .where(TicketMention.ticket_id.is_(None), Mention.created_at >= since, or_(*wanted))
        .order_by(Mention.created_at).limit(limit))
    seen: set[int] = set()
    out = []
    for row in session.execute(statement):
        if row[0] not in seen:  # a mention about two own brands gets one ticket
            seen.add(row[0])
            out.append(TicketCandidate(*row))
    return out


def open_tickets(session: Session, tickets: Sequence[dict[str, Any]]) -> int:
    """Insert new tickets (one per mention) with a 'created' event each; return how many."""
    if not tickets:
        return 0
    mention_ids = [t["mention_id"] for t in tickets]
    before = set(session.execute(select(Ticket.mention_id)
                                 .where(Ticket.mention_id.in_(mention_ids))).scalars())
    session.execute(dialect_insert(session, Ticket).on_conflict_do_nothing(), list(tickets))
    created = session.execute(select(Ticket.id, Ticket.mention_id, Ticket.team, User.username)
                              .outerjoin(User, User.id == Ticket.assignee_id)
                              .where(Ticket.mention_id.in_(mention_ids))).all()
    events, covered = [], []
    for ticket_id, mention_id, team, assignee in created:
        if mention_id in before:
            continue
        covered.append({"mention_id": mention_id, "ticket_id": ticket_id, "reason": "opened",
                        "added_at": utcnow()})
        events.append({"ticket_id": ticket_id, "kind": "created", "to_value": team,
                       "created_at": utcnow()})
        if assignee:
            events.append({"ticket_id": ticket_id, "kind": "assigned", "to_value": assignee,
                           "body": "auto-assigned (fewest open tickets)", "created_at": utcnow()})
    if covered:
        session.execute(dialect_insert(session, TicketMention).on_conflict_do_nothing(), covered)
    if events:
        session.execute(dialect_insert(session, TicketEvent), events)
    return len(created) - len(before)


def which_tickets_cover(session: Session, mention_ids: Sequence[int]) -> dict[int, int]:
    """mention id -> the id of the ticket covering it, for the mentions that have one."""
    if not mention_ids:
        return {}
    return dict(session.execute(select(TicketMention.mention_id, TicketMention.ticket_id)
                                .where(TicketMention.mention_id.in_(list(mention_ids)))).all())


def who_has_fewest_open_tickets(session: Session, team: str) -> int | None:
    """The active care agent of ``team`` with the fewest open tickets (None if the team is empty)."""
    open_count = (select(func.count(Ticket.id)).where(Ticket.assignee_id == User.id,
                                                      Ticket.status.in_(OPEN_STATUSES))
                  .scalar_subquery())
    row = session.execute(select(User.id).where(User.team == team, User.active.is_(True),
                                                User.role.in_(("care_agent", "care_lead")))
                          .order_by(open_count, User.id).limit(1)).first()
    return row[0] if row else None


def which_tickets_are_open(session: Session, team: str | None = None, *, assignee_id: int | None = None,
                           unassigned: bool = False, statuses: Sequence[str] = OPEN_STATUSES,
                           newest_first: bool = False, limit: int = 200,
                           reach: tuple[str | None, int] | None = None) -> list[dict[str, Any]]:
    """Tickets in ``statuses`` (default: open), highest priority (or last changed) first.

    ``reach`` = (team, user id) keeps only tickets of that team or assigned to that user.
    """
    statement = (select(Ticket, Mention.text, Mention.network, Mention.url, Author.handle,
                        Brand.name, User.username)
                 .join(Mention, Mention.id == Ticket.mention_id)
                 .outerjoin(Author, Author.id == Ticket.author_id)
                 .outerjoin(Brand, Brand.id == Ticket.brand_id)
                 .outerjoin(User, User.id == Ticket.assignee_id)
                 .where(Ticket.status.in_(list(statuses)))
                 .order_by(*((Ticket.updated_at.desc(), Ticket.id.desc()) if newest_first
                             else (Ticket.priority.desc(), Ticket.id))).limit(limit))
    if team:
        statement = statement.where(Ticket.team == team)
    if assignee_id is not None:
        statement = statement.where(Ticket.assignee_id == assignee_id)
    if unassigned:
        statement = statement.where(Ticket.assignee_id.is_(None))
    if reach is not None:
        team_of, user_id = reach
        statement = statement.where(or_(Ticket.assignee_id == user_id,
                                        *([Ticket.team == team_of] if team_of is not None else [])))
    keys = ("ticket", "text", "network", "url", "author", "brand", "assignee")
    return [dict(zip(keys, row)) for row in session.execute(statement)]


def how_many_tickets_by_status(session: Session) -> dict[str, int]:
    """Ticket counts per status."""
    rows = session.execute(select(Ticket.status, func.count()).group_by(Ticket.status))
    return {status: count for status, count in rows}


def how_did_care_do(session: Session, brand_id: int, since: datetime, until: datetime) -> dict[str, int]:
    """Tickets of a brand opened in a period, how many are resolved, and first-response SLA breaches."""
    opened = (Ticket.brand_id == brand_id, Ticket.created_at >= since, Ticket.created_at < until)
    late = or_(and_(Ticket.first_response_at.is_(None), Ticket.first_response_due < until),
               Ticket.first_response_at > Ticket.first_response_due)
    total, resolved, breached = session.execute(select(
        func.count(Ticket.id), func.count(Ticket.id).filter(Ticket.status.in_(CLOSED_STATUSES)),
        func.count(Ticket.id).filter(late)).where(*opened)).one()
    return {"opened": total, "closed": resolved, "first_response_breached": breached}
