"""Whether a record fits the schema on every backend, checked before it reaches SQL.

SQLite stores almost anything; PostgreSQL refuses NUL characters, lone surrogates,
strings longer than their column and integers past 2^31, and one refusal would fail a
whole batch. The limits are read from the tables themselves, so they cannot drift.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Integer

from brandpulse.core.records import (
    EARLIEST,
    FUTURE_SLACK,
    MAX_COUNT,
    AuthorRecord,
    MentionRecord,
    as_utc,
    time_out_of_range,
)
from store.models import Author, Brand, Mention

MAX_RAW_DEPTH = 64


def _limits(model) -> tuple[dict[str, int], frozenset[str]]:
    lengths = {c.name: c.type.length for c in model.__table__.columns
               if isinstance(getattr(c.type, "length", None), int)}
    integers = frozenset(c.name for c in model.__table__.columns
                         if isinstance(c.type, Integer) and not c.primary_key and not c.foreign_keys)
    return lengths, integers


MENTION_LENGTHS, MENTION_INTEGERS = _limits(Mention)
BRAND_LENGTH = Brand.__table__.c.name.type.length
AUTHOR_LENGTHS, AUTHOR_INTEGERS = _limits(Author)


def text_problem(value: str) -> str | None:
    """Why a string cannot be stored as text on every backend, or None."""
    if "\x00" in value:
        return "holds a NUL character (\\x00), which PostgreSQL cannot store"
    if value.isascii():  # the common case: no surrogate can hide in ASCII
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "holds a lone UTF-16 surrogate, which is not valid Unicode text"
    return None


def _field_problem(name: str, value: Any, lengths: dict[str, int], integers: frozenset[str],
                   now: datetime) -> str | None:
    if name in lengths and not isinstance(value, str):
        return f"{name} is a {type(value).__name__} ({str(value)[:40]}), not text"
    if isinstance(value, str):
        problem = text_problem(value)
        if problem:
            return f"{name} {problem}"
        if name in lengths and len(value) > lengths[name]:
            return f"{name} is {len(value)} characters, longer than the {lengths[name]} it may have"
    elif isinstance(value, datetime):
        problem = time_out_of_range(as_utc(value), now)
        return f"{name} {problem}" if problem else None
    elif name in integers and isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(value, float) and not math.isfinite(value):
            return f"{name} {value} is not a finite number"
        if not 0 <= value <= MAX_COUNT:
            return f"{name} {value if abs(value) < 10**30 else 'of ' + str(len(str(int(value)))) + ' digits'} " \
                   f"is outside 0..{MAX_COUNT:,}"
    return None


def raw_problem(value: Any, path: str = "raw") -> str | None:
    """Why a raw payload cannot be stored as JSON everywhere, or None (walked without recursion)."""
    stack: list[tuple[Any, str, int]] = [(value, path, 0)]
    while stack:
        item, where, depth = stack.pop()
        if depth > MAX_RAW_DEPTH:
            return f"{path} is nested more than {MAX_RAW_DEPTH} levels deep"
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                return f"{where} {problem}"
        elif isinstance(item, float) and not math.isfinite(item):
            return f"{where} is {item}, which JSON cannot hold"
        elif isinstance(item, dict):
            for key, child in item.items():
                key_problem = text_problem(str(key))
                if key_problem:
                    return f"a key in {where} {key_problem}"
                stack.append((child, f"{where}.{key}"[:120], depth + 1))
        elif isinstance(item, (list, tuple)):
            stack.extend((child, f"{where}[{i}]"[:120], depth + 1) for i, child in enumerate(item))
    return None


def _first_problem(item: Any, names: tuple[str, ...], lengths: dict[str, int],
                   integers: frozenset[str], now: datetime) -> str | None:
    """The first field's problem; values that plainly fit are passed in a few operations, the
    rest get :func:`_field_problem`'s exact diagnosis."""
    latest = now + FUTURE_SLACK
    for name in names:
        value = getattr(item, name)
        kind = type(value)
        if value is None or (
                kind is str and len(value) <= lengths.get(name, len(value)) and value.isascii()
                and "\x00" not in value) or (
                kind is int and (name not in integers or 0 <= value <= MAX_COUNT)) or (
                kind is datetime and value.tzinfo is not None and EARLIEST <= value <= latest):
            continue
        problem = _field_problem(name, value, lengths, integers, now)
        if problem:
            return problem
    return None


AUTHOR_FIELDS = ("handle", "native_id", "name", "profile_url", "followers", "following", "post_count",
                 "created_at")
MENTION_FIELDS = ("native_id", "network", "source", "url", "text", "language", "created_at", "likes",
                  "replies", "reposts", "quotes", "views", "in_reply_to_id", "quoted_id", "reposted_id",
                  "conversation_id")


def author_problem(author: AuthorRecord, now: datetime | None = None) -> str | None:
    """Why an author record cannot be stored, or None."""
    problem = _first_problem(author, AUTHOR_FIELDS, AUTHOR_LENGTHS, AUTHOR_INTEGERS,
                             now or datetime.now(timezone.utc))
    return f"author {problem}" if problem else None


def mention_problem(record: MentionRecord, now: datetime | None = None) -> str | None:
    """Why a mention cannot be stored on every backend, or None when it fits (``now`` bounds
    the dates; pass it once for a batch)."""
    if not isinstance(record.text, str):
        return f"text is a {type(record.text).__name__}, not text"
    now = now or datetime.now(timezone.utc)
    problem = _first_problem(record, MENTION_FIELDS, MENTION_LENGTHS, MENTION_INTEGERS, now)
    if problem:
        return problem
    if not record.native_id:
        return "native_id is empty"
    for brand in record.brands:
        if text_problem(brand) or len(brand) > BRAND_LENGTH:
            return f"brand {brand[:60]!r} is not a usable brand name"
    if record.author is not None:
        problem = author_problem(record.author, now)
        if problem:
            return problem
    return raw_problem(record.raw) if record.raw is not None else None
