"""Webhook events and subscriptions: the outbox written beside each change, read by the delivery worker.

Deliveries (claims, attempts, replays) are in :mod:`store.webhook_deliveries`.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import func, select
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from brandpulse.core.errors import NotFoundError
from store.models import Ticket, User, utcnow
from store.models_api import WebhookDelivery, WebhookEvent, WebhookSubscription

EVENT_TYPES = ("mention.analysed", "ticket.created", "ticket.updated", "alert.fired", "customer.updated")
_CACHE = "webhook_subscribers"  # session.info: event type -> subscriber ids, read once per transaction
_TICKETS = "webhook_ticket_events"  # session.info: (event, ticket) whose state is filled in at commit


def who_subscribes_to(session: Session, event_type: str) -> list[int]:
    """Ids of the active subscriptions that want ``event_type`` (read once per transaction)."""
    cache = session.info.setdefault(_CACHE, {})
    if event_type not in cache:
        cache[event_type] = [s.id for s in session.execute(select(WebhookSubscription)
                                                           .where(WebhookSubscription.active)).scalars()
                             if event_type in s.event_types]
    return cache[event_type]


def jsonable(value: Any) -> Any:
    """``value`` with datetimes as ISO 8601 text, ready for a JSON payload."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def enqueue_event(session: Session, event_type: str, subject: str, payload: dict[str, Any],
                  subscribers: list[int] | None = None) -> WebhookEvent | None:
    """Write an event and one pending delivery per subscriber, in the caller's transaction.

    Nothing is written when nobody subscribes to ``event_type``. ``subject`` (e.g. ``ticket:42``)
    orders deliveries: one subject's events reach a subscriber in the order they were written.
    ``subscribers`` (from :func:`who_subscribes_to`) saves the look-up when enqueuing many.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}; use one of {', '.join(EVENT_TYPES)}")
    subscribers = who_subscribes_to(session, event_type) if subscribers is None else subscribers
    if not subscribers:
        return None
    now = utcnow()
    event = WebhookEvent(message_id="msg_" + secrets.token_urlsafe(18), type=event_type, subject=subject,
                         payload=jsonable(payload), created_at=now)
    session.add(event)
    session.flush()
    session.add_all([WebhookDelivery(event_id=event.id, subscription_id=subscription_id, subject=subject,
                                     next_attempt_at=now, created_at=now) for subscription_id in subscribers])
    return event


def enqueue_ticket_change(session: Session, ticket: Ticket, kind: str, from_value: str | None,
                          to_value: str | None) -> None:
    """A ``ticket.updated`` event for one recorded change; the ticket's state (status, assignee,
    team, version) is filled in when the transaction commits, so it is the state the change left."""
    change = {"kind": kind, "from": from_value, "to": to_value}
    event = enqueue_event(session, "ticket.updated", f"ticket:{ticket.id}", {"ticket_id": ticket.id,
                                                                             "change": change})
    if event is not None:
        session.info.setdefault(_TICKETS, []).append((event, ticket))


def ticket_state(session: Session, ticket: Ticket) -> dict[str, Any]:
    """What a ticket event says about the ticket."""
    assignee = session.get(User, ticket.assignee_id) if ticket.assignee_id else None
    return {"ticket_id": ticket.id, "version": ticket.version, "status": ticket.status,
            "priority": ticket.priority, "intent": ticket.intent, "team": ticket.team,
            "assignee_id": ticket.assignee_id, "assignee": assignee.username if assignee else None,
            "mention_id": ticket.mention_id, "brand_id": ticket.brand_id, "incident_id": ticket.incident_id}


def enqueue_tickets_created(session: Session, ticket_ids: list[int]) -> None:
    """A ``ticket.created`` event per new ticket (triage), each the first of its ``ticket:<id>`` subject."""
    subscribers = who_subscribes_to(session, "ticket.created") if ticket_ids else []
    if subscribers:
        for ticket in session.execute(select(Ticket).where(Ticket.id.in_(ticket_ids)).order_by(Ticket.id)).scalars():
            enqueue_event(session, "ticket.created", f"ticket:{ticket.id}",
                          {**ticket_state(session, ticket), "posted_at": ticket.posted_at,
                           "first_response_due": ticket.first_response_due,
                           "resolution_due": ticket.resolution_due}, subscribers)


def enqueue_alert_fired(session: Session, alert_id: int, alert: dict[str, Any]) -> None:
    """An ``alert.fired`` event for a newly stored alert (its evidence without the hourly series)."""
    evidence = {k: v for k, v in (alert.get("evidence") or {}).items() if k != "series"}
    enqueue_event(session, "alert.fired", f"alert:{alert_id}", {
        "alert_id": alert_id, **{k: alert.get(k) for k in ("brand_id", "rule", "severity", "title",
                                                           "window_start", "window_end", "fired_at")},
        "evidence": evidence})


def enqueue_mentions_analysed(session: Session, rows: list[dict[str, Any]]) -> None:
    """A ``mention.analysed`` event per saved analysis; one subscriber look-up for the whole batch."""
    subscribers = who_subscribes_to(session, "mention.analysed") if rows else []
    for row in rows if subscribers else ():
        enqueue_event(session, "mention.analysed", f"mention:{row['mention_id']}", {
            "mention_id": row["mention_id"], **{k: row.get(k) for k in (
                "language", "sentiment", "sentiment_negative", "sentiment_neutral", "sentiment_positive",
                "emotion", "complaint", "complaint_score", "severity", "primary_intent", "intents",
                "offensive", "entities", "model_name", "model_version", "analyzed_at")}}, subscribers)


@sa_event.listens_for(OrmSession, "before_commit")
def _fill_ticket_events(session: OrmSession) -> None:
    for event, ticket in session.info.pop(_TICKETS, ()):
        event.payload = jsonable({**ticket_state(session, ticket), "change": event.payload.get("change")})
        session.add(event)


@sa_event.listens_for(OrmSession, "after_commit")
@sa_event.listens_for(OrmSession, "after_rollback")
def _forget(session: OrmSession) -> None:
    session.info.pop(_CACHE, None)
    session.info.pop(_TICKETS, None)


# --- subscriptions ---------------------------------------------------------------------------------

def add_subscription(session: Session, **fields: Any) -> WebhookSubscription:
    """Store a new subscription."""
    subscription = WebhookSubscription(**fields)
    session.add(subscription)
    session.flush()
    return subscription


def get_subscription(session: Session, subscription_id: int) -> WebhookSubscription:
    """The subscription, or NotFoundError."""
    subscription = session.get(WebhookSubscription, subscription_id)
    if subscription is None:
        raise NotFoundError(f"webhook subscription #{subscription_id} does not exist; "
                            "`brandpulse webhooks list` shows the ones there are")
    return subscription


def which_subscriptions_exist(session: Session, subscription_id: int | None = None
                              ) -> list[tuple[WebhookSubscription, dict[str, int]]]:
    """Every subscription (or just one), oldest first, with its deliveries counted per status."""
    counts: dict[int, dict[str, int]] = {}
    tally = (select(WebhookDelivery.subscription_id, WebhookDelivery.status, func.count())
             .group_by(WebhookDelivery.subscription_id, WebhookDelivery.status))
    statement = select(WebhookSubscription).order_by(WebhookSubscription.id)
    if subscription_id is not None:
        tally = tally.where(WebhookDelivery.subscription_id == subscription_id)
        statement = statement.where(WebhookSubscription.id == subscription_id)
    for sid, status, n in session.execute(tally):
        counts.setdefault(sid, {})[status] = n
    rows = session.execute(statement).scalars()
    return [(s, counts.get(s.id, {})) for s in rows]


def remove_subscription(session: Session, subscription_id: int) -> None:
    """Delete a subscription with its deliveries and their attempts."""
    session.delete(get_subscription(session, subscription_id))
