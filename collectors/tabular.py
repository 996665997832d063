"""Read CSV and JSONL exports of other tools into MentionRecords, row by row.

Each row becomes a record or a :class:`RecordError` naming the field and the
reason, so callers quarantine bad rows and go on. Column names are matched to
canonical fields through aliases (``tweet_id`` → ``native_id``) and ``--map``.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from dateutil import parser as dateparser
from dateutil.parser import ParserError, UnknownTimezoneWarning

from brandpulse.core.errors import ImportFormatError, RecordError
from brandpulse.core.records import NETWORKS, AuthorRecord, MentionRecord, as_utc, time_out_of_range

CANONICAL = (
    "native_id", "text", "created_at", "network", "url", "language", "brand",
    "author_id", "author_handle", "author_name", "author_followers", "author_following",
    "author_post_count", "author_verified", "author_profile_url", "author_created_at",
    "likes", "replies", "reposts", "quotes", "views",
    "in_reply_to_id", "quoted_id", "reposted_id", "conversation_id",
)
ALIASES = {
    "id": "native_id", "tweet_id": "native_id", "post_id": "native_id", "status_id": "native_id",
    "uri": "native_id", "content": "text", "body": "text", "message": "text", "full_text": "text",
    "date": "created_at", "timestamp": "created_at", "tweet_created": "created_at",
    "published": "created_at", "time": "created_at", "created": "created_at",
    "lang": "language", "link": "url", "permalink": "url",
    "name": "author_handle", "user": "author_handle", "username": "author_handle",
    "screen_name": "author_handle", "handle": "author_handle", "author": "author_handle",
    "user_screen_name": "author_handle", "user_name": "author_name",
    "followers": "author_followers", "followers_count": "author_followers",
    "user_followers_count": "author_followers", "verified": "author_verified",
    "like_count": "likes", "favorite_count": "likes", "favorites": "likes",
    "reply_count": "replies", "retweet_count": "reposts", "retweets": "reposts",
    "repost_count": "reposts", "shares": "reposts", "quote_count": "quotes",
    "impression_count": "views", "in_reply_to_status_id": "in_reply_to_id",
}
INT_FIELDS = ("likes", "replies", "reposts", "quotes", "views", "author_followers",
              "author_following", "author_post_count")
MAX_TEXT = 100_000


def _key(name: str) -> str:
    return name.strip().lower().replace(".", "_").replace(" ", "_").replace("-", "_")


@dataclass
class ColumnMap:
    """How source columns map to canonical fields: explicit ``--map`` first, then aliases."""
    explicit: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, pairs: list[str]) -> "ColumnMap":
        explicit: dict[str, str] = {}
        for pair in pairs:
            column, sep, target = pair.partition("=")
            if not sep or not column or target not in CANONICAL:
                raise ImportFormatError(
                    f"--map {pair!r} is not column=field with a known field; fields are: "
                    f"{', '.join(CANONICAL)}")
            if target in explicit.values():
                raise ImportFormatError(f"--map: two columns map to {target}; map one column to each field")
            explicit[_key(column)] = target
        return cls(explicit)

    def field_for(self, column: str) -> str | None:
        key = _key(column)
        if key in self.explicit:
            return self.explicit[key]
        if key in self.explicit.values():
            return None  # an explicit map claimed this field from another column
        if key in CANONICAL:
            return key
        alias = ALIASES.get(key)
        return None if alias in self.explicit.values() else alias

    def apply(self, row: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for column, value in row.items():
            target = self.field_for(str(column))
            if target and target not in out and value not in (None, ""):
                out[target] = value
        return out


def _flatten(obj: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and not prefix:
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _integer(fields: dict[str, Any], name: str) -> int | None:
    value = fields.get(name)
    if value is None or value == "":
        return None
    text = str(value).replace(",", "").strip()
    try:
        number = int(text) if text.lstrip("+-").isdigit() else int(float(text))
    except (ValueError, OverflowError):  # words, NaN, inf, 1e400, thousands of digits
        raise RecordError(f"{name} {text[:40]!r} is not a finite whole number", name) from None
    return number  # its range (0..2^31-1) is checked with every other limit by store.fitness


_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
_DEFAULTS = (datetime(2000, 1, 1), datetime(2001, 2, 2))  # what dateutil fills in, told apart


def _moment(text: str, name: str) -> datetime:
    if _NUMBER.fullmatch(text):
        whole = text.lstrip("+-").split(".")[0]
        if len(whole) == 8 and text.isdigit():  # 20240501: a compact date, not 1970-08-23
            return datetime.strptime(text, "%Y%m%d").replace(tzinfo=timezone.utc)
        if len(whole) < 9:
            raise RecordError(f"{name} {text!r} is a number too short for a time: epoch seconds have "
                              "9-10 digits, milliseconds 12-13, and a date needs a year, month and day",
                              name)
        number = float(text)
        return datetime.fromtimestamp(number / 1000 if abs(number) > 1e11 else number, timezone.utc)
    try:
        return as_utc(datetime.fromisoformat(text))  # ISO 8601, the usual case, in one step
    except ValueError:
        pass
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnknownTimezoneWarning)
        try:
            first, second = (dateparser.parse(text, default=d) for d in _DEFAULTS)
        except UnknownTimezoneWarning:
            raise RecordError(f"{name} {text[:60]!r} names a time zone brandpulse does not know; write "
                              "an offset such as -08:00, or UTC", name) from None
    if first.date() != second.date():
        raise RecordError(f"{name} {text[:60]!r} is not a full date (it needs a year, month and day; "
                          "brandpulse does not guess them from today)", name)
    return as_utc(first)


def parse_time(value: Any, name: str = "created_at") -> datetime:
    """A datetime from ISO text, other full dates (with a known zone or an offset), YYYYMMDD, or
    epoch seconds/milliseconds, within :data:`brandpulse.core.records.EARLIEST` .. now +
    :data:`brandpulse.core.records.FUTURE_SLACK`; RecordError for anything else, never a guess."""
    if isinstance(value, datetime):
        moment = as_utc(value)
    else:
        text = str(value).strip()
        try:
            moment = _moment(text, name)
        except (ValueError, OverflowError, TypeError, OSError, ParserError):
            raise RecordError(f"{name} {text[:60]!r} is not a date or time", name) from None
    problem = time_out_of_range(moment)
    if problem:
        raise RecordError(f"{name} {problem}", name)
    return moment


def record_from_row(row: dict[str, Any], columns: ColumnMap, *, network: str | None,
                    brand: str | None, source: str) -> MentionRecord:
    """One canonical MentionRecord from a raw row; raise RecordError when it is malformed."""
    fields = columns.apply(_flatten(row))
    text = fields.get("text")
    if text is not None and not isinstance(text, str):
        raise RecordError(f"text is a {type(text).__name__} ({str(text)[:40]}), not text", "text")
    if not text or not text.strip():
        raise RecordError("text is missing or empty", "text")
    if len(text) > MAX_TEXT:
        raise RecordError(f"text is {len(text)} characters, over the {MAX_TEXT} limit", "text")
    if "created_at" not in fields:
        raise RecordError("created_at is missing (map the date column with --map COL=created_at)",
                          "created_at")
    created_at = parse_time(fields["created_at"])
    net = str(fields.get("network") or network or "file").lower()
    if net not in NETWORKS:
        raise RecordError(f"network {net!r} is not one of {', '.join(NETWORKS)}", "network")
    raw_id = fields.get("native_id")
    if raw_id is not None and (isinstance(raw_id, bool) or not isinstance(raw_id, (str, int))):
        raise RecordError(f"native_id is a {type(raw_id).__name__} ({str(raw_id)[:40]}), not an id",
                          "native_id")
    native_id = str(raw_id or "").strip()
    if not native_id:  # stable id from content, so re-imports stay idempotent
        digest = hashlib.sha1(json.dumps(row, sort_keys=True, default=str).encode()).hexdigest()
        native_id = f"sha1:{digest[:24]}"
    author = None
    handle = str(fields.get("author_handle") or "").strip().lstrip("@")
    author_id = str(fields.get("author_id") or handle).strip()
    if author_id:
        verified = str(fields.get("author_verified", "")).strip().lower() in ("1", "true", "yes")
        author = AuthorRecord(
            network=net, native_id=author_id, handle=handle or author_id,
            name=str(fields.get("author_name") or ""), followers=_integer(fields, "author_followers"),
            following=_integer(fields, "author_following"),
            post_count=_integer(fields, "author_post_count"), verified=verified,
            profile_url=fields.get("author_profile_url") or None,
            created_at=parse_time(fields["author_created_at"], "author_created_at")
            if fields.get("author_created_at") else None)
    counts = {name: _integer(fields, name) for name in ("likes", "replies", "reposts", "quotes")}
    brands = [brand] if brand else ([str(fields["brand"])] if fields.get("brand") else [])
    return MentionRecord(
        network=net, native_id=native_id, text=html.unescape(text), created_at=created_at,
        source=source, url=fields.get("url") or None, language=fields.get("language") or None,
        author=author, views=_integer(fields, "views"),
        **{name: value or 0 for name, value in counts.items()},
        in_reply_to_id=_opt(fields, "in_reply_to_id"), quoted_id=_opt(fields, "quoted_id"),
        reposted_id=_opt(fields, "reposted_id"), conversation_id=_opt(fields, "conversation_id"),
        raw=row, brands=brands)


def _opt(fields: dict[str, Any], name: str) -> str | None:
    value = fields.get(name)
    return str(value) if value not in (None, "") else None
