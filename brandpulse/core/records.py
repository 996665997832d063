"""Normalized records: what collectors and importers hand to the store.

Collectors and importers never touch SQL; they produce these plain dataclasses and
the store persists them idempotently on ``(network, native_id)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

NETWORKS = ("x", "reddit", "bluesky", "mastodon", "rss", "file")
# the sane range of a post's or account's time: nothing social predates 1970, and a clock
# may run a day fast; anything outside is a broken export, not a post
EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
FUTURE_SLACK = timedelta(days=1)
MAX_COUNT = 2**31 - 1  # likes, followers, views...: what every backend's INTEGER column holds
DELETED_MARKERS = ("[deleted]", "[removed]")  # what Reddit (and exports of it) put where the text was


def json_safe(value: Any) -> Any:
    """A raw payload as plain JSON: datetimes as ISO text, library objects as their str()."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return str(value)


def as_utc(moment: datetime) -> datetime:
    """Aware UTC; naive datetimes are taken to already be UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def time_out_of_range(moment: datetime, now: datetime | None = None) -> str | None:
    """Why ``moment`` is not a believable post or account time, or None when it is."""
    latest = (now or datetime.now(timezone.utc)) + FUTURE_SLACK
    if moment < EARLIEST or moment > latest:
        return (f"{moment.isoformat()} is outside {EARLIEST:%Y-%m-%d} .. {latest:%Y-%m-%d %H:%M} UTC; "
                "fix the date (epoch seconds or milliseconds, or ISO 8601)")
    return None


@dataclass(slots=True)
class AuthorRecord:
    network: str
    native_id: str
    handle: str = ""
    name: str = ""
    followers: int | None = None
    following: int | None = None
    post_count: int | None = None
    verified: bool = False
    profile_url: str | None = None
    created_at: datetime | None = None


@dataclass(slots=True)
class MentionRecord:
    network: str
    native_id: str
    text: str
    created_at: datetime
    source: str = ""
    url: str | None = None
    language: str | None = None
    author: AuthorRecord | None = None
    likes: int = 0
    replies: int = 0
    reposts: int = 0
    quotes: int = 0
    views: int | None = None
    in_reply_to_id: str | None = None
    quoted_id: str | None = None
    reposted_id: str | None = None
    conversation_id: str | None = None
    raw: dict[str, Any] | None = None
    brands: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        return (self.network, self.native_id)


@dataclass(slots=True)
class Page:
    """One page from a collector: mentions, the cursor to resume from, and problems met."""
    mentions: list[MentionRecord]
    next_cursor: str | None
    quarantined: list[tuple[str, str, str]] = field(default_factory=list)  # (location, reason, payload)
    partial_errors: list[str] = field(default_factory=list)
    done: bool = True
    items_read: int | None = None  # items the source billed for (default: len(mentions))
    deleted: list[tuple[str, str]] = field(default_factory=list)  # (network, native_id) gone at the source


def says_deleted(record: MentionRecord) -> bool:
    """Whether a record stands for a post deleted or removed at its source: its text is only a
    marker (``[deleted]``, ``[removed]``), or a Reddit post's body is one (the title stays)."""
    text = record.text.strip() if isinstance(record.text, str) else ""
    if text in DELETED_MARKERS:
        return True
    if record.network != "reddit":
        return False
    raw = record.raw if isinstance(record.raw, dict) else {}
    body = raw.get("body", raw.get("selftext"))
    return (isinstance(body, str) and body.strip() in DELETED_MARKERS) \
        or text.rsplit("\n\n", 1)[-1].strip() in DELETED_MARKERS
