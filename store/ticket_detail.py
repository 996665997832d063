"""Read side of one ticket: what it covers, the customer's history across networks, merge candidates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlmodel import Session

from store.customers import which_authors_are_this_customer
from store.models import (
    Analysis,
    Author,
    Brand,
    Mention,
    Ticket,
    TicketEvent,
    TicketMention,
    User,
)
from store.search import like_pattern
from store.ticket_actions import get_ticket
from store.tickets import OPEN_STATUSES


def what_does_this_ticket_cover(session: Session, ticket_id: int) -> dict[str, Any]:
    """The ticket with its brand, assignee, author and every mention it covers (oldest first)."""
    ticket = get_ticket(session, ticket_id)
    rows = session.execute(
        select(Mention, TicketMention.reason, Author.handle, Analysis.sentiment, Analysis.emotion)
        .join(TicketMention, TicketMention.mention_id == Mention.id)
        .outerjoin(Author, Author.id == Mention.author_id)
        .outerjoin(Analysis, Analysis.mention_id == Mention.id)
        .where(TicketMention.ticket_id == ticket_id).order_by(Mention.created_at))
    mentions = [{"id": m.id, "network": m.network, "created_at": m.created_at, "author": handle,
                 "text": m.text, "url": m.url, "reason": reason, "sentiment": sentiment,
                 "emotion": emotion} for m, reason, handle, sentiment, emotion in rows]
    return {"ticket": ticket,
            "brand": session.get(Brand, ticket.brand_id).name if ticket.brand_id else None,
            "assignee": session.get(User, ticket.assignee_id).username if ticket.assignee_id else None,
            "author": session.get(Author, ticket.author_id) if ticket.author_id else None,
            "mentions": mentions}


def what_is_this_customers_history(session: Session, author_id: int, *, before: datetime | None = None,
                                   exclude_ticket: int | None = None, limit: int = 100) -> dict[str, Any]:
    """The customer's linked authors, earlier mentions on every network, and their other tickets."""
    authors = which_authors_are_this_customer(session, author_id)
    ids = [a.id for a in authors]
    mentions = select(Mention, Author.handle, Analysis.sentiment, Analysis.primary_intent).join(
        Author, Author.id == Mention.author_id).outerjoin(Analysis, Analysis.mention_id == Mention.id
                                                          ).where(Mention.author_id.in_(ids))
    if before is not None:
        mentions = mentions.where(Mention.created_at <= before)
    mention_rows = [{"id": m.id, "created_at": m.created_at, "network": m.network, "author": handle,
                     "text": m.text, "url": m.url, "sentiment": sentiment, "intent": intent}
                    for m, handle, sentiment, intent in session.execute(
                        mentions.order_by(Mention.created_at.desc()).limit(limit))]
    last_note = (select(TicketEvent.body).where(TicketEvent.ticket_id == Ticket.id,
                                                TicketEvent.body.is_not(None),
                                                TicketEvent.kind.in_(("status", "note")))
                 .order_by(TicketEvent.created_at.desc(), TicketEvent.id.desc()).limit(1)
                 .scalar_subquery())
    tickets = select(Ticket, Mention.network, Mention.text, last_note).join(
        Mention, Mention.id == Ticket.mention_id).where(Ticket.author_id.in_(ids))
    if exclude_ticket is not None:
        tickets = tickets.where(Ticket.id != exclude_ticket)
    ticket_rows = [{"id": t.id, "created_at": t.created_at, "network": network, "status": t.status,
                    "intent": t.intent, "resolved_at": t.resolved_at, "text": text, "last_note": note,
                    "team": t.team, "assignee_id": t.assignee_id}
                   for t, network, text, note in session.execute(
                       tickets.order_by(Ticket.created_at.desc()).limit(limit))]
    return {"authors": authors, "mentions": mention_rows, "tickets": ticket_rows}


def which_authors_match(session: Session, handle: str, limit: int = 20) -> list[Author]:
    """Authors on any network whose handle or name contains ``handle`` literally (for linking
    customers): LIKE's ``%`` and ``_`` in ``handle`` match only themselves."""
    needle = like_pattern(handle.strip().lstrip("@"))
    return list(session.execute(select(Author).where(or_(Author.handle.ilike(needle, escape="\\"),
                                                         Author.name.ilike(needle, escape="\\")))
                                .order_by(func.length(Author.handle), Author.id).limit(limit)).scalars())


def whose_tickets_has_this_customer(session: Session, author_id: int) -> list[dict[str, Any]]:
    """Every ticket of the author and of the authors linked to the same customer: id, team, assignee."""
    ids = [a.id for a in which_authors_are_this_customer(session, author_id)]
    rows = session.execute(select(Ticket.id, Ticket.team, Ticket.assignee_id)
                           .where(Ticket.author_id.in_(ids)).order_by(Ticket.id))
    return [{"id": tid, "team": team, "assignee_id": assignee} for tid, team, assignee in rows]


def which_open_tickets_may_share_a_grievance(session: Session, brand_id: int,
                                             since: datetime) -> list[dict[str, Any]]:
    """Open tickets of a brand opened since ``since``, with what merging compares: author, thread, text."""
    rows = session.execute(
        select(Ticket.id, Ticket.author_id, Author.customer_id, Author.handle, Mention.network,
               Mention.conversation_id, Mention.text)
        .join(Mention, Mention.id == Ticket.mention_id)
        .outerjoin(Author, Author.id == Ticket.author_id)
        .where(Ticket.brand_id == brand_id, Ticket.status.in_(OPEN_STATUSES), Ticket.created_at >= since)
        .order_by(Ticket.id))
    keys = ("ticket_id", "author_id", "customer_id", "handle", "network", "conversation_id", "text")
    return [dict(zip(keys, row)) for row in rows]


def which_of_these_posts_have_tickets(session: Session, network: str, native_ids: list[str]) -> set[str]:
    """The native ids (of ``network``) among ``native_ids`` whose post is covered by a ticket."""
    if not native_ids:
        return set()
    return set(session.execute(select(Mention.native_id).join(TicketMention, TicketMention.mention_id == Mention.id)
                               .where(Mention.network == network, Mention.native_id.in_(native_ids))).scalars())
