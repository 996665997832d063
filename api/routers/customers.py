"""/v1/customers and /v1/events: a CRM or shop says who a customer is and what they did;
every shell reads the same timeline of posts, tickets, replies and those events."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal, Optional

from fastapi import APIRouter, Body, Depends, Path, Query, Response
from pydantic import BaseModel, Field, ValidationInfo, field_validator

from api.deps import caller, needs, settings_of
from api.pagination import Page, decode_cursor, encode_cursor
from brandpulse.core.settings import Settings
from brandpulse.services import customer_identities as identities
from brandpulse.services import customers as service
from brandpulse.services.access import Actor
from brandpulse.services.tokens import Caller

router = APIRouter(tags=["customers"])
ExternalId = Annotated[str, Path(min_length=1, max_length=200, description="your own id of the customer",
                                 examples=["crm-881"])]
IdentityKind = Literal["email", "phone", "x", "reddit", "mastodon", "bluesky", "rss", "file"]


class IdentityIn(BaseModel):
    kind: IdentityKind = Field(description="email, phone, or the network of a handle", examples=["x"])
    value: str = Field(min_length=1, max_length=300, description="the address, the number with its country "
                       "code, or the handle (mastodon: user@instance)", examples=["dana"])
    evidence: str = Field(min_length=1, max_length=2000, description="how you know it is this customer's; "
                          "without it nothing is linked", examples=["customer confirmed handle in CRM case 881"])

    @field_validator("value")
    @classmethod
    def _value(cls, value: str, info: ValidationInfo) -> str:
        return service.normalise_identity(info.data["kind"], value) if "kind" in info.data else value

    @field_validator("evidence")
    @classmethod
    def _evidence(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("evidence is blank; say how you know, e.g. 'customer confirmed handle in CRM case 881'")
        return value.strip()


class CustomerIn(BaseModel):
    display_name: str = Field(default="", max_length=300, description="how agents see the customer",
                              examples=["Dana Example"])
    identities: list[IdentityIn] = Field(default=[], max_length=50, description="added to those known "
                                         "(DELETE …/identities/{kind}/{value} removes one); a handle links the "
                                         "stored author of that network")


class IdentityOut(BaseModel):
    kind: str
    value: str
    evidence: str
    author_id: Optional[int] = Field(default=None, description="the stored author this identity linked")


class AuthorOut(BaseModel):
    id: int
    network: str
    handle: str
    followers: Optional[int] = None


class CustomerOut(BaseModel):
    id: int
    external_id: str
    display_name: str
    created_at: datetime
    updated_at: Optional[datetime] = None
    identities: list[IdentityOut]
    authors: list[AuthorOut] = Field(description="the customer's accounts on the networks brandpulse hears")


class TimelineItem(BaseModel):
    kind: Literal["post", "ticket", "reply", "event"]
    id: int = Field(description="the mention, ticket, reply or event id")
    at: datetime
    network: Optional[str] = None
    author: Optional[str] = Field(default=None, description="post: the handle; reply: the brand's account")
    text: Optional[str] = Field(default=None, description="plain text as posted: never render it as HTML")
    url: Optional[str] = None
    sentiment: Optional[str] = None
    status: Optional[str] = Field(default=None, description="ticket or reply status")
    intent: Optional[str] = None
    team: Optional[str] = None
    ticket_id: Optional[int] = Field(default=None, description="reply: the ticket it answered")
    type: Optional[str] = Field(default=None, description="event: its type, e.g. order_placed")
    properties: Optional[dict[str, Any]] = None
    source: Optional[str] = Field(default=None, description="event: the name of the token that sent it")
    source_id: Optional[str] = None


class WeekSentiment(BaseModel):
    week_start: date
    posts: int
    positive: int
    neutral: int
    negative: int
    net: Optional[float] = Field(default=None, description="(positive - negative) / posts; null without posts")


class OpenTicket(BaseModel):
    id: int
    at: datetime
    status: str
    intent: str
    team: str
    network: str


class CustomerContext(BaseModel):
    external_id: str
    sentiment_trend: list[WeekSentiment] = Field(description="the last 8 weeks (Monday to Sunday, UTC), oldest first")
    open_tickets: list[OpenTicket] = Field(description="open tickets within your care reach")
    open_tickets_elsewhere: int = Field(description="open tickets of other teams, not shown")
    max_followers: int
    influence_tier: Literal["nano", "micro", "mid", "macro", "mega"]
    last_events: list[TimelineItem]


class EventBatch(BaseModel):
    events: list[Any] = Field(
        min_length=1, max_length=service.MAX_EVENTS, description="each item as in EventIn; a bad item is "
        "rejected alone", json_schema_extra={"items": service.EventIn.model_json_schema()},
        examples=[[{"customer": "crm-881", "type": "order_placed", "time": "2026-03-02T14:05:00Z",
                    "properties": {"order": "A-1009", "total": 59.9}, "id": "ord-A-1009"}]])


class EventResult(BaseModel):
    index: int = Field(description="the item's position in the batch")
    id: Optional[str] = Field(default=None, description="the id you sent")
    status: Literal["accepted", "duplicate", "rejected"]
    reason: Optional[str] = None


class EventBatchResult(BaseModel):
    accepted: int
    duplicates: int
    rejected: int
    results: list[EventResult]


def writer(found: Annotated[Caller, Depends(caller)]) -> Caller:
    """The calling token, once it may write customers (``customers:write``)."""
    found.require("customers:write")
    return found


@router.put("/customers/{external_id}", response_model=CustomerOut, summary="Create or update a customer",
            responses={201: {"model": CustomerOut, "description": "created"},
                       409: {"description": "an identity or account is already another customer's"}})
def put_customer(external_id: ExternalId, body: CustomerIn, response: Response,
                 found: Annotated[Caller, Depends(writer)],
                 settings: Annotated[Settings, Depends(settings_of)]) -> CustomerOut:
    """The customer you call `external_id`: 201 when new, 200 when updated; the same body again
    changes nothing. Each identity needs `evidence`; a network handle links the stored author."""
    described, created = service.upsert_customer(settings, found.actor, external_id, body.display_name,
                                                 [i.model_dump() for i in body.identities])
    response.status_code = 201 if created else 200
    return CustomerOut(**described)


@router.delete("/customers/{external_id}/identities/{kind}/{value:path}", response_model=CustomerOut,
               summary="Remove one identity from a customer", responses={404: {"description": "the customer "
                                                                                "has no such identity"}})
def delete_identity(external_id: ExternalId, kind: Annotated[IdentityKind, Path(description="email, phone or a "
                    "network")], value: Annotated[str, Path(min_length=1, max_length=300, description="as sent "
                    "in PUT; it is normalised the same way", examples=["dana"])],
                    found: Annotated[Caller, Depends(writer)],
                    settings: Annotated[Settings, Depends(settings_of)]) -> CustomerOut:
    """The identity stops being the customer's, and the account a handle linked is unlinked (its
    posts and tickets leave the customer's timeline). Returns the customer as it is now."""
    return CustomerOut(**identities.remove_identity(settings, found.actor, external_id, kind, value))


@router.get("/customers/{external_id}", response_model=CustomerOut, summary="One customer")
def get_customer(external_id: ExternalId, actor: Annotated[Actor, Depends(needs("customers:read"))],
                 settings: Annotated[Settings, Depends(settings_of)]) -> CustomerOut:
    """The customer with identities (and their evidence) and linked accounts."""
    return CustomerOut(**service.customer(settings, actor, external_id))


@router.get("/customers/{external_id}/timeline", response_model=Page[TimelineItem],
            summary="The customer's timeline, newest first")
def get_timeline(external_id: ExternalId, actor: Annotated[Actor, Depends(needs("customers:read"))],
                 settings: Annotated[Settings, Depends(settings_of)],
                 limit: Annotated[int, Query(ge=1, le=1000)] = 50,
                 cursor: Annotated[Optional[str], Query(description="next_cursor of the previous page")] = None,
                 ) -> Page[TimelineItem]:
    """Posts of every linked account, tickets and the brand's replies (only those within your care
    reach), and events from other systems, merged newest first."""
    limit = min(limit, settings.api.max_page_size)
    rows = service.timeline(settings, actor, external_id, decode_cursor(cursor, datetime, str, int), limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if rows else None
    return Page(items=[TimelineItem(**r) for r in rows],
                next_cursor=encode_cursor(last["at"], last["kind"], last["id"]) if more else None)


@router.get("/customers/{external_id}/context", response_model=CustomerContext,
            summary="What an agent should know at a glance")
def get_context(external_id: ExternalId, actor: Annotated[Actor, Depends(needs("customers:read"))],
                settings: Annotated[Settings, Depends(settings_of)]) -> CustomerContext:
    """Sentiment per week over 8 weeks, open tickets, influence tier (from the most followers of
    any linked account) and the last 5 events."""
    return CustomerContext(**service.context(settings, actor, external_id))


@router.post("/events", response_model=EventBatchResult, summary="Add events from another system")
def post_events(batch: Annotated[EventBatch, Body()], found: Annotated[Caller, Depends(writer)],
                settings: Annotated[Settings, Depends(settings_of)]) -> EventBatchResult:
    """Up to 1000 events; each is accepted, a duplicate (its `id` was sent before by this token's
    name), or rejected with the reason. A bad item never loses the good ones."""
    results = service.add_events(settings, found.actor, found.token_name, batch.events)
    counts = {s: sum(r["status"] == s for r in results) for s in ("accepted", "duplicate", "rejected")}
    return EventBatchResult(accepted=counts["accepted"], duplicates=counts["duplicate"],
                            rejected=counts["rejected"], results=[EventResult(**r) for r in results])
