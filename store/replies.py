"""The replies outbox: written with the ticket change that asks for it, claimed and published by workers.

States: ``awaiting_approval`` → ``queued`` → ``sending`` → ``published``; ``failed`` (the
network refused; a retry queues it again); ``declined`` (a lead refused it). A claim makes a
reply one worker's for a while; a worker killed mid-send leaves ``sending`` with its attempt
counted, and whoever claims it next must look on the network before sending again.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlmodel import Session

from brandpulse.core.errors import NotFoundError
from store.claiming import update_chosen
from store.models import Author, Mention, Reply, User, utcnow

OPEN_REPLY_STATES = ("awaiting_approval", "queued", "sending")
CLAIM_SECONDS = 120  # a worker's send must end (it has a timeout) well inside this


def enqueue_reply(session: Session, *, ticket_id: int, mention_id: int, network: str, account: str,
                  body: str, written_by: int | None, awaiting_approval: bool = False,
                  incident_id: int | None = None) -> Reply:
    """Write one reply to the outbox (in the caller's transaction) with a fresh idempotency key."""
    now = utcnow()
    reply = Reply(ticket_id=ticket_id, mention_id=mention_id, network=network, account=account,
                  body=body, idempotency_key=uuid.uuid4().hex, written_by=written_by,
                  incident_id=incident_id, status="awaiting_approval" if awaiting_approval else "queued",
                  next_attempt_at=None if awaiting_approval else now, created_at=now, updated_at=now)
    session.add(reply)
    session.flush()
    return reply


def get_reply(session: Session, reply_id: int) -> Reply:
    """The reply, or NotFoundError."""
    reply = session.get(Reply, reply_id)
    if reply is None:
        raise NotFoundError(f"reply #{reply_id} does not exist; refresh the ticket")
    return reply


def _claimable(now: datetime):
    return or_(
        (Reply.status == "queued") & or_(Reply.next_attempt_at.is_(None), Reply.next_attempt_at <= now),
        (Reply.status == "sending") & or_(Reply.claimed_until.is_(None), Reply.claimed_until < now),
    )


def claim_replies_to_publish(session: Session, limit: int, reply_id: int | None = None,
                             ttl_seconds: float = CLAIM_SECONDS) -> list[int]:
    """Claim due replies (queued and due, or ``sending`` whose claim lapsed), oldest first.

    Claiming counts an attempt and moves them to ``sending``: from here on a reply may reach
    the network. PostgreSQL skips rows another worker is claiming; SQLite's UPDATE is atomic.
    """
    now = utcnow()
    chosen = select(Reply.id).where(_claimable(now)).order_by(Reply.id).limit(limit)
    if reply_id is not None:
        chosen = chosen.where(Reply.id == reply_id)
    rows = update_chosen(session, Reply, chosen, {
        "status": "sending", "claimed_until": now + timedelta(seconds=ttl_seconds),
        "attempts": Reply.attempts + 1, "updated_at": now}, (Reply.id,))
    return sorted(row[0] for row in rows)


def what_does_this_reply_answer(session: Session, reply_id: int) -> dict[str, Any]:
    """The reply with the post it answers and that post's author (for a publisher)."""
    reply = get_reply(session, reply_id)
    mention = session.get(Mention, reply.mention_id)
    author = session.get(Author, mention.author_id) if mention and mention.author_id else None
    return {"reply": reply, "mention": mention, "author": author}


def what_post_does_this_ticket_answer(session: Session, ticket: Any) -> dict[str, Any]:
    """The post a ticket's reply answers (the ticket's own mention) and its author."""
    mention = session.get(Mention, ticket.mention_id)
    return {"mention": mention, "author": session.get(Author, mention.author_id) if mention.author_id else None}


def how_many_replies_were_published_since(session: Session, account: str, since: datetime) -> int:
    """Replies an account published since ``since`` (its per-minute budget)."""
    return session.execute(select(func.count()).select_from(Reply).where(
        Reply.account == account, Reply.status == "published", Reply.published_at >= since)).scalar_one()


def which_replies_has_this_ticket(session: Session, ticket_id: int) -> list[dict[str, Any]]:
    """Every reply of a ticket, oldest first, with who wrote and who approved it."""
    writer, approver = User.__table__.alias("writer"), User.__table__.alias("approver")
    rows = session.execute(select(Reply, writer.c.username, approver.c.username)
                           .outerjoin(writer, writer.c.id == Reply.written_by)
                           .outerjoin(approver, approver.c.id == Reply.approved_by)
                           .where(Reply.ticket_id == ticket_id).order_by(Reply.id))
    return [{**reply.model_dump(), "written_by_name": w or "system", "approved_by_name": a}
            for reply, w, a in rows]


def how_many_replies_by_status(session: Session) -> dict[str, int]:
    """Outbox counts per status (for doctor)."""
    return dict(session.execute(select(Reply.status, func.count()).group_by(Reply.status)).all())


def which_replies_are_in_the_outbox(session: Session, status: str | None, limit: int) -> list[dict[str, Any]]:
    """Replies newest first, optionally of one status."""
    statement = select(Reply).order_by(Reply.id.desc()).limit(limit)
    if status:
        statement = statement.where(Reply.status == status)
    return [reply.model_dump() for reply in session.execute(statement).scalars()]


def which_tickets_does_this_reply_answer(session: Session, reply: Reply) -> list[Any]:
    """The reply's ticket, and for an incident's reply every ticket of that incident by the same author
    (one public answer per author answers all of them)."""
    from store.models import Ticket

    ticket = session.get(Ticket, reply.ticket_id)
    if ticket is None:
        return []
    if reply.incident_id is None or ticket.author_id is None:
        return [ticket]
    return list(session.execute(select(Ticket).where(Ticket.incident_id == reply.incident_id,
                                                     Ticket.author_id == ticket.author_id)).scalars())


def which_replies_went_to_these_tickets(session: Session, ticket_ids: list[int], limit: int = 200) -> list[dict[str, Any]]:
    """Replies on the given tickets (not declined), newest first: the brand's side of a customer's timeline."""
    if not ticket_ids:
        return []
    rows = session.execute(select(Reply).where(Reply.ticket_id.in_(ticket_ids), Reply.status != "declined")
                           .order_by(Reply.created_at.desc()).limit(limit)).scalars()
    return [{"id": r.id, "ticket_id": r.ticket_id, "network": r.network, "account": r.account, "body": r.body,
             "status": r.status, "at": r.published_at or r.created_at, "url": r.published_url} for r in rows]
