"""Customers as partners know them: by external id, identities with evidence, events, one timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, true, update
from sqlmodel import Session

from store.bulk import dialect_insert
from store.models import Analysis, Author, Customer, Mention, Reply, Ticket, utcnow
from store.models_api import CustomerEvent, CustomerIdentity


def which_customer_has_external_id(session: Session, external_id: str) -> Customer | None:
    """The customer a partner calls ``external_id``, or None."""
    return session.execute(select(Customer).where(Customer.external_id == external_id)).scalars().first()


def add_customer_unless_known(session: Session, external_id: str, display_name: str) -> tuple[Customer, bool]:
    """The customer called ``external_id``, made now if new (safe against a concurrent maker): (it, made)."""
    made = session.execute(dialect_insert(session, Customer).on_conflict_do_nothing(index_elements=["external_id"])
                           .returning(Customer.id),
                           {"external_id": external_id, "display_name": display_name, "created_at": utcnow(),
                            "updated_at": utcnow()}).first()
    return which_customer_has_external_id(session, external_id), bool(made)


def add_identity_unless_owned(session: Session, customer_id: int, kind: str, value: str,
                              evidence: str) -> tuple[CustomerIdentity, bool]:
    """Record the identity for the customer unless someone owns it already: (it as stored, made now)."""
    made = session.execute(dialect_insert(session, CustomerIdentity).on_conflict_do_nothing(
        index_elements=["kind", "value"]).returning(CustomerIdentity.id),
        {"customer_id": customer_id, "kind": kind, "value": value, "evidence": evidence,
         "created_at": utcnow()}).first()
    return session.execute(select(CustomerIdentity).where(CustomerIdentity.kind == kind,
                                                          CustomerIdentity.value == value)).scalars().one(), bool(made)


def which_identities_has_this_customer(session: Session, customer_id: int) -> list[CustomerIdentity]:
    """The customer's identities, by kind and value."""
    return list(session.execute(select(CustomerIdentity).where(CustomerIdentity.customer_id == customer_id)
                                .order_by(CustomerIdentity.kind, CustomerIdentity.value)).scalars())


def which_authors_are_this_customer(session: Session, customer_id: int) -> list[Author]:
    """The authors linked to the customer, by network and handle."""
    return list(session.execute(select(Author).where(Author.customer_id == customer_id)
                                .order_by(Author.network, Author.handle, Author.id)).scalars())


def which_authors_have_handle(session: Session, network: str, handles: list[str]) -> list[Author]:
    """Authors of ``network`` whose handle is one of ``handles``, ignoring case."""
    return list(session.execute(select(Author).where(
        Author.network == network, func.lower(Author.handle).in_([h.lower() for h in handles]))
        .order_by(Author.id)).scalars())


def link_author_to_customer(session: Session, author_id: int, customer_id: int) -> None:
    """Make the author one of the customer's accounts."""
    session.execute(update(Author).where(Author.id == author_id).values(customer_id=customer_id))


def fold_customer_into(session: Session, old_id: int, new_id: int) -> None:
    """Move every author of customer ``old_id`` to ``new_id`` and remove ``old_id``."""
    session.execute(update(Author).where(Author.customer_id == old_id).values(customer_id=new_id))
    session.execute(delete(Customer).where(Customer.id == old_id))


def which_event_ids_were_seen(session: Session, source: str, source_ids: list[str]) -> set[str]:
    """Those of ``source_ids`` already stored for ``source``."""
    if not source_ids:
        return set()
    return set(session.execute(select(CustomerEvent.source_id).where(
        CustomerEvent.source == source, CustomerEvent.source_id.in_(source_ids))).scalars())


def add_customer_events(session: Session, rows: list[dict[str, Any]]) -> None:
    """Store events; one whose (source, source_id) a concurrent request stored first is skipped."""
    if rows:
        session.execute(dialect_insert(session, CustomerEvent).on_conflict_do_nothing(
            index_elements=["source", "source_id"]), rows)


def _after(at_column, id_column, kind: str, after: tuple[datetime, str, int] | None):
    """The keyset condition for rows of ``kind`` after key (at, kind, id), newest first."""
    if after is None:
        return true()
    at, last_kind, last_id = after
    if kind < last_kind:
        return at_column <= at
    if kind > last_kind:
        return at_column < at
    return or_(at_column < at, and_(at_column == at, id_column < last_id))


def which_posts_come_after(session: Session, author_ids: list[int], after, limit: int) -> list[dict[str, Any]]:
    """The authors' posts, newest first, after the timeline key."""
    rows = session.execute(
        select(Mention.id, Mention.created_at, Mention.network, Author.handle, Mention.text, Mention.url,
               Analysis.sentiment).join(Author, Author.id == Mention.author_id)
        .outerjoin(Analysis, Analysis.mention_id == Mention.id)
        .where(Mention.author_id.in_(author_ids), _after(Mention.created_at, Mention.id, "post", after))
        .order_by(Mention.created_at.desc(), Mention.id.desc()).limit(limit))
    return [{"kind": "post", "id": i, "at": at, "network": network, "author": handle, "text": text, "url": url,
             "sentiment": sentiment} for i, at, network, handle, text, url, sentiment in rows]


def which_tickets_have_these_authors(session: Session, author_ids: list[int]) -> list[dict[str, Any]]:
    """Every ticket of the authors, newest first (with team and assignee, for care reach)."""
    rows = session.execute(
        select(Ticket.id, Ticket.created_at, Mention.network, Mention.text, Ticket.status, Ticket.intent,
               Ticket.team, Ticket.assignee_id).join(Mention, Mention.id == Ticket.mention_id)
        .where(Ticket.author_id.in_(author_ids))
        .order_by(Ticket.created_at.desc(), Ticket.id.desc()))
    keys = ("id", "at", "network", "text", "status", "intent", "team", "assignee_id")
    return [{"kind": "ticket", **dict(zip(keys, row))} for row in rows]


def which_replies_come_after(session: Session, ticket_ids: list[int], after, limit: int) -> list[dict[str, Any]]:
    """The brand's published or queued replies on the tickets, newest first, after the timeline key."""
    if not ticket_ids:
        return []
    at = func.coalesce(Reply.published_at, Reply.created_at)
    rows = session.execute(
        select(Reply.id, at, Reply.network, Reply.account, Reply.body, Reply.status, Reply.ticket_id,
               Reply.published_url)
        .where(Reply.ticket_id.in_(ticket_ids), Reply.status.in_(("published", "queued", "sending")),
               _after(at, Reply.id, "reply", after))
        .order_by(at.desc(), Reply.id.desc()).limit(limit))
    return [{"kind": "reply", "id": i, "at": when, "network": network, "author": account, "text": body,
             "status": status, "ticket_id": ticket_id, "url": url}
            for i, when, network, account, body, status, ticket_id, url in rows]


def which_events_come_after(session: Session, customer_id: int, after, limit: int) -> list[dict[str, Any]]:
    """The customer's events from other systems, newest first, after the timeline key."""
    rows = session.execute(
        select(CustomerEvent).where(CustomerEvent.customer_id == customer_id,
                                    _after(CustomerEvent.occurred_at, CustomerEvent.id, "event", after))
        .order_by(CustomerEvent.occurred_at.desc(), CustomerEvent.id.desc()).limit(limit)).scalars()
    return [{"kind": "event", "id": e.id, "at": e.occurred_at, "type": e.type, "properties": e.properties,
             "source": e.source, "source_id": e.source_id} for e in rows]


def how_did_these_authors_feel_since(session: Session, author_ids: list[int], since: datetime) -> list[tuple]:
    """(posted at, sentiment) of the authors' analysed posts since ``since``."""
    return list(session.execute(
        select(Mention.created_at, Analysis.sentiment).join(Analysis, Analysis.mention_id == Mention.id)
        .where(Mention.author_id.in_(author_ids), Mention.created_at >= since,
               Analysis.sentiment.is_not(None))))


def remove_identity(session: Session, customer_id: int, kind: str, value: str) -> CustomerIdentity | None:
    """Delete the customer's identity (kind, value) and return it as it was, or None when not theirs."""
    found = session.execute(select(CustomerIdentity).where(
        CustomerIdentity.customer_id == customer_id, CustomerIdentity.kind == kind,
        CustomerIdentity.value == value)).scalars().first()
    if found is not None:
        session.execute(delete(CustomerIdentity).where(CustomerIdentity.id == found.id))
    return found


def unlink_authors_from_customer(session: Session, customer_id: int, author_ids: list[int]) -> int:
    """Make these authors no longer the customer's accounts; return how many were unlinked."""
    if not author_ids:
        return 0
    return session.execute(update(Author).where(Author.customer_id == customer_id, Author.id.in_(author_ids))
                           .values(customer_id=None)).rowcount
