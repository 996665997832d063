"""SQLModel tables: the only schema brandpulse has. Times are timezone-aware UTC."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Now, as aware UTC (the convention for every stored time)."""
    return datetime.now(timezone.utc)


class Brand(SQLModel, table=True):
    __tablename__ = "brands"
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=200)
    query: str = Field(default="", sa_column_kwargs={"nullable": False})
    is_competitor: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow)


class BrandRival(SQLModel, table=True):
    """``rival_id`` is a competitor of ``brand_id`` (share of voice compares them)."""
    __tablename__ = "brand_rivals"
    brand_id: int = Field(foreign_key="brands.id", primary_key=True, ondelete="CASCADE")
    rival_id: int = Field(foreign_key="brands.id", primary_key=True, ondelete="CASCADE")


class Customer(SQLModel, table=True):
    """One person, possibly behind several authors on several networks."""
    __tablename__ = "customers"
    __table_args__ = (Index("uq_customers_external_id", "external_id", unique=True),)
    id: Optional[int] = Field(default=None, primary_key=True)
    display_name: str = Field(default="", max_length=300)
    external_id: Optional[str] = Field(default=None, max_length=200)  # a partner's own id
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: Optional[datetime] = None


class Author(SQLModel, table=True):
    __tablename__ = "authors"
    __table_args__ = (UniqueConstraint("network", "native_id", name="uq_authors_network_native"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    network: str = Field(max_length=20)
    native_id: str = Field(max_length=200)
    handle: str = Field(default="", max_length=200, index=True)
    name: str = Field(default="", max_length=300)
    followers: Optional[int] = None
    following: Optional[int] = None
    post_count: Optional[int] = None
    verified: bool = False
    profile_url: Optional[str] = Field(default=None, max_length=500)
    created_at: Optional[datetime] = None
    customer_id: Optional[int] = Field(default=None, foreign_key="customers.id", index=True,
                                       ondelete="SET NULL")
    updated_at: datetime = Field(default_factory=utcnow)
    erased_at: Optional[datetime] = None  # profile fields removed (forgotten or past retention)


class Mention(SQLModel, table=True):
    __tablename__ = "mentions"
    __table_args__ = (
        UniqueConstraint("network", "native_id", name="uq_mentions_network_native"),
        Index("ix_mentions_created_at", "created_at"),
        Index("ix_mentions_network_created", "network", "created_at"),
        Index("ix_mentions_status", "analysis_status", "id"),
        Index("ix_mentions_author_created", "author_id", "created_at"),
        Index("ix_mentions_conversation", "network", "conversation_id"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    network: str = Field(max_length=20)
    native_id: str = Field(max_length=200)
    source: str = Field(default="", max_length=40)
    url: Optional[str] = Field(default=None, max_length=1000)
    text: str = Field(sa_column=Column(Text, nullable=False))
    language: Optional[str] = Field(default=None, max_length=12)
    created_at: datetime
    collected_at: datetime = Field(default_factory=utcnow)
    author_id: Optional[int] = Field(default=None, foreign_key="authors.id", ondelete="SET NULL")
    likes: int = 0
    replies: int = 0
    reposts: int = 0
    quotes: int = 0
    views: Optional[int] = None
    in_reply_to_id: Optional[str] = Field(default=None, max_length=200)
    quoted_id: Optional[str] = Field(default=None, max_length=200)
    reposted_id: Optional[str] = Field(default=None, max_length=200)
    conversation_id: Optional[str] = Field(default=None, max_length=200)
    raw: Optional[dict[str, Any]] = Field(default=None, sa_column=Column(JSON))
    analysis_status: str = Field(default="pending", max_length=20)  # pending | claimed | done | ...
    analysis_claimed_until: Optional[datetime] = None  # a claimed mention is another worker's until then
    analysis_error: Optional[str] = Field(default=None, sa_column=Column(Text))
    erased_at: Optional[datetime] = None  # text, raw payload (and link) removed; analysis and counts kept
    erased_reason: Optional[str] = Field(default=None, max_length=20)  # forgotten | deleted | retention


class MentionBrand(SQLModel, table=True):
    """Which brands a mention is about (a post can name a brand and its rival)."""
    __tablename__ = "mention_brands"
    __table_args__ = (Index("ix_mention_brands_brand", "brand_id", "mention_id"),)
    mention_id: int = Field(foreign_key="mentions.id", primary_key=True, ondelete="CASCADE")
    brand_id: int = Field(foreign_key="brands.id", primary_key=True, ondelete="CASCADE")


class Analysis(SQLModel, table=True):
    __tablename__ = "analyses"
    id: Optional[int] = Field(default=None, primary_key=True)
    mention_id: int = Field(foreign_key="mentions.id", unique=True, ondelete="CASCADE")
    model_name: str = Field(max_length=200)
    model_version: str = Field(max_length=100)
    language: Optional[str] = Field(default=None, max_length=12)
    sentiment: Optional[str] = Field(default=None, max_length=10)
    sentiment_negative: Optional[float] = None
    sentiment_neutral: Optional[float] = None
    sentiment_positive: Optional[float] = None
    emotion: Optional[str] = Field(default=None, max_length=20)
    emotion_scores: Optional[dict[str, float]] = Field(default=None, sa_column=Column(JSON))
    complaint: bool = False
    complaint_score: Optional[float] = None
    severity: Optional[str] = Field(default=None, max_length=40)
    intents: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    primary_intent: Optional[str] = Field(default=None, max_length=20)
    offensive: bool = False
    offensive_score: Optional[float] = None
    entities: list[dict[str, str]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    analyzed_at: datetime = Field(default_factory=utcnow, index=True)


class User(SQLModel, table=True):
    __tablename__ = "users"
    id: Optional[int] = Field(default=None, primary_key=True)
    username: str = Field(unique=True, max_length=100)
    password_hash: str = Field(default="", max_length=300)
    role: str = Field(max_length=20)
    team: Optional[str] = Field(default=None, max_length=100)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class Ticket(SQLModel, table=True):
    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_status_priority", "status", "priority"),
                      Index("ix_tickets_team_status", "team", "status"))
    id: Optional[int] = Field(default=None, primary_key=True)
    mention_id: int = Field(foreign_key="mentions.id", unique=True, ondelete="CASCADE")
    brand_id: Optional[int] = Field(default=None, foreign_key="brands.id", ondelete="SET NULL")
    author_id: Optional[int] = Field(default=None, foreign_key="authors.id", ondelete="SET NULL")
    intent: str = Field(max_length=20)
    status: str = Field(default="new", max_length=20)
    priority: float = 0.0
    priority_explanation: dict[str, float] = Field(default_factory=dict,
                                                   sa_column=Column(JSON, nullable=False))
    team: str = Field(max_length=100)
    assignee_id: Optional[int] = Field(default=None, foreign_key="users.id", index=True,
                                       ondelete="SET NULL")
    first_response_due: Optional[datetime] = None
    resolution_due: Optional[datetime] = None
    first_response_at: Optional[datetime] = None
    resolved_at: Optional[datetime] = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = 0  # +1 on every recorded change: a write made against an older version is refused
    posted_at: Optional[datetime] = None  # the customer's post time: the SLA clock starts here
    incident_id: Optional[int] = Field(default=None, foreign_key="incidents.id", index=True,
                                       ondelete="SET NULL")


class TicketMention(SQLModel, table=True):
    """Every mention a ticket covers: its own, plus the same grievance merged in from elsewhere."""
    __tablename__ = "ticket_mentions"
    mention_id: int = Field(foreign_key="mentions.id", primary_key=True, ondelete="CASCADE")
    ticket_id: int = Field(foreign_key="tickets.id", index=True, ondelete="CASCADE")
    reason: str = Field(default="opened", max_length=200)  # opened | same thread | near-identical text
    added_at: datetime = Field(default_factory=utcnow)


class TicketEvent(SQLModel, table=True):
    """Every change to a ticket: who, when, what (status, assignment, note, draft)."""
    __tablename__ = "ticket_events"
    id: Optional[int] = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=20)
    from_value: Optional[str] = Field(default=None, max_length=200)
    to_value: Optional[str] = Field(default=None, max_length=200)
    body: Optional[str] = Field(default=None, sa_column=Column(Text))
    user_id: Optional[int] = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)


class Alert(SQLModel, table=True):
    __tablename__ = "alerts"
    id: Optional[int] = Field(default=None, primary_key=True)
    brand_id: Optional[int] = Field(default=None, foreign_key="brands.id", index=True,
                                    ondelete="CASCADE")
    rule: str = Field(max_length=40)
    severity: str = Field(default="warning", max_length=20)
    title: str = Field(max_length=500)
    evidence: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    window_start: datetime
    window_end: datetime
    dedupe_key: str = Field(unique=True, max_length=300)
    fired_at: datetime = Field(default_factory=utcnow, index=True)
    acknowledged_at: Optional[datetime] = None
    acknowledged_by: Optional[int] = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    delivered_at: Optional[datetime] = None
    delivery_error: Optional[str] = Field(default=None, sa_column=Column(Text))


class CollectorCursor(SQLModel, table=True):
    """Where a (source, brand) stream left off; written in the page's transaction."""
    __tablename__ = "collector_cursors"
    source: str = Field(primary_key=True, max_length=100)
    brand: str = Field(primary_key=True, max_length=200)
    cursor: Optional[str] = Field(default=None, sa_column=Column(Text))
    updated_at: datetime = Field(default_factory=utcnow)


class CollectorHealth(SQLModel, table=True):
    __tablename__ = "collector_health"
    source: str = Field(primary_key=True, max_length=100)
    brand: str = Field(primary_key=True, max_length=200)
    last_run_at: Optional[datetime] = None
    last_success_at: Optional[datetime] = None
    last_error_at: Optional[datetime] = None
    last_error: Optional[str] = Field(default=None, sa_column=Column(Text))
    items_last_run: int = 0
    items_total: int = 0
    rate_limited_until: Optional[datetime] = None
    state: str = Field(default="ok", max_length=20)  # ok | error | rate_limited | usage_capped | daily_cap
    spend_day: Optional[str] = Field(default=None, max_length=10)  # UTC date of spend_today
    spend_today: float = 0.0
    spend_total: float = 0.0
    next_run_at: Optional[datetime] = None


class Quarantine(SQLModel, table=True):
    """A malformed record kept with its reason, so nothing is silently lost."""
    __tablename__ = "quarantine"
    __table_args__ = (UniqueConstraint("origin", "location", name="uq_quarantine_origin_location"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    origin: str = Field(max_length=500)
    location: str = Field(max_length=200)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    payload: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class Lease(SQLModel, table=True):
    """A named lease: only its holder may do the work until it expires (one collector per source)."""
    __tablename__ = "leases"
    name: str = Field(primary_key=True, max_length=200)
    holder: str = Field(max_length=200)
    expires_at: datetime


class CollectorGap(SQLModel, table=True):
    """A time a source was down longer than its cadence, and what recovery back-filled."""
    __tablename__ = "collector_gaps"
    id: Optional[int] = Field(default=None, primary_key=True)
    source: str = Field(max_length=100, index=True)
    brand: str = Field(max_length=200)
    started_at: datetime
    ended_at: datetime
    backfilled_items: int = 0


class RollupKey(SQLModel):
    """The dimensions both rollups count by: a UTC day, a brand and every dashboard filter."""
    id: Optional[int] = Field(default=None, primary_key=True)
    day: str = Field(max_length=10)  # YYYY-MM-DD, UTC
    brand_id: int = Field(foreign_key="brands.id", ondelete="CASCADE")
    network: str = Field(max_length=20)
    language: str = Field(default="", max_length=12)
    sentiment: str = Field(default="unscored", max_length=10)
    intent: str = Field(default="", max_length=20)


class MentionRollup(RollupKey, table=True):
    """Mentions per day and brand under every dashboard filter (rebuilt per touched day)."""
    __tablename__ = "mention_rollups"
    __table_args__ = (Index("ix_mention_rollups_brand_day", "brand_id", "day"),)
    mentions: int = 0
    complaints: int = 0


class TermRollup(RollupKey, table=True):
    """Entity and aspect counts per day and brand under the same filters as MentionRollup."""
    __tablename__ = "term_rollups"
    __table_args__ = (Index("ix_term_rollups_brand_day", "brand_id", "day"),)
    label: str = Field(max_length=20)  # ASPECT, ORG, PRODUCT, PERSON, GPE, BRAND, COMPETITOR...
    term: str = Field(max_length=200)
    mentions: int = 0


class RollupState(SQLModel, table=True):
    """How far the rollups are up to date (mentions collected / analysed before this time)."""
    __tablename__ = "rollup_state"
    name: str = Field(primary_key=True, max_length=40)
    refreshed_at: datetime
    last_mention_id: int = 0  # mentions above this id are new since the refresh


class AuthorInfluence(SQLModel, table=True):
    """An author's influence on one brand, 0-100, with every component kept for the explanation."""
    __tablename__ = "author_influence"
    __table_args__ = (Index("ix_author_influence_brand_score", "brand_id", "score"),)
    author_id: int = Field(foreign_key="authors.id", primary_key=True, ondelete="CASCADE")
    brand_id: int = Field(foreign_key="brands.id", primary_key=True, ondelete="CASCADE")
    score: float = 0.0
    tier: str = Field(default="nano", max_length=10)
    reach: float = 0.0
    engagement: float = 0.0
    authority: float = 0.0
    relevance: float = 0.0
    recency: float = 0.0
    bot_likelihood: float = 0.0
    bot_signals: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    posts_about_brand: int = 0
    posts_total: int = 0
    sentiment: Optional[float] = None  # mean of +1 positive / -1 negative over analysed posts about the brand
    vip: bool = False
    computed_at: datetime = Field(default_factory=utcnow)


class Topic(SQLModel, table=True):
    """A cluster of recent mentions about a brand, labelled by its most telling words."""
    __tablename__ = "topics"
    __table_args__ = (Index("ix_topics_brand_computed", "brand_id", "computed_at"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brands.id", ondelete="CASCADE")
    computed_at: datetime = Field(default_factory=utcnow)
    label: str = Field(max_length=300)
    terms: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    size: int = 0
    share: float = 0.0
    growth: float = 0.0  # mentions in the last 48 h against the 48 h before (ratio)
    emerging: bool = False
    representative: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    trend: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class TopicMention(SQLModel, table=True):
    """Which mentions a topic was clustered from (its members)."""
    __tablename__ = "topic_mentions"
    __table_args__ = (Index("ix_topic_mentions_mention", "mention_id"),)
    topic_id: int = Field(foreign_key="topics.id", primary_key=True, ondelete="CASCADE")
    mention_id: int = Field(foreign_key="mentions.id", primary_key=True, ondelete="CASCADE")


class ReportRun(SQLModel, table=True):
    """A scheduled report that was produced (so each period's report is made once)."""
    __tablename__ = "report_runs"
    __table_args__ = (UniqueConstraint("brand_id", "cadence", "period_end", name="uq_report_runs_period"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    brand_id: int = Field(foreign_key="brands.id", ondelete="CASCADE")
    cadence: str = Field(max_length=10)  # daily | weekly
    period_end: datetime
    path: str = Field(default="", max_length=1000)
    delivered: bool = False
    error: Optional[str] = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow)


class UserSession(SQLModel, table=True):
    """A signed-in dashboard session; only a SHA-256 of its token is stored, never the token."""
    __tablename__ = "user_sessions"
    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    client: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    ended_at: Optional[datetime] = None
    end_reason: Optional[str] = Field(default=None, max_length=20)  # signed_out | expired | revoked | inactive


class LoginAttempt(SQLModel, table=True):
    """One checked sign-in (name as typed, client, when, whether it worked): throttling survives restarts."""
    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_username_at", "username", "at"),
                      Index("ix_login_attempts_client_at", "client", "at"))
    id: Optional[int] = Field(default=None, primary_key=True)
    username: str = Field(max_length=100)
    client: str = Field(max_length=200)
    at: datetime = Field(default_factory=utcnow, index=True)
    ok: bool = False


class Incident(SQLModel, table=True):
    """Many complaints with one cause (an outage): one status, one public answer, one resolution."""
    __tablename__ = "incidents"
    id: Optional[int] = Field(default=None, primary_key=True)
    brand_id: Optional[int] = Field(default=None, foreign_key="brands.id", ondelete="SET NULL")
    title: str = Field(max_length=300)
    status: str = Field(default="open", max_length=20)  # open | monitoring | resolved
    public_answer: Optional[str] = Field(default=None, sa_column=Column(Text))
    cause: str = Field(default="", max_length=300)  # how it was found: alert #n, topic, similar text
    created_by: Optional[int] = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    resolved_at: Optional[datetime] = None


class Reply(SQLModel, table=True):
    """The outbox: one public reply to one post, written by an agent and published by a worker.

    ``status``: awaiting_approval → queued → sending → published, or failed (with the network's
    reason; retry puts it back to queued), or declined by a lead. ``attempts`` counts sends begun:
    a reply found in ``sending`` with attempts may have reached the network, so the worker looks
    for it there before it sends again.
    """
    __tablename__ = "replies"
    __table_args__ = (Index("ix_replies_status_due", "status", "next_attempt_at"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True, ondelete="CASCADE")
    mention_id: int = Field(foreign_key="mentions.id", ondelete="CASCADE")  # the post answered
    incident_id: Optional[int] = Field(default=None, foreign_key="incidents.id", ondelete="SET NULL")
    network: str = Field(max_length=20)
    account: str = Field(max_length=100)  # the reply account's id in config (care.reply_accounts)
    body: str = Field(sa_column=Column(Text, nullable=False))
    idempotency_key: str = Field(unique=True, max_length=64)
    status: str = Field(default="queued", max_length=20)
    attempts: int = 0
    next_attempt_at: Optional[datetime] = None
    claimed_until: Optional[datetime] = None
    written_by: Optional[int] = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    approved_by: Optional[int] = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    published_id: Optional[str] = Field(default=None, max_length=300)
    published_url: Optional[str] = Field(default=None, max_length=1000)
    published_at: Optional[datetime] = None
    error: Optional[str] = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class TicketViewer(SQLModel, table=True):
    """Who has a ticket open right now (refreshed while the page is open): collisions are seen."""
    __tablename__ = "ticket_viewers"
    ticket_id: int = Field(foreign_key="tickets.id", primary_key=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="users.id", primary_key=True, ondelete="CASCADE")
    seen_at: datetime = Field(default_factory=utcnow)
