"""Keyset cursors: a page ends at a key, the next page starts strictly after it.

A cursor is the sort key of the last item, opaque to clients (base64url JSON). Rows arriving
while a client pages never make it skip or repeat one: positions are keys, not offsets.
"""

from __future__ import annotations

import base64
import json
import math
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from api.deps import MAX_ID
from api.problems import ApiProblem
from brandpulse.core.records import as_utc

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list: its items and the cursor of the next page (null on the last)."""
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(*key: Any) -> str:
    """The cursor after an item with sort key ``key`` (datetimes and numbers)."""
    raw = [v.isoformat() if isinstance(v, datetime) else v for v in key]
    return base64.urlsafe_b64encode(json.dumps(raw, separators=(",", ":")).encode()).decode().rstrip("=")




def _part(value: Any, kind: type) -> Any:
    """One part of a cursor's key, only as this API writes it: an aware time, a row id, a finite number, a string."""
    if kind is datetime and isinstance(value, str):
        return as_utc(datetime.fromisoformat(value))
    if kind is int and type(value) is int and 0 <= value <= MAX_ID:
        return value
    if kind is float and type(value) in (int, float) and math.isfinite(value):
        return float(value)
    if kind is str and isinstance(value, str):
        return value
    raise ValueError(f"not a {kind.__name__}")


def decode_cursor(cursor: str | None, *kinds: type) -> tuple | None:
    """The sort key a cursor holds, each part converted to ``kinds``; a 422 problem when malformed."""
    if not cursor:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(kinds):
            raise ValueError("wrong length")
        return tuple(_part(v, kind) for v, kind in zip(raw, kinds))
    except (ValueError, TypeError, UnicodeDecodeError, json.JSONDecodeError):
        raise ApiProblem(422, "invalid-request", f"cursor {cursor[:60]!r} is not one this API gave out; "
                         "use the next_cursor of the previous page, or leave it out to start again",
                         errors=[{"field": "query.cursor", "message": "not a cursor of this list"}]) from None
