"""/v1/webhooks: subscriptions of other systems to events, their deliveries and attempts, replays."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Optional

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from api.deps import Moment, RowId, needs, settings_of
from api.pagination import Page, decode_cursor, encode_cursor
from brandpulse.core.settings import Settings
from brandpulse.services import webhooks as service
from brandpulse.services.access import Actor

router = APIRouter(tags=["webhooks"])
EventType = Literal["mention.analysed", "ticket.created", "ticket.updated", "alert.fired", "customer.updated"]
Manager = Annotated[Actor, Depends(needs("webhooks:manage"))]
SettingsDep = Annotated[Settings, Depends(settings_of)]
SubscriptionId = RowId


class DeliveryCounts(BaseModel):
    pending: int = 0
    delivered: int = 0
    dead: int = 0


class Subscription(BaseModel):
    id: int
    url: str
    event_types: list[str]
    description: str
    active: bool
    state: Literal["active", "disabled"]
    disabled_reason: Optional[str] = Field(None, description="why it was disabled (failing for too long)")
    failing_since: Optional[datetime] = None
    created_at: datetime
    updated_at: datetime
    deliveries: DeliveryCounts


class NewSubscription(Subscription):
    secret: str = Field(description="whsec_…: verifies the Standard Webhooks signatures; shown only now")


class SubscriptionIn(BaseModel):
    url: str = Field(max_length=2000, description="https:// (or http://) URL on a public address")
    event_types: list[EventType] = Field(min_length=1)
    description: str = Field("", max_length=300)


class SubscriptionChange(BaseModel):
    url: Optional[str] = Field(None, max_length=2000)
    event_types: Optional[list[EventType]] = Field(None, min_length=1)
    description: Optional[str] = Field(None, max_length=300)
    active: Optional[bool] = Field(None, description="true enables a disabled subscription again")


class Delivery(BaseModel):
    id: int
    message_id: str
    event_type: str
    subject: str
    status: Literal["pending", "delivered", "dead"]
    attempts: int
    next_attempt_at: datetime
    delivered_at: Optional[datetime] = None
    last_error: Optional[str] = None
    created_at: datetime


class Attempt(BaseModel):
    id: int
    attempted_at: datetime
    status_code: Optional[int] = None
    error: Optional[str] = None
    duration_ms: int


class ReplayIn(BaseModel):
    message_id: Optional[str] = Field(None, max_length=40, description="one event (its webhook-id)")
    since: Optional[Moment] = Field(None, description="every event from this time...")
    until: Optional[Moment] = Field(None, description="...up to this time (default: now)")


class Replayed(BaseModel):
    queued: int
    message_ids: list[str]


@router.post("/webhooks", response_model=NewSubscription, status_code=201, summary="Subscribe a URL to events")
def create(body: SubscriptionIn, actor: Manager, settings: SettingsDep) -> NewSubscription:
    """A new subscription. Its `secret` is returned only here: keep it to verify signatures."""
    secret, sub = service.create_subscription(settings, actor, url=body.url, event_types=list(body.event_types),
                                              description=body.description)
    return NewSubscription(**sub, secret=secret)


@router.get("/webhooks", response_model=list[Subscription], summary="List subscriptions")
def list_all(actor: Manager, settings: SettingsDep) -> list[Subscription]:
    """Every subscription with its state (a disabled one says why) and its deliveries counted."""
    return [Subscription(**s) for s in service.list_subscriptions(settings, actor)]


@router.get("/webhooks/{subscription_id}", response_model=Subscription, summary="One subscription")
def get_one(subscription_id: SubscriptionId, actor: Manager, settings: SettingsDep) -> Subscription:
    return Subscription(**service.subscription(settings, actor, subscription_id))


@router.patch("/webhooks/{subscription_id}", response_model=Subscription, summary="Change or enable a subscription")
def change(subscription_id: SubscriptionId, body: SubscriptionChange, actor: Manager,
           settings: SettingsDep) -> Subscription:
    """Change the URL, event types or description; `active: true` enables a disabled one again."""
    return Subscription(**service.update_subscription(
        settings, actor, subscription_id, url=body.url, description=body.description, active=body.active,
        event_types=list(body.event_types) if body.event_types is not None else None))


@router.delete("/webhooks/{subscription_id}", status_code=204, summary="Remove a subscription")
def remove(subscription_id: SubscriptionId, actor: Manager, settings: SettingsDep) -> Response:
    service.delete_subscription(settings, actor, subscription_id)
    return Response(status_code=204)


@router.get("/webhooks/{subscription_id}/deliveries", response_model=Page[Delivery],
            summary="A subscription's deliveries, newest first")
def deliveries(subscription_id: SubscriptionId, actor: Manager, settings: SettingsDep,
               status: Annotated[Optional[Literal["pending", "delivered", "dead"]], Query()] = None,
               limit: Annotated[int, Query(ge=1, le=1000)] = 50,
               cursor: Annotated[Optional[str], Query(description="next_cursor of the previous page")] = None,
               ) -> Page[Delivery]:
    limit = min(limit, settings.api.max_page_size)
    after = decode_cursor(cursor, int)
    rows = service.list_deliveries(settings, actor, subscription_id, status, after[0] if after else None, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(items=[Delivery(**r) for r in rows], next_cursor=encode_cursor(rows[-1]["id"]) if more else None)


@router.get("/webhooks/{subscription_id}/deliveries/{delivery_id}/attempts", response_model=list[Attempt],
            summary="Every attempt of one delivery")
def attempts(subscription_id: SubscriptionId, delivery_id: RowId, actor: Manager,
             settings: SettingsDep) -> list[Attempt]:
    return [Attempt(**a) for a in service.list_attempts(settings, actor, subscription_id, delivery_id)]


@router.post("/webhooks/{subscription_id}/replay", response_model=Replayed, status_code=202,
             summary="Send events again")
def replay(subscription_id: SubscriptionId, body: ReplayIn, actor: Manager, settings: SettingsDep) -> Replayed:
    """Queue events again for this subscription (delivered and dead ones too), with their original
    webhook-id: one by `message_id`, or all from `since` (until `until`)."""
    queued = service.replay(settings, actor, subscription_id, message_id=body.message_id, since=body.since,
                            until=body.until)
    return Replayed(queued=len(queued), message_ids=queued)
