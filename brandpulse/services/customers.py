"""Omni-channel customers: partners push who a customer is (with evidence) and what they did;
every shell reads one timeline of their posts, tickets, the brand's replies and those events.

Writing needs the action ``customer.events``; reading needs the Care inbox page, and lists only
the tickets (and replies on them) within the reader's care reach.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any, Optional
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, ValidationError, field_validator

from brandpulse.core.errors import BrandpulseError, NotFoundError, WorkflowError
from brandpulse.core.records import NETWORKS, as_utc
from brandpulse.core.settings import Settings
from brandpulse.core.tiers import tier_of
from brandpulse.services.access import Actor, may_reach_ticket, require_page
from brandpulse.services.accounts import authorize
from brandpulse.services.care import reach_ticket
from store import customer_records as records
from store.engine import session_scope
from store.models import Author, Customer, utcnow
from store.ticket_actions import get_ticket
from store.tickets import OPEN_STATUSES
from store.webhooks import enqueue_event

MAX_EVENTS = 1000
MAX_PROPERTIES_BYTES = 16_384
EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_.]{0,59}$")
_EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_HANDLE = re.compile(r"^[\w.\-]{1,100}(@[A-Za-z0-9.\-]{1,190})?$")
FUTURE_SLACK = timedelta(days=1)


def normalise_identity(kind: str, value: str) -> str:
    """The stored form of an identity: a lower-case e-mail, ``+digits`` phone, or a bare handle.

    ValueError (saying what to send instead) when it is not one.
    """
    raw = value.strip()
    if kind == "email":
        if len(raw) > 254 or not _EMAIL.match(raw):
            raise ValueError(f"{raw[:80]!r} is not an e-mail address; send it as name@domain.example")
        return raw.lower()
    if kind == "phone":
        digits = re.sub(r"[\s().\-/]", "", raw)
        digits = "+" + digits[2:] if digits.startswith("00") else digits
        if not re.fullmatch(r"\+[1-9]\d{5,14}", digits):
            raise ValueError(f"{raw[:40]!r} is not a phone number with its country code; send it as "
                             "+<country code><number>, e.g. +49 151 2345678")
        return digits
    if kind in NETWORKS:
        handle = raw.removeprefix("u/") if kind == "reddit" else raw
        handle = handle.lstrip("@").lower()
        if not _HANDLE.match(handle) or ("@" in handle and kind != "mastodon"):
            raise ValueError(f"{raw[:80]!r} is not a {kind} handle; send the handle alone, e.g. dana"
                             + (" or dana@mastodon.social" if kind == "mastodon" else ""))
        return handle
    raise ValueError(f"identity kind {kind!r} is unknown; use email, phone or one of {', '.join(NETWORKS)}")


class EventIn(BaseModel):
    """One event from another system, as POST /v1/events takes it."""
    customer: str = Field(min_length=1, max_length=200, description="the customer's external_id",
                          examples=["crm-881"])
    type: str = Field(description="order_placed, store_visit, web_chat, crm_case, or any "
                                  "`^[a-z][a-z0-9_.]{0,59}$`", examples=["order_placed"])
    time: str = Field(description="when it happened, ISO 8601 (no offset: UTC); at most 1 day ahead",
                      examples=["2026-03-02T14:05:00Z"])
    properties: dict[str, Any] = Field(default_factory=dict, description="what happened, a JSON object "
                                       f"(at most {MAX_PROPERTIES_BYTES} bytes)", examples=[{"order": "A-1009",
                                                                                           "total": 59.9}])
    id: Optional[str] = Field(default=None, min_length=1, max_length=200, description="your own id of the "
                              "event: sending it again does not add it twice", examples=["ord-A-1009"])

    @field_validator("type")
    @classmethod
    def _type(cls, value: str) -> str:
        if not EVENT_TYPE.match(value):
            raise ValueError(f"{value[:80]!r} is not an event type; use lower-case letters, digits, _ and . "
                             "starting with a letter, e.g. order_placed")
        return value

    @field_validator("time")
    @classmethod
    def _time(cls, value: str) -> str:
        try:
            moment = as_utc(datetime.fromisoformat(value.strip()))
        except (ValueError, OverflowError):  # OverflowError: year 1 with an offset east of UTC
            raise ValueError(f"{value[:60]!r} is not an ISO 8601 time; send e.g. 2026-03-02T14:05:00Z") from None
        if moment > utcnow() + FUTURE_SLACK:
            raise ValueError(f"{moment.isoformat()} is more than a day in the future; fix the sender's clock")
        return moment.isoformat()

    @field_validator("properties")
    @classmethod
    def _properties(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(json.dumps(value, default=str).encode()) > MAX_PROPERTIES_BYTES:
            raise ValueError(f"properties are over {MAX_PROPERTIES_BYTES} bytes as JSON; send the key facts only")
        return value


def _reader(settings: Settings, actor: Actor) -> Actor:
    actor = authorize(settings, actor)
    require_page(actor, "Care inbox")
    return actor


def customer_called(session, external_id: str) -> Customer:
    """The customer a partner calls ``external_id``; NotFoundError saying how to create it."""
    found = records.which_customer_has_external_id(session, external_id)
    if found is None:
        raise NotFoundError(f"no customer has external_id {external_id[:200]!r}; "
                            f"create it with PUT /v1/customers/{external_id[:200]}")
    return found


def describe_customer(session, customer: Customer) -> dict[str, Any]:
    """The customer as the API shows it: ids, name, identities with evidence, linked authors."""
    return {"id": customer.id, "external_id": customer.external_id, "display_name": customer.display_name,
            "created_at": customer.created_at, "updated_at": customer.updated_at,
            "identities": [{"kind": i.kind, "value": i.value, "evidence": i.evidence, "author_id": i.author_id}
                           for i in records.which_identities_has_this_customer(session, customer.id)],
            "authors": [{"id": a.id, "network": a.network, "handle": a.handle, "followers": a.followers}
                        for a in records.which_authors_are_this_customer(session, customer.id)]}


def authors_matching_handle(session, network: str, handle: str) -> list[Author]:
    """Stored authors of ``network`` with this handle; a mastodon user@instance also matches the
    instance's local account ``user`` whose profile lives on that instance."""
    user, _, instance = handle.partition("@")
    found = records.which_authors_have_handle(session, network, [handle, user] if instance else [handle])
    return [a for a in found if a.handle.lower() == handle or
            (instance and (urlsplit(a.profile_url or "").hostname or "").lower() == instance)]


def _owner(session, customer_id: int) -> str:
    other = session.get(Customer, customer_id)
    return f"customer #{customer_id}" + (f" (external_id {other.external_id!r})" if other and other.external_id
                                         else " (linked by care agents)")


def upsert_customer(settings: Settings, actor: Actor, external_id: str, display_name: str,
                    identities: list[dict[str, str]]) -> tuple[dict[str, Any], bool]:
    """Create or update the customer a partner calls ``external_id``: (it, whether it was created).

    Identities are added (``customer_identities.remove_identity`` takes one away), each with its evidence; a handle links the stored
    author of that network and handle. An identity or author already another customer's is a
    WorkflowError naming both; a care agents' grouping without an external id is folded in.
    """
    actor = authorize(settings, actor, "customer.events")
    external_id = external_id.strip()
    if not 1 <= len(external_id) <= 200 or not external_id.isprintable():
        raise BrandpulseError(f"external_id {external_id[:80]!r} must be 1 to 200 printable characters")
    wanted = []
    for n, identity in enumerate(identities):
        evidence = (identity.get("evidence") or "").strip()
        if not evidence:
            raise BrandpulseError(f"identities[{n}].evidence is empty: say how you know this identity is "
                                  "the customer's, e.g. 'customer confirmed handle in CRM case 881'")
        try:
            wanted.append((identity["kind"], normalise_identity(identity["kind"], identity["value"]), evidence))
        except ValueError as exc:
            raise BrandpulseError(f"identities[{n}].value: {exc}") from None
    with session_scope(settings.database.url) as session:
        customer, created = records.add_customer_unless_known(session, external_id, display_name.strip())
        changed, merged = created, []
        if not created and display_name.strip() and display_name.strip() != customer.display_name:
            customer.display_name, changed = display_name.strip(), True
        for kind, value, evidence in wanted:
            stored, made = records.add_identity_unless_owned(session, customer.id, kind, value, evidence)
            if stored.customer_id != customer.id:
                raise WorkflowError(f"{kind} {value!r} is already {_owner(session, stored.customer_id)}'s, so it "
                                    f"cannot also be customer {external_id!r}'s; nothing was changed. If they are "
                                    "one person, send them under one external_id")
            changed = changed or made
            if stored.evidence != evidence:
                stored.evidence, changed = evidence, True
            for author in authors_matching_handle(session, kind, value) if kind in NETWORKS else []:
                if author.customer_id == customer.id:
                    continue
                if author.customer_id is not None:
                    other = session.get(Customer, author.customer_id)
                    if other is not None and other.external_id:
                        raise WorkflowError(f"{kind} @{author.handle} (author #{author.id}) is already "
                                            f"{_owner(session, other.id)}'s, so it cannot also be customer "
                                            f"{external_id!r}'s; nothing was changed")
                    records.fold_customer_into(session, author.customer_id, customer.id)
                    merged.append(author.customer_id)
                records.link_author_to_customer(session, author.id, customer.id)
                stored.author_id, changed = stored.author_id or author.id, True
        session.flush()
        session.expire_all()
        customer = session.get(Customer, customer.id)
        if changed:
            customer.updated_at = utcnow()
            session.flush()
        described = describe_customer(session, customer)
        if changed:
            enqueue_event(session, "customer.updated", f"customer:{customer.id}", {
                "customer": {**described, "created_at": customer.created_at.isoformat(),
                             "updated_at": customer.updated_at.isoformat()},
                "created": created, "folded_customers": merged, "by": actor.username})
        return described, created


def customer(settings: Settings, actor: Actor, external_id: str) -> dict[str, Any]:
    """The customer with identities and linked authors."""
    _reader(settings, actor)
    with session_scope(settings.database.url) as session:
        return describe_customer(session, customer_called(session, external_id))


def add_events(settings: Settings, actor: Actor, source: str, items: list[Any]) -> list[dict[str, Any]]:
    """Store a batch of events sent by ``source``; per item: accepted, duplicate or rejected (why).

    A bad item never stops the good ones; an ``id`` already seen from ``source`` is a duplicate.
    """
    authorize(settings, actor, "customer.events")
    if len(items) > MAX_EVENTS:
        raise BrandpulseError(f"{len(items)} events in one batch; send at most {MAX_EVENTS} per request")
    results: list[dict[str, Any]] = []
    valid: list[tuple[int, EventIn]] = []
    for n, item in enumerate(items):
        sent_id = item.get("id") if isinstance(item, dict) else None
        results.append({"index": n, "id": sent_id if isinstance(sent_id, str) else None, "status": "rejected",
                        "reason": None})
        try:
            valid.append((n, EventIn.model_validate(item)))
        except ValidationError as exc:
            results[n]["reason"] = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'event'}: "
                                             f"{e['msg'].removeprefix('Value error, ')}" for e in exc.errors())
    with session_scope(settings.database.url) as session:
        seen = records.which_event_ids_were_seen(session, source, [e.id for _, e in valid if e.id])
        customers: dict[str, Customer | None] = {}
        rows = []
        for n, event in valid:
            if event.customer not in customers:
                customers[event.customer] = records.which_customer_has_external_id(session, event.customer)
            found = customers[event.customer]
            if found is None:
                results[n]["reason"] = (f"customer: no customer has external_id {event.customer!r}; create it "
                                        "with PUT /v1/customers/{external_id} first")
            elif event.id is not None and event.id in seen:
                results[n].update(status="duplicate", reason=f"event id {event.id!r} from {source!r} is stored")
            else:
                if event.id is not None:
                    seen.add(event.id)
                rows.append({"customer_id": found.id, "type": event.type, "properties": event.properties,
                             "occurred_at": datetime.fromisoformat(event.time), "source": source,
                             "source_id": event.id, "created_at": utcnow()})
                results[n]["status"] = "accepted"
        records.add_customer_events(session, rows)
    return results


def _reachable(actor: Actor, tickets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [t for t in tickets if may_reach_ticket(actor, t["team"], t["assignee_id"])]


def _later(after: tuple[datetime, str, int], item: dict[str, Any]) -> bool:
    """Whether ``item`` comes after the key ``after`` in the timeline (newest first)."""
    return (as_utc(item["at"]), item["kind"], item["id"]) < after


KINDS = ("post", "ticket", "reply", "event")


def _timeline(session, actor: Actor, customer: Customer, after, limit: int,
              kinds: tuple[str, ...] = KINDS) -> list[dict[str, Any]]:
    author_ids = [a.id for a in records.which_authors_are_this_customer(session, customer.id)]
    reachable = _reachable(actor, records.which_tickets_have_these_authors(session, author_ids)) if author_ids else []
    items = []
    if "post" in kinds and author_ids:
        items += records.which_posts_come_after(session, author_ids, after, limit)
    if "ticket" in kinds:
        items += [t for t in reachable if after is None or _later(after, t)][:limit]
    if "reply" in kinds:
        items += records.which_replies_come_after(session, [t["id"] for t in reachable], after, limit)
    if "event" in kinds:
        items += records.which_events_come_after(session, customer.id, after, limit)
    for item in items:
        item["at"] = as_utc(item["at"])
        item.pop("assignee_id", None)
    return sorted(items, key=lambda i: (i["at"], i["kind"], i["id"]), reverse=True)[:limit]


def timeline(settings: Settings, actor: Actor, external_id: str, after: tuple[datetime, str, int] | None,
             limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` timeline items (post, ticket, reply, event), newest first, after the key
    (at, kind, id); tickets and their replies only within the actor's care reach."""
    actor = _reader(settings, actor)
    with session_scope(settings.database.url) as session:
        return _timeline(session, actor, customer_called(session, external_id), after, limit)


def context(settings: Settings, actor: Actor, external_id: str, now: datetime | None = None) -> dict[str, Any]:
    """Sentiment per week (last 8 weeks), open tickets within reach, influence tier, last 5 events."""
    actor, now = _reader(settings, actor), now or utcnow()
    with session_scope(settings.database.url) as session:
        found = customer_called(session, external_id)
        authors = records.which_authors_are_this_customer(session, found.id)
        ids = [a.id for a in authors]
        monday = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
        weeks = [monday - timedelta(weeks=w) for w in range(7, -1, -1)]
        counts = {w: {"positive": 0, "neutral": 0, "negative": 0} for w in weeks}
        for at, sentiment in records.how_did_these_authors_feel_since(session, ids, weeks[0]) if ids else []:
            at = as_utc(at)
            week = (at - timedelta(days=at.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
            if week in counts and sentiment in counts[week]:
                counts[week][sentiment] += 1
        trend = [{"week_start": w.date(), "posts": sum(c.values()), **c,
                  "net": round((c["positive"] - c["negative"]) / sum(c.values()), 3) if sum(c.values()) else None}
                 for w, c in counts.items()]
        tickets = records.which_tickets_have_these_authors(session, ids) if ids else []
        open_tickets = [t for t in tickets if t["status"] in OPEN_STATUSES]
        mine = _reachable(actor, open_tickets)
        followers = max((a.followers or 0 for a in authors), default=0)
        return {"external_id": found.external_id, "sentiment_trend": trend,
                "open_tickets": [{k: t[k] for k in ("id", "at", "status", "intent", "team", "network")}
                                 for t in mine],
                "open_tickets_elsewhere": len(open_tickets) - len(mine),
                "max_followers": followers, "influence_tier": tier_of(followers),
                "last_events": records.which_events_come_after(session, found.id, None, 5)}


def timeline_for_ticket(settings: Settings, actor: Actor, ticket_id: int, limit: int = 100,
                        kinds: tuple[str, ...] = KINDS) -> list[dict[str, Any]]:
    """The timeline (of ``kinds``) of the customer behind a ticket the actor may reach; empty without one."""
    actor = authorize(settings, actor, "ticket.work")
    with session_scope(settings.database.url) as session:
        ticket = get_ticket(session, ticket_id)
        reach_ticket(actor, ticket)
        author = session.get(Author, ticket.author_id) if ticket.author_id else None
        if author is None or author.customer_id is None:
            return []
        return _timeline(session, actor, session.get(Customer, author.customer_id), None, limit, kinds)
