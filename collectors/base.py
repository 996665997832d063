"""The one Collector protocol, and the helpers every page parser shares to survive odd payloads."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from brandpulse.core.records import Page
from brandpulse.core.settings import BrandSettings

MAX_DEPTH = 32  # raw payloads deeper than this are cut (real posts nest a handful of levels)
MAX_COUNT = 2**31 - 1  # engagement counts are 32-bit integer columns
PAYLOAD_LIMIT = 1_000_000


@runtime_checkable
class Collector(Protocol):
    """A source of mentions. ``fetch`` returns one page and the cursor to resume from.

    The runner stores the page and its cursor in one transaction and calls again
    with ``page.next_cursor`` until ``page.done``; a crash between pages loses
    nothing and duplicates nothing. Expected failures are raised as ``CollectorError``;
    the runner translates anything else into one, so one source never stops another.
    A malformed item is put in ``page.quarantined`` and the page goes on.
    """

    name: str
    network: str

    def fetch(self, brand: BrandSettings, cursor: str | None) -> Page:
        """One page of normalized mentions about ``brand`` after ``cursor``."""


def count(value: Any) -> int:
    """An engagement count from a payload: a non-negative int that fits its column, else 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return 0
    try:
        number = int(float(value)) if isinstance(value, (float, str)) else value
    except (ValueError, OverflowError):
        return 0
    return min(max(number, 0), MAX_COUNT)


def optional_count(value: Any) -> int | None:
    """Like :func:`count`, but None when the payload does not say (unknown is not zero)."""
    return None if value is None else count(value)


def text_or_none(value: Any) -> str | None:
    """A string field, or None when the payload sent another type or nothing."""
    return value if isinstance(value, str) and value else None


def bounded(value: Any, depth: int = MAX_DEPTH) -> Any:
    """A raw payload as plain JSON data, nesting cut at ``depth`` (so no parser or database
    recurses without end on a hostile payload); library objects become their str()."""
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if depth <= 0:
        return f"(nested deeper than {MAX_DEPTH} levels: cut)"
    if isinstance(value, dict):
        return {str(k): bounded(v, depth - 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [bounded(v, depth - 1) for v in value]
    try:
        return str(value)
    except Exception:  # noqa: BLE001 - a library object whose str() fails is still kept as its type
        return f"<{type(value).__name__}>"


def payload_text(value: Any) -> str:
    """Anything a source sent, as text to keep in quarantine; never raises."""
    try:
        text = value if isinstance(value, str) else json.dumps(bounded(value), ensure_ascii=False)
    except Exception:  # noqa: BLE001 - keep whatever can be kept
        text = f"<{type(value).__name__} that could not be written out>"
    return text[:PAYLOAD_LIMIT]


def item_id(item: Any, key: str = "id") -> str:
    """The id of an item for a quarantine location, or '?' when it has none (or is not a dict)."""
    value = item.get(key) if isinstance(item, dict) else None
    return str(value)[:100] if isinstance(value, (str, int)) and not isinstance(value, bool) else "?"


def problem(exc: BaseException) -> str:
    """An exception as a short reason: its type and first line."""
    first = (str(exc).splitlines() or [""])[0][:300]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def cursor_state(cursor: str | None) -> dict[str, Any]:
    """A saved JSON cursor as a dict; one that is not ours (hand-edited, older format, not JSON,
    not an object) reads as empty, so the stream starts afresh instead of failing for good."""
    try:
        state = json.loads(cursor) if cursor else {}
    except (ValueError, RecursionError):
        return {}
    return state if isinstance(state, dict) else {}
