"""The outbox worker: publishes queued replies exactly once, whatever fails in between.

Each reply is claimed (its attempt counted and committed) before anything is sent, so a worker
killed mid-send leaves a trace. A reply whose earlier attempt may have reached the network (a
timeout, a lost connection, a 5xx, a killed worker) is first looked for on the network and
only sent again when it is not there; Mastodon's idempotency key guards the resend as well.
A 429 waits for the network's reset; a refusal is shown on the ticket with the network's reason.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta
from typing import Callable

from brandpulse.core.errors import (
    BrandpulseError,
    ReplyRateLimitedError,
    ReplyRejectedError,
    ReplyUncertainError,
)
from brandpulse.services.replying import target_of
from brandpulse.core.settings import Settings
from brandpulse.core.settings_replies import ReplyAccount
from publishers.base import Published, Publisher
from store.engine import session_scope
from store.models import Ticket, utcnow
from store.replies import (
    claim_replies_to_publish,
    get_reply,
    how_many_replies_were_published_since,
    what_does_this_reply_answer,
    which_tickets_does_this_reply_answer,
)
from store.ticket_actions import record_event

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8  # uncertain sends retried with backoff (each after a look on the network), then failed
BACKOFF_SECONDS, MAX_BACKOFF_SECONDS = 10, 900


_PUBLISHERS: dict[str, Publisher] = {}  # one per account and process: sessions and lookups are reused


def _default_publisher(account: ReplyAccount) -> Publisher:
    from publishers.registry import publisher_for

    key = account.model_dump_json()  # a changed account (new URL, new handle) gets a new publisher
    if key not in _PUBLISHERS:
        _PUBLISHERS[key] = publisher_for(account)
    return _PUBLISHERS[key]


def claim_seconds(settings: Settings) -> float:
    """How long a claim holds: past any account's timeout (twice: a look, then a send) with margin."""
    timeouts = [a.timeout_seconds for a in settings.care.reply_accounts] or [15]
    return 2 * max(timeouts) + 5


def publish_due(settings: Settings, limit: int = 20, reply_id: int | None = None,
                publisher_for: Callable[[ReplyAccount], Publisher] = _default_publisher) -> Counter:
    """Publish due replies (or just ``reply_id``); return how many ended in each state."""
    with session_scope(settings.database.url) as session:
        claimed = claim_replies_to_publish(session, limit, reply_id, ttl_seconds=claim_seconds(settings))
    outcome: Counter = Counter()
    for one in claimed:
        outcome[_publish_one(settings, one, publisher_for)] += 1
    if claimed:
        log.info("published the outbox: %s", dict(outcome))
    return outcome


def list_replies(settings: Settings, status: str | None = None, limit: int = 50) -> list[dict]:
    """Outbox rows, newest first (for the CLI and doctor)."""
    from store.replies import which_replies_are_in_the_outbox

    with session_scope(settings.database.url) as session:
        return which_replies_are_in_the_outbox(session, status, limit)


def _account(settings: Settings, account_id: str) -> ReplyAccount | None:
    return next((a for a in settings.care.reply_accounts if a.id == account_id), None)


def _publish_one(settings: Settings, reply_id: int, publisher_for) -> str:
    with session_scope(settings.database.url) as session:
        answered = what_does_this_reply_answer(session, reply_id)
        reply = answered["reply"]
        target = target_of(answered["mention"], answered["author"])
        body, key, attempts, account_id = reply.body, reply.idempotency_key, reply.attempts, reply.account
        account = _account(settings, account_id)
        if account is not None:
            budget_used = how_many_replies_were_published_since(session, account.id,
                                                                utcnow() - timedelta(minutes=1))
    if account is None:
        return _fail(settings, reply_id, f"reply account {account_id!r} is no longer in care.reply_accounts; "
                     "add it back to config.yaml, then retry")
    if budget_used >= account.per_minute:  # nothing sent: give the attempt back and wait a little
        return _requeue(settings, reply_id, utcnow() + timedelta(seconds=60 / account.per_minute),
                        None, give_back_attempt=True)
    try:
        publisher = publisher_for(account)
        if attempts > 1:  # an earlier attempt may have reached the network: look before sending
            found = publisher.find_published(target, body)
            if found is not None:
                return _published(settings, reply_id, found, "found on the network after an uncertain send")
        return _published(settings, reply_id, publisher.publish(target, body, key), None)
    except ReplyRateLimitedError as exc:
        return _requeue(settings, reply_id, exc.until or utcnow() + timedelta(minutes=1), str(exc))
    except ReplyUncertainError as exc:
        if attempts >= MAX_ATTEMPTS:
            return _fail(settings, reply_id, f"gave up after {attempts} uncertain attempts: {exc}")
        wait = min(BACKOFF_SECONDS * 2 ** (attempts - 1), MAX_BACKOFF_SECONDS)
        return _requeue(settings, reply_id, utcnow() + timedelta(seconds=wait),
                        f"{exc} (will look on {account.network} before retrying)")
    except (ReplyRejectedError, BrandpulseError) as exc:  # a refusal, or a missing secret
        return _fail(settings, reply_id, str(exc))


def _published(settings: Settings, reply_id: int, published: Published, note: str | None) -> str:
    with session_scope(settings.database.url) as session:
        reply = get_reply(session, reply_id)
        now = utcnow()
        reply.status, reply.published_id, reply.published_url = "published", published.id, published.url
        reply.published_at, reply.claimed_until, reply.error, reply.updated_at = now, None, None, now
        session.add(reply)
        for ticket in which_tickets_does_this_reply_answer(session, reply):
            ticket.first_response_at = ticket.first_response_at or now  # the reply stops the clock
            record_event(session, ticket, "replied", reply.written_by, to_value=published.url or published.id,
                         body=note if ticket.id == reply.ticket_id else f"incident reply on ticket #{reply.ticket_id}")
    return "published"


def _requeue(settings: Settings, reply_id: int, when: datetime, error: str | None,
             give_back_attempt: bool = False) -> str:
    with session_scope(settings.database.url) as session:
        reply = get_reply(session, reply_id)
        reply.status, reply.next_attempt_at, reply.claimed_until = "queued", when, None
        reply.error, reply.updated_at = error or reply.error, utcnow()
        if give_back_attempt:
            reply.attempts -= 1
        session.add(reply)
    return "waiting"


def _fail(settings: Settings, reply_id: int, error: str) -> str:
    with session_scope(settings.database.url) as session:
        reply = get_reply(session, reply_id)
        reply.status, reply.error, reply.claimed_until, reply.updated_at = "failed", error, None, utcnow()
        session.add(reply)
        ticket = session.get(Ticket, reply.ticket_id)
        if ticket is not None:
            record_event(session, ticket, "reply failed", None, to_value=f"reply #{reply_id}", body=error)
    return "failed"
