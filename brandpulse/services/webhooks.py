"""Webhook subscriptions: other systems subscribe to events (signed, delivered at least once, in order
per subject); admins add, change, disable and remove them, read their deliveries and replay events.

``actor`` None is the local command line; otherwise the user must be allowed ``webhooks.manage``.
Sending is :mod:`brandpulse.services.webhook_delivery`.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime
from typing import Any

from brandpulse.core.errors import BrandpulseError, NotFoundError
from brandpulse.core.settings import Settings
from brandpulse.services.access import Actor
from brandpulse.services.accounts import authorize
from brandpulse.services.webhook_delivery import deliver_due, safe_address  # noqa: F401  (deliver_due re-exported)
from store.engine import session_scope
from store.models import utcnow
from store.webhook_deliveries import (
    queue_again,
    which_attempts_had_this_delivery,
    which_deliveries_has_this_subscription,
)
from store.webhooks import (
    EVENT_TYPES,
    add_subscription,
    get_subscription,
    remove_subscription,
    which_subscriptions_exist,
)

DELIVERY_STATES = ("pending", "delivered", "dead")


def _may(settings: Settings, actor: Actor | None) -> int | None:
    return authorize(settings, actor, "webhooks.manage").id if actor is not None else None


def _event_types(event_types: list[str]) -> list[str]:
    wanted = list(dict.fromkeys(t.strip() for t in event_types if t.strip()))
    unknown = [t for t in wanted if t not in EVENT_TYPES]
    if unknown or not wanted:
        raise BrandpulseError(f"event type(s) {', '.join(unknown) or '(none given)'} are not ones brandpulse "
                              f"sends; subscribe to some of: {', '.join(EVENT_TYPES)}")
    return wanted


def _url(settings: Settings, url: str) -> str:
    url = url.strip()
    if len(url) > 2000:
        raise BrandpulseError(f"webhook URL is {len(url)} characters long; use one of at most 2000")
    safe_address(settings, url)
    return url


def _description(text: str) -> str:
    text = text.strip()
    if len(text) > 300 or not text.isprintable():
        raise BrandpulseError(f"description {text[:60]!r}… must be at most 300 printable characters")
    return text


def describe(subscription, counts: dict[str, int] | None = None) -> dict[str, Any]:
    """A subscription as lists show it (never its secret)."""
    counts = counts or {}
    return {"id": subscription.id, "url": subscription.url, "event_types": list(subscription.event_types),
            "description": subscription.description, "active": subscription.active,
            "state": "active" if subscription.active else "disabled",
            "disabled_reason": subscription.disabled_reason, "failing_since": subscription.failing_since,
            "created_at": subscription.created_at, "updated_at": subscription.updated_at,
            "deliveries": {state: counts.get(state, 0) for state in DELIVERY_STATES}}


def create_subscription(settings: Settings, actor: Actor | None, *, url: str, event_types: list[str],
                        description: str = "") -> tuple[str, dict[str, Any]]:
    """A new subscription: (its signing secret, shown this once; its description).

    The URL must be http(s) and resolve to public addresses (or a host in
    ``webhooks.allow_private_hosts``); it is checked again at every delivery.
    """
    user_id = _may(settings, actor)
    url, wanted, description = _url(settings, url), _event_types(event_types), _description(description)
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    with session_scope(settings.database.url) as session:
        subscription = add_subscription(session, url=url, event_types=wanted, secret=secret,
                                        description=description, created_by=user_id)
        return secret, describe(subscription)


def list_subscriptions(settings: Settings, actor: Actor | None) -> list[dict[str, Any]]:
    """Every subscription, oldest first, with its state (a disabled one says why) and delivery counts."""
    _may(settings, actor)
    with session_scope(settings.database.url) as session:
        return [describe(s, counts) for s, counts in which_subscriptions_exist(session)]


def subscription(settings: Settings, actor: Actor | None, subscription_id: int) -> dict[str, Any]:
    """One subscription."""
    _may(settings, actor)
    with session_scope(settings.database.url) as session:
        get_subscription(session, subscription_id)
        [(found, counts)] = which_subscriptions_exist(session, subscription_id)
        return describe(found, counts)


def update_subscription(settings: Settings, actor: Actor | None, subscription_id: int, *,
                        url: str | None = None, event_types: list[str] | None = None,
                        description: str | None = None, active: bool | None = None) -> dict[str, Any]:
    """Change a subscription; ``active=True`` enables a disabled one again (its URL re-checked, its
    pending deliveries resume), ``active=False`` pauses it."""
    _may(settings, actor)
    url = _url(settings, url) if url is not None else None
    wanted = _event_types(event_types) if event_types is not None else None
    with session_scope(settings.database.url) as session:
        found = get_subscription(session, subscription_id)
        if active and not found.active and url is None:
            _url(settings, found.url)
        found.url = url or found.url
        found.event_types = wanted or found.event_types
        found.description = _description(description) if description is not None else found.description
        if active is not None and active != found.active:
            found.active = active
            found.disabled_reason = None if active else "paused by an admin"
            found.failing_since = None
        found.updated_at = utcnow()
        session.add(found)
    return subscription(settings, None, subscription_id)


def enable_subscription(settings: Settings, actor: Actor | None, subscription_id: int) -> dict[str, Any]:
    """Enable a (disabled) subscription again."""
    return update_subscription(settings, actor, subscription_id, active=True)


def delete_subscription(settings: Settings, actor: Actor | None, subscription_id: int) -> None:
    """Remove a subscription with its deliveries and their log."""
    _may(settings, actor)
    with session_scope(settings.database.url) as session:
        remove_subscription(session, subscription_id)


def list_deliveries(settings: Settings, actor: Actor | None, subscription_id: int, status: str | None = None,
                    before_id: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """A subscription's deliveries, newest first (``before_id``: the page after that delivery)."""
    _may(settings, actor)
    if status and status not in DELIVERY_STATES:
        raise BrandpulseError(f"delivery status {status!r} is not one of {', '.join(DELIVERY_STATES)}")
    with session_scope(settings.database.url) as session:
        get_subscription(session, subscription_id)
        return which_deliveries_has_this_subscription(session, subscription_id, status, before_id, limit)


def list_attempts(settings: Settings, actor: Actor | None, subscription_id: int,
                  delivery_id: int) -> list[dict[str, Any]]:
    """Every attempt of one delivery: when, the receiver's status code, the error and how long it took."""
    _may(settings, actor)
    with session_scope(settings.database.url) as session:
        get_subscription(session, subscription_id)
        found = which_attempts_had_this_delivery(session, subscription_id, delivery_id)
    if found is None:
        raise NotFoundError(f"webhook subscription #{subscription_id} has no delivery #{delivery_id}; "
                            "list its deliveries to find one")
    return found


def replay(settings: Settings, actor: Actor | None, subscription_id: int, *, message_id: str | None = None,
           since: datetime | None = None, until: datetime | None = None) -> list[str]:
    """Send events to a subscription again (delivered and dead ones included), as new deliveries
    with their original ``webhook-id``: one event by message id, or every event in [since, until).
    Returns the message ids queued."""
    _may(settings, actor)
    if message_id is None and since is None:
        raise BrandpulseError("say what to replay: an event's message id (msg_…), or a time range from "
                              "`since` (and optionally `until`)")
    if since is not None and until is not None and until <= since:
        raise BrandpulseError(f"replay range is empty: until {until.isoformat()} is not after since "
                              f"{since.isoformat()}")
    with session_scope(settings.database.url) as session:
        get_subscription(session, subscription_id)
        queued = queue_again(session, subscription_id, utcnow(), message_id=message_id, since=since, until=until)
    if message_id is not None and not queued:
        raise NotFoundError(f"event {message_id!r} was never sent to webhook subscription #{subscription_id}; "
                            "list its deliveries for the message ids it had")
    return queued
