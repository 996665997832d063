"""Customers: one person behind authors on several networks."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, select

from brandpulse.core.errors import BrandpulseError
from store.models import Author, Customer, Mention


def link_authors_as_customer(session: Session, author_ids: list[int], display_name: str = "") -> Customer:
    """Make the authors one customer (merging customers they already belong to)."""
    authors = list(session.exec(select(Author).where(Author.id.in_(author_ids))))
    if len(authors) != len(set(author_ids)):
        raise BrandpulseError(f"authors {sorted(set(author_ids) - {a.id for a in authors})} do not exist")
    existing = sorted({a.customer_id for a in authors if a.customer_id})
    if existing:
        customer = session.get(Customer, existing[0])
        for other in existing[1:]:  # fold the other customers into the first
            session.execute(update(Author).where(Author.customer_id == other)
                            .values(customer_id=customer.id))
            session.delete(session.get(Customer, other))
    else:
        customer = Customer(display_name=display_name or authors[0].name or authors[0].handle)
        session.add(customer)
        session.flush()
    session.execute(update(Author).where(Author.id.in_(author_ids)).values(customer_id=customer.id))
    return customer


def which_authors_are_this_customer(session: Session, author_id: int) -> list[Author]:
    """The author and every author linked to the same customer."""
    author = session.get(Author, author_id)
    if author is None or author.customer_id is None:
        return [author] if author else []
    return list(session.exec(select(Author).where(Author.customer_id == author.customer_id)
                             .order_by(Author.network, Author.handle)))


def what_did_this_customer_say(session: Session, author_id: int, limit: int = 200) -> list[Mention]:
    """Mentions by the author and their linked authors on every network, newest first."""
    ids = [a.id for a in which_authors_are_this_customer(session, author_id)]
    return list(session.exec(select(Mention).where(Mention.author_id.in_(ids))
                             .order_by(Mention.created_at.desc()).limit(limit)))
