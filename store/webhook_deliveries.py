"""Webhook deliveries: claimed by workers with a lease, in order per (subscription, subject); attempts logged.

A claim counts an attempt and holds the delivery until ``claimed_until``; a worker killed mid-send
leaves it claimed, and once the claim lapses another worker sends it again (at least once). Only
the oldest pending delivery of a subscription's subject may be claimed, so one ticket's events
reach a receiver in order even when an earlier one is waiting for its retry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import and_, bindparam, insert, or_, select, update
from sqlalchemy.orm import aliased
from sqlmodel import Session

from store.claiming import update_chosen
from store.models_api import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)


@dataclass(frozen=True)
class Claim:
    """A delivery this worker holds: who to send what, and the attempt number that makes it ours."""
    delivery_id: int
    attempts: int
    url: str
    secret: str
    message_id: str
    type: str
    payload: dict[str, Any]
    event_created_at: datetime
    created_at: datetime  # the delivery's: its retries end retry_hours after this
    subscription_id: int


def claim_due_deliveries(session: Session, now: datetime, until: datetime, limit: int) -> list[Claim]:
    """Claim due deliveries of active subscriptions, the head of each (subscription, subject) only.

    PostgreSQL skips rows another worker is claiming (FOR UPDATE SKIP LOCKED); SQLite's UPDATE
    is atomic. A claim counts one attempt, committed before anything is sent.
    """
    earlier = aliased(WebhookDelivery)
    waits = (select(earlier.id).where(earlier.subscription_id == WebhookDelivery.subscription_id,
                                      earlier.subject == WebhookDelivery.subject,
                                      earlier.status == "pending", earlier.id < WebhookDelivery.id).exists())
    chosen = (select(WebhookDelivery.id)
              .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
              .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now,
                     or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < now),
                     WebhookSubscription.active, ~waits)
              .order_by(WebhookDelivery.id).limit(limit))
    claimed = dict(update_chosen(session, WebhookDelivery, chosen, {
        "claimed_until": until, "attempts": WebhookDelivery.attempts + 1},
        (WebhookDelivery.id, WebhookDelivery.attempts)).all())
    if not claimed:
        return []
    rows = session.execute(
        select(WebhookDelivery.id, WebhookSubscription.url, WebhookSubscription.secret, WebhookEvent.message_id,
               WebhookEvent.type, WebhookEvent.payload, WebhookEvent.created_at, WebhookDelivery.created_at,
               WebhookDelivery.subscription_id)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.id.in_(list(claimed))).order_by(WebhookDelivery.id))
    return [Claim(row[0], claimed[row[0]], *row[1:]) for row in rows]


def renew_claim(session: Session, claim: Claim, until: datetime) -> bool:
    """Hold a claimed delivery longer; False when it is no longer ours (the claim lapsed and was taken)."""
    result = session.execute(update(WebhookDelivery)
                             .where(WebhookDelivery.id == claim.delivery_id, WebhookDelivery.status == "pending",
                                    WebhookDelivery.attempts == claim.attempts)
                             .values(claimed_until=until).execution_options(synchronize_session=False))
    return result.rowcount == 1


def record_attempt(session: Session, claim: Claim, at: datetime, status_code: int | None, error: str | None,
                   duration_ms: int, **outcome: Any) -> bool:
    """Log one attempt and set the delivery's ``outcome`` (status, next_attempt_at, ...); False (the
    attempt only logged) when the delivery is no longer this claim's (another worker took it over
    after the claim lapsed, or it was removed)."""
    session.execute(insert(WebhookAttempt).values(delivery_id=claim.delivery_id, attempted_at=at,
                                                  status_code=status_code, error=error, duration_ms=duration_ms))
    result = session.execute(update(WebhookDelivery)
                             .where(WebhookDelivery.id == claim.delivery_id, WebhookDelivery.status == "pending",
                                    WebhookDelivery.attempts == claim.attempts)
                             .values(claimed_until=None, last_error=error, **outcome)
                             .execution_options(synchronize_session=False))
    return result.rowcount == 1


def record_attempts(session: Session, attempts: Sequence[tuple[Claim, datetime, int | None, str | None, int,
                                                             dict[str, Any]]]) -> set[int]:
    """Log a group of attempts, each (claim, at, status code, error, duration ms, outcome), with one INSERT
    and set each delivery's outcome (status, next_attempt_at, delivered_at) with one UPDATE run over the
    group; the ids of the deliveries that were still their claim's. The others (taken over by another
    worker after the claim lapsed, or removed) only get the attempt logged.

    The INSERT takes SQLite's write lock, and PostgreSQL locks the group's rows (in id order) before they
    are checked, so no other worker changes them between the check and the UPDATE.
    """
    if not attempts:
        return set()
    session.execute(insert(WebhookAttempt), [
        {"delivery_id": claim.delivery_id, "attempted_at": at, "status_code": code, "error": error,
         "duration_ms": duration_ms} for claim, at, code, error, duration_ms, _ in attempts])
    current = (select(WebhookDelivery.id, WebhookDelivery.attempts, WebhookDelivery.status,
                      WebhookDelivery.next_attempt_at)
               .where(WebhookDelivery.id.in_([a[0].delivery_id for a in attempts])).order_by(WebhookDelivery.id))
    if session.get_bind().dialect.name == "postgresql":
        current = current.with_for_update(of=WebhookDelivery)
    now = {row.id: row for row in session.execute(current)}
    changes = []
    for claim, _, _, error, _, outcome in attempts:
        row = now.get(claim.delivery_id)
        if row is None or row.status != "pending" or row.attempts != claim.attempts:
            continue
        changes.append({"b_id": claim.delivery_id, "b_error": error, "b_status": outcome.get("status", "pending"),
                        "b_delivered_at": outcome.get("delivered_at"),
                        "b_next": outcome.get("next_attempt_at", row.next_attempt_at)})
    if changes:
        table = WebhookDelivery.__table__
        session.connection().execute(
            update(table).where(table.c.id == bindparam("b_id"))
            .values(claimed_until=None, last_error=bindparam("b_error"), status=bindparam("b_status"),
                    delivered_at=bindparam("b_delivered_at"), next_attempt_at=bindparam("b_next")), changes)
    return {change["b_id"] for change in changes}


def the_subscription_delivered(session: Session, subscription_id: int) -> None:
    """A delivery succeeded: the subscription is no longer failing."""
    session.execute(update(WebhookSubscription).where(WebhookSubscription.id == subscription_id,
                                                      WebhookSubscription.failing_since.is_not(None))
                    .values(failing_since=None).execution_options(synchronize_session=False))


def which_deliveries_has_this_subscription(session: Session, subscription_id: int, status: str | None,
                                           before_id: int | None, limit: int) -> list[dict[str, Any]]:
    """A subscription's deliveries, newest first, with their event; keyset by delivery id."""
    statement = (select(WebhookDelivery, WebhookEvent.message_id, WebhookEvent.type)
                 .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
                 .where(WebhookDelivery.subscription_id == subscription_id)
                 .order_by(WebhookDelivery.id.desc()).limit(limit))
    if status:
        statement = statement.where(WebhookDelivery.status == status)
    if before_id is not None:
        statement = statement.where(WebhookDelivery.id < before_id)
    return [{**d.model_dump(exclude={"event_id"}), "message_id": mid, "event_type": kind}
            for d, mid, kind in session.execute(statement)]


def which_attempts_had_this_delivery(session: Session, subscription_id: int, delivery_id: int
                                     ) -> list[dict[str, Any]] | None:
    """Every attempt of a delivery, oldest first; None when the subscription has no such delivery."""
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.subscription_id != subscription_id:
        return None
    rows = session.execute(select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery_id)
                           .order_by(WebhookAttempt.id)).scalars()
    return [a.model_dump() for a in rows]


def queue_again(session: Session, subscription_id: int, now: datetime, *, message_id: str | None = None,
                since: datetime | None = None, until: datetime | None = None) -> list[str]:
    """New pending deliveries for a subscription of the events it was sent before (delivered, dead or
    pending), by message id or by the events' time in [since, until); their message ids, oldest first."""
    statement = (select(WebhookEvent.id, WebhookEvent.subject, WebhookEvent.message_id)
                 .where(WebhookEvent.id.in_(select(WebhookDelivery.event_id)
                                            .where(WebhookDelivery.subscription_id == subscription_id)))
                 .order_by(WebhookEvent.id))
    if message_id is not None:
        statement = statement.where(WebhookEvent.message_id == message_id)
    window = [c for c in (since is not None and WebhookEvent.created_at >= since,
                          until is not None and WebhookEvent.created_at < until) if c is not False]
    if window:
        statement = statement.where(and_(*window))
    events = session.execute(statement).all()
    session.add_all([WebhookDelivery(event_id=event_id, subscription_id=subscription_id, subject=subject,
                                     next_attempt_at=now, created_at=now) for event_id, subject, _ in events])
    return [mid for _, _, mid in events]
