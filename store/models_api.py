"""Tables of the open API: tokens, idempotent writes, webhooks and the customers' own records."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from store.models import utcnow


class ApiToken(SQLModel, table=True):
    """A bearer token for the API. It acts as its user, within its scopes; only its hash is kept."""
    __tablename__ = "api_tokens"
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    token_hash: str = Field(unique=True, max_length=64)
    prefix: str = Field(max_length=16)  # the first characters, to tell tokens apart in lists
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    rate_per_minute: int = 600
    created_by: Optional[int] = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: Optional[datetime] = None
    last_used_at: Optional[datetime] = None
    revoked_at: Optional[datetime] = None


class IdempotentRequest(SQLModel, table=True):
    """A POST made with an ``Idempotency-Key``: its answer, returned again to a retry."""
    __tablename__ = "idempotent_requests"
    __table_args__ = (UniqueConstraint("token_hash", "key", name="uq_idempotent_token_key"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64)  # the caller's token, by its hash
    key: str = Field(max_length=200)
    fingerprint: str = Field(max_length=64)  # method, path and body hashed: a reused key must match
    response: Optional[Any] = Field(default=None, sa_column=Column(JSON))  # None while still running
    created_at: datetime = Field(default_factory=utcnow, index=True)


class WebhookSubscription(SQLModel, table=True):
    """Where events go: a URL, the event types wanted and the secret their signatures use."""
    __tablename__ = "webhook_subscriptions"
    id: Optional[int] = Field(default=None, primary_key=True)
    url: str = Field(max_length=2000)
    event_types: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    secret: str = Field(max_length=200)  # whsec_<base64>; kept to sign, shown only at creation
    description: str = Field(default="", max_length=300)
    active: bool = True
    disabled_reason: Optional[str] = Field(default=None, sa_column=Column(Text))
    failing_since: Optional[datetime] = None
    created_by: Optional[int] = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class WebhookEvent(SQLModel, table=True):
    """The outbox: one event, written in the same transaction as the change it reports."""
    __tablename__ = "webhook_events"
    id: Optional[int] = Field(default=None, primary_key=True)
    message_id: str = Field(unique=True, max_length=40)  # msg_<...>: the webhook-id header
    type: str = Field(max_length=40, index=True)
    subject: str = Field(default="", max_length=100)  # e.g. ticket:42, events of one subject in order
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, index=True)


class WebhookDelivery(SQLModel, table=True):
    """One event for one subscription: pending → delivered, or dead after the retry schedule."""
    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
                      Index("ix_webhook_deliveries_order", "subscription_id", "subject", "event_id"))
    id: Optional[int] = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="webhook_events.id", ondelete="CASCADE")
    subscription_id: int = Field(foreign_key="webhook_subscriptions.id", ondelete="CASCADE")
    subject: str = Field(default="", max_length=100)
    status: str = Field(default="pending", max_length=20)  # pending | delivered | dead
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    claimed_until: Optional[datetime] = None
    delivered_at: Optional[datetime] = None
    last_error: Optional[str] = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow)


class WebhookAttempt(SQLModel, table=True):
    """The log: every delivery attempt with what the receiver answered."""
    __tablename__ = "webhook_attempts"
    id: Optional[int] = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="webhook_deliveries.id", index=True, ondelete="CASCADE")
    attempted_at: datetime = Field(default_factory=utcnow)
    status_code: Optional[int] = None
    error: Optional[str] = Field(default=None, sa_column=Column(Text))
    duration_ms: int = 0


class CustomerIdentity(SQLModel, table=True):
    """One way to know a customer (email, phone or a network handle) and the evidence for it."""
    __tablename__ = "customer_identities"
    __table_args__ = (UniqueConstraint("kind", "value", name="uq_customer_identities_kind_value"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customers.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=20)  # email | phone | x | reddit | mastodon | bluesky | rss | ...
    value: str = Field(max_length=300)  # normalised: lower-case email, E.164-ish phone, handle
    evidence: str = Field(sa_column=Column(Text, nullable=False))
    author_id: Optional[int] = Field(default=None, foreign_key="authors.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)


class CustomerEvent(SQLModel, table=True):
    """Something the customer did elsewhere: an order, a store visit, a web chat, a CRM case."""
    __tablename__ = "customer_events"
    __table_args__ = (Index("ix_customer_events_customer_time", "customer_id", "occurred_at"),
                      UniqueConstraint("source", "source_id", name="uq_customer_events_source"))
    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customers.id", ondelete="CASCADE")
    type: str = Field(max_length=60)
    occurred_at: datetime
    properties: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    source: str = Field(default="", max_length=100)  # the token's name that sent it
    source_id: Optional[str] = Field(default=None, max_length=200)  # the sender's own id, for dedupe
    created_at: datetime = Field(default_factory=utcnow)
