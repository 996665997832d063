"""Answering customers: replies written on a ticket, approved when the team asks for it, sent by the outbox.

An agent's reply is checked (the ticket is the version the agent opened, the brand has an
account on that network, the network allows this reply) and written to the outbox in the same
transaction as the ticket's history entry; ``brandpulse.services.publishing`` sends it. Every function
re-reads the actor and checks care reach, like ``brandpulse.services.care``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from brandpulse.services.access import Actor, may
from brandpulse.services.accounts import authorize
from brandpulse.services.care import reach_ticket
from brandpulse.core.errors import StaleTicketError, WorkflowError
from brandpulse.core.settings import Settings
from brandpulse.core.settings_replies import ReplyAccount
from publishers.base import ReplyTarget
from publishers.rules import MAX_REPLY_CHARS, reply_length_problem, reply_restriction
from store.engine import session_scope
from store.models import Reply, Ticket, utcnow
from store.replies import (
    enqueue_reply,
    get_reply,
    what_post_does_this_ticket_answer,
    which_replies_has_this_ticket,
)
from store.ticket_actions import get_ticket, record_event
from store.ticket_detail import what_does_this_ticket_cover
from store.tickets import CLOSED_STATUSES
from store.viewers import note_ticket_viewer, who_else_has_this_ticket_open

VIEWER_SECONDS = 60  # someone counts as "also open" for this long after their page last refreshed


def account_for(settings: Settings, brand: str | None, network: str) -> ReplyAccount | None:
    """The brand's reply account on ``network`` (care.reply_accounts), if one is configured."""
    return next((a for a in settings.care.reply_accounts if a.brand == brand and a.network == network), None)


def target_of(mention: Any, author: Any) -> ReplyTarget:
    """The stored post as a publisher's target."""
    return ReplyTarget(network=mention.network, native_id=mention.native_id, url=mention.url,
                       author_handle=author.handle if author else None, text=mention.text,
                       conversation_id=mention.conversation_id, in_reply_to_id=mention.in_reply_to_id,
                       raw=mention.raw if isinstance(mention.raw, dict) else None)


def _why_not(settings: Settings, brand: str | None, mention: Any, author: Any) -> tuple[ReplyAccount | None, str | None]:
    account = account_for(settings, brand, mention.network)
    if account is None:
        return None, (f"{brand or 'this brand'} has no reply account on {mention.network}; an admin adds "
                      f"one under care.reply_accounts in config.yaml (or answer elsewhere and mark it)")
    return account, reply_restriction(mention.network, account.handle, target_of(mention, author))


def _approval_needed(settings: Settings, actor: Actor, team: str) -> bool:
    wanted = next((t.approval for t in settings.care.teams if t.name == team), False)
    return wanted and not may(actor, "reply.approve")


def reply_options(settings: Settings, actor: Actor, ticket_id: int) -> dict[str, Any]:
    """What the reply box needs before the agent types: the account, why a reply is impossible
    (or None), the length limit, whether a lead must approve, the replies so far, who else has
    the ticket open, and the ticket version the agent is looking at."""
    actor = authorize(settings, actor, "ticket.work")
    with session_scope(settings.database.url) as session:
        detail = what_does_this_ticket_cover(session, ticket_id)
        ticket = detail["ticket"]
        reach_ticket(actor, ticket)
        answered = what_post_does_this_ticket_answer(session, ticket)
        account, blocked = _why_not(settings, detail["brand"], answered["mention"], answered["author"])
        return {"account": account.handle if account else None, "network": answered["mention"].network,
                "blocked": blocked, "max_chars": MAX_REPLY_CHARS.get(answered["mention"].network),
                "approval_needed": _approval_needed(settings, actor, ticket.team),
                "may_approve": may(actor, "reply.approve"), "version": ticket.version,
                "replies": which_replies_has_this_ticket(session, ticket_id),
                "viewers": who_else_has_this_ticket_open(session, ticket_id, actor.id,
                                                        utcnow() - timedelta(seconds=VIEWER_SECONDS))}


def queue_reply(session, settings: Settings, ticket: Ticket, body: str, written_by: int | None, *,
                awaiting_approval: bool = False, incident_id: int | None = None) -> Reply:
    """Check a reply and write it to the outbox with its history entry, in the caller's transaction.

    WorkflowError (nothing written) when the text is empty or too long, the brand has no
    account on the post's network, or the network would refuse this reply.
    """
    body = body.strip()
    if not body:
        raise WorkflowError(f"the reply to ticket #{ticket.id} is empty; write something first")
    if ticket.status in CLOSED_STATUSES:
        raise WorkflowError(f"ticket #{ticket.id} is {ticket.status}; reopen it before replying")
    answered = what_post_does_this_ticket_answer(session, ticket)
    mention = answered["mention"]
    brand = what_does_this_ticket_cover(session, ticket.id)["brand"]
    account, blocked = _why_not(settings, brand, mention, answered["author"])
    too_long = reply_length_problem(mention.network, body)
    if blocked or too_long:
        raise WorkflowError(f"cannot reply to ticket #{ticket.id}: {blocked or too_long}")
    reply = enqueue_reply(session, ticket_id=ticket.id, mention_id=mention.id, network=mention.network,
                          account=account.id, body=body, written_by=written_by,
                          awaiting_approval=awaiting_approval, incident_id=incident_id)
    record_event(session, ticket, "reply", written_by, to_value=reply.status, body=body)
    return reply


def send_reply(settings: Settings, actor: Actor, ticket_id: int, body: str, seen_version: int) -> dict[str, Any]:
    """Queue the agent's reply (or hold it for a lead's approval when the team asks for one).

    ``seen_version`` is the ticket version the agent opened (reply_options): if anyone changed
    the ticket since, nothing is sent and StaleTicketError says what changed.
    """
    actor = authorize(settings, actor, "ticket.reply")
    with session_scope(settings.database.url) as session:
        ticket = get_ticket(session, ticket_id, for_update=True)
        reach_ticket(actor, ticket)
        if ticket.version != seen_version:
            raise StaleTicketError(f"ticket #{ticket_id} changed since you opened it (version {seen_version}, "
                                   f"now {ticket.version}); nothing was sent: read its history, then send again")
        reply = queue_reply(session, settings, ticket, body, actor.id,
                            awaiting_approval=_approval_needed(settings, actor, ticket.team))
        return {"id": reply.id, "status": reply.status}


def _reply_in_state(session, actor: Actor, reply_id: int, state: str, refusal: str):
    """The reply and its ticket, once the actor may reach the ticket and the reply is in ``state``."""
    reply = get_reply(session, reply_id)
    ticket = get_ticket(session, reply.ticket_id)
    reach_ticket(actor, ticket)
    if reply.status != state:
        raise WorkflowError(f"reply #{reply_id} is {reply.status}; {refusal}")
    return reply, ticket


def _decide(settings: Settings, actor: Actor, reply_id: int, approve: bool, why: str = "") -> None:
    actor = authorize(settings, actor, "reply.approve")
    with session_scope(settings.database.url) as session:
        reply, ticket = _reply_in_state(session, actor, reply_id, "awaiting_approval",
                                        "it is not awaiting approval; refresh the ticket")
        reply.status, reply.approved_by, reply.updated_at = ("queued" if approve else "declined"), actor.id, utcnow()
        reply.next_attempt_at = utcnow() if approve else None
        session.add(reply)
        record_event(session, ticket, "approved" if approve else "declined", actor.id,
                     to_value=f"reply #{reply_id}", body=why.strip() or None)


def approve_reply(settings: Settings, actor: Actor, reply_id: int) -> None:
    """A lead approves an agent's reply: it is queued for publishing."""
    _decide(settings, actor, reply_id, True)


def decline_reply(settings: Settings, actor: Actor, reply_id: int, why: str = "") -> None:
    """A lead declines an agent's reply (with a reason the agent sees in the history)."""
    _decide(settings, actor, reply_id, False, why)


def retry_reply(settings: Settings, actor: Actor, reply_id: int) -> None:
    """Queue a failed reply again (after its cause was fixed): same text, same idempotency key."""
    actor = authorize(settings, actor, "ticket.reply")
    with session_scope(settings.database.url) as session:
        reply, ticket = _reply_in_state(session, actor, reply_id, "failed", "only a failed reply can be retried")
        reply.status, reply.next_attempt_at, reply.updated_at = "queued", utcnow(), utcnow()
        session.add(reply)
        record_event(session, ticket, "retry", actor.id, to_value=f"reply #{reply_id}")


def mark_answered_elsewhere(settings: Settings, actor: Actor, ticket_id: int, how: str) -> None:
    """Record a first response given outside brandpulse (a DM, a call): it stops the SLA clock."""
    actor = authorize(settings, actor, "ticket.work")
    if not how.strip():
        raise WorkflowError(f"say how ticket #{ticket_id} was answered (e.g. 'DM on x.com', 'phone call')")
    with session_scope(settings.database.url) as session:
        ticket = get_ticket(session, ticket_id, for_update=True)
        reach_ticket(actor, ticket)
        record_event(session, ticket, "answered", actor.id, to_value="elsewhere", body=how.strip())
        ticket.first_response_at = ticket.first_response_at or utcnow()


def viewing(settings: Settings, actor: Actor, ticket_id: int) -> None:
    """Note that the actor has the ticket open now (others see "also open by ...")."""
    actor = authorize(settings, actor, "ticket.work")
    with session_scope(settings.database.url) as session:
        reach_ticket(actor, get_ticket(session, ticket_id))
        note_ticket_viewer(session, ticket_id, actor.id)
