"""Webhook events and deliveries: the outbox written beside each change, read by the delivery worker."""

from __future__ import annotations

import secrets
from typing import Any

from sqlmodel import Session, select

from store.models import utcnow
from store.models_api import WebhookDelivery, WebhookEvent, WebhookSubscription

EVENT_TYPES = ("mention.analysed", "ticket.created", "ticket.updated", "alert.fired", "customer.updated")


def who_subscribes_to(session: Session, event_type: str) -> list[int]:
    """Ids of the active subscriptions that want ``event_type``."""
    return [s.id for s in session.exec(select(WebhookSubscription).where(WebhookSubscription.active))
            if event_type in s.event_types]


def enqueue_event(session: Session, event_type: str, subject: str, payload: dict[str, Any]) -> WebhookEvent | None:
    """Write an event and one pending delivery per subscriber, in the caller's transaction.

    Nothing is written when nobody subscribes to ``event_type``. ``subject`` (e.g. ``ticket:42``)
    orders deliveries: one subject's events reach a subscriber in the order they were written.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    subscribers = who_subscribes_to(session, event_type)
    if not subscribers:
        return None
    now = utcnow()
    event = WebhookEvent(message_id="msg_" + secrets.token_urlsafe(18), type=event_type, subject=subject,
                         payload=payload, created_at=now)
    session.add(event)
    session.flush()
    for subscription_id in subscribers:
        session.add(WebhookDelivery(event_id=event.id, subscription_id=subscription_id, subject=subject,
                                    next_attempt_at=now, created_at=now))
    return event
