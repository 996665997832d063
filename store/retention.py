"""Retention: which rows are past their configured age, and removing them in committed batches.

Each kind walks its rows in key order from a resume point, so a batch of ``size`` rows is found
through an index and never by re-reading rows already done; the caller commits each batch, and
a run that is stopped resumes where it left off (what was done is simply not found again).

- raw: mentions posted before the cutoff that still hold a raw payload → ``raw`` emptied.
- text: mentions posted before the cutoff, not yet erased → text, raw and search-index copy
  erased (reason ``retention``, the link kept); authors with no post since the cutoff and not
  updated since → profile fields emptied.
- alert quotes: alerts fired before the text cutoff keep their evidence but not the posts' text
  they quote (a quoted post is a dict with ``mention_id`` and ``text``).
- closed tickets: resolved or dismissed before the cutoff → deleted, with their events, notes,
  replies, viewers and mention links (ON DELETE CASCADE).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import and_, delete, exists, func, null, or_, select, true, tuple_, update
from sqlmodel import Session

from store.deletions import start_writing  # noqa: F401 (re-exported: each batch begins with it)
from store.erasure import close_erasure_run, erase_author_profiles, erase_mention_texts, open_erasure_run
from store.models_rights import Erasure
from store.models import (
    Alert,
    Author,
    Mention,
    Reply,
    Ticket,
    TicketEvent,
    TicketMention,
    TicketViewer,
)
from store.tickets import CLOSED_STATUSES

Resume = tuple[datetime, int] | None  # (created_at, id) of the last row of the previous batch


def _after(resume: Resume):
    """Mentions strictly after ``resume`` in (created_at, id) order; the range part lets the
    created_at index find the start."""
    if resume is None:
        return true()
    return and_(Mention.created_at >= resume[0], tuple_(Mention.created_at, Mention.id) > tuple_(*resume))


def which_mentions_hold_raw_before(session: Session, cutoff: datetime, resume: Resume,
                                   limit: int) -> list[tuple[datetime, int]]:
    """(created_at, id) of mentions posted before ``cutoff`` that still hold a raw payload."""
    return [tuple(row) for row in session.execute(
        select(Mention.created_at, Mention.id)
        .where(Mention.created_at < cutoff, _after(resume), Mention.raw.is_not(None))
        .order_by(Mention.created_at, Mention.id).limit(limit))]


def which_mentions_hold_text_before(session: Session, cutoff: datetime, resume: Resume,
                                    limit: int) -> list[tuple[datetime, int]]:
    """(created_at, id) of mentions posted before ``cutoff`` whose text is not erased yet."""
    return [tuple(row) for row in session.execute(
        select(Mention.created_at, Mention.id)
        .where(Mention.created_at < cutoff, _after(resume), Mention.erased_at.is_(None))
        .order_by(Mention.created_at, Mention.id).limit(limit))]


def which_authors_are_silent_since(session: Session, cutoff: datetime, after_id: int, limit: int) -> list[int]:
    """Ids (above ``after_id``) of authors with a profile kept, not updated and not posting since
    ``cutoff``: their profile fields are past retention."""
    newer_post = exists().where(Mention.author_id == Author.id, Mention.created_at >= cutoff)
    return list(session.execute(
        select(Author.id)
        .where(Author.id > after_id, Author.updated_at < cutoff,
               or_(Author.erased_at.is_(None), Author.erased_at < Author.updated_at), ~newer_post)
        .order_by(Author.id).limit(limit)).scalars())


def which_tickets_closed_before(session: Session, cutoff: datetime, after_id: int, limit: int) -> list[int]:
    """Ids (above ``after_id``) of tickets resolved or dismissed before ``cutoff``."""
    return list(session.execute(
        select(Ticket.id)
        .where(Ticket.id > after_id, Ticket.status.in_(CLOSED_STATUSES), Ticket.resolved_at < cutoff)
        .order_by(Ticket.id).limit(limit)).scalars())


def how_many_mentions_hold_raw_before(session: Session, cutoff: datetime, unerased_only: bool = False) -> int:
    """How many mentions posted before ``cutoff`` still hold a raw payload (and, with
    ``unerased_only``, their text)."""
    query = select(func.count()).select_from(Mention).where(Mention.created_at < cutoff, Mention.raw.is_not(None))
    if unerased_only:
        query = query.where(Mention.erased_at.is_(None))
    return session.execute(query).scalar_one()


def how_many_mentions_hold_text_before(session: Session, cutoff: datetime) -> int:
    """How many mentions posted before ``cutoff`` are not erased yet."""
    return session.execute(select(func.count()).select_from(Mention).where(
        Mention.created_at < cutoff, Mention.erased_at.is_(None))).scalar_one()


def how_many_authors_are_silent_since(session: Session, cutoff: datetime) -> int:
    """How many authors' profile fields are past retention (see which_authors_are_silent_since)."""
    newer_post = exists().where(Mention.author_id == Author.id, Mention.created_at >= cutoff)
    return session.execute(select(func.count()).select_from(Author).where(
        Author.updated_at < cutoff, or_(Author.erased_at.is_(None), Author.erased_at < Author.updated_at),
        ~newer_post)).scalar_one()


def how_many_tickets_closed_before(session: Session, cutoff: datetime) -> int:
    """How many tickets were resolved or dismissed before ``cutoff``."""
    return session.execute(select(func.count()).select_from(Ticket).where(
        Ticket.status.in_(CLOSED_STATUSES), Ticket.resolved_at < cutoff)).scalar_one()


def _without_quotes(value: Any) -> tuple[Any, int]:
    """``value`` with the text of every quoted post (a dict holding mention_id and text) emptied,
    and how many were."""
    if isinstance(value, list):
        parts = [_without_quotes(item) for item in value]
        return [part for part, _ in parts], sum(n for _, n in parts)
    if not isinstance(value, dict):
        return value, 0
    quoted = "mention_id" in value and isinstance(value.get("text"), str) and value["text"] != ""
    parts = {key: _without_quotes(item) for key, item in value.items() if not (quoted and key == "text")}
    out = {key: part for key, (part, _) in parts.items()}
    if quoted:
        out["text"] = ""
    return out, sum(n for _, n in parts.values()) + quoted


def which_alerts_fired_before(session: Session, cutoff: datetime, after_id: int, limit: int) -> list[int]:
    """Ids (above ``after_id``) of alerts fired before ``cutoff``."""
    return list(session.execute(select(Alert.id).where(Alert.id > after_id, Alert.fired_at < cutoff)
                                .order_by(Alert.id).limit(limit)).scalars())


def how_many_alerts_quote_posts_before(session: Session, cutoff: datetime) -> int:
    """How many alerts fired before ``cutoff`` still quote a post's text in their evidence."""
    rows = session.execute(select(Alert.evidence).where(Alert.fired_at < cutoff)).scalars()
    return sum(1 for evidence in rows if _without_quotes(evidence)[1])


def erase_alert_quotes(session: Session, alert_ids: Sequence[int]) -> int:
    """Empty the quoted posts' text in these alerts' evidence; return how many alerts changed."""
    changed = 0
    for alert_id, evidence in session.execute(select(Alert.id, Alert.evidence).where(Alert.id.in_(list(alert_ids)))):
        scrubbed, quotes = _without_quotes(evidence)
        if quotes:
            session.execute(update(Alert).where(Alert.id == alert_id).values(evidence=scrubbed)
                            .execution_options(synchronize_session=False))
            changed += 1
    return changed


def empty_raw(session: Session, mention_ids: Sequence[int]) -> int:
    """Empty the raw payload of these mentions; return how many changed."""
    return session.execute(update(Mention).where(Mention.id.in_(list(mention_ids)), Mention.raw.is_not(None))
                           .values(raw=null()).execution_options(synchronize_session=False)).rowcount


def erase_old_texts(session: Session, mention_ids: Sequence[int]) -> int:
    """Erase the text of these mentions for retention (the link is kept)."""
    return erase_mention_texts(session, mention_ids, "retention", keep_link=True)


def erase_old_profiles(session: Session, author_ids: Sequence[int]) -> int:
    """Empty these authors' profile fields for retention."""
    return erase_author_profiles(session, author_ids)


def delete_tickets(session: Session, ticket_ids: Sequence[int]) -> int:
    """Delete these tickets; their events, replies, viewers and mention links go with them."""
    ids = list(ticket_ids)
    if not ids:
        return 0
    # the children first, explicitly: the same on every backend whatever its foreign-key setting
    for child in (TicketEvent, TicketMention, Reply, TicketViewer):
        session.execute(delete(child).where(child.ticket_id.in_(ids)))
    return session.execute(delete(Ticket).where(Ticket.id.in_(ids))).rowcount


def open_retention_run(session: Session, actor: str, scope: str) -> int:
    """The audit row of a retention run, ``running`` until :func:`close_retention_run`; a row left
    running by a stopped run is taken up (its counts go on), so none stays running forever."""
    left = session.execute(select(Erasure.id).where(Erasure.kind == "retention", Erasure.status == "running")
                           .order_by(Erasure.id)).scalars().first()
    if left is None:
        return open_erasure_run(session, "retention", actor, scope)
    session.execute(update(Erasure).where(Erasure.id == left).values(scope=scope[:300]))
    return left


def count_retention_batch(session: Session, erasure_id: int, kind: str, rows: int) -> None:
    """Add a batch's rows to its run's audit row, in the batch's own transaction: a run stopped
    after any batch has counted exactly what it removed."""
    counts = dict(session.execute(select(Erasure.counts).where(Erasure.id == erasure_id)).scalar_one() or {})
    counts[kind] = counts.get(kind, 0) + rows
    session.execute(update(Erasure).where(Erasure.id == erasure_id).values(counts=counts))


def close_retention_run(session: Session, erasure_id: int) -> dict[str, int]:
    """Mark the run done and return its counts; a run that removed nothing leaves no row."""
    counts = session.execute(select(Erasure.counts).where(Erasure.id == erasure_id)).scalar_one() or {}
    if not any(counts.values()):
        session.execute(delete(Erasure).where(Erasure.id == erasure_id))
    else:
        close_erasure_run(session, erasure_id, counts)
    return counts
