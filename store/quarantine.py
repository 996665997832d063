"""Quarantined records: kept whole with their reason, listed and handed back for re-export.

A payload is stored as the text the user had. Text a backend cannot hold (NUL
characters, lone surrogates) is kept losslessly as ``b64:`` + base64 of its bytes,
and :func:`original_payload` turns it back.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlmodel import Session

from store.bulk import dialect_insert
from store.fitness import text_problem
from store.models import Quarantine, utcnow
from store.search import like_pattern

MAX_PAYLOAD = 5_000_000
ENCODED = "b64:"


def storable_payload(payload: str) -> str:
    """``payload`` as text every backend stores, losslessly."""
    if payload.startswith(ENCODED) or text_problem(payload):
        return ENCODED + base64.b64encode(payload.encode("utf-8", "surrogatepass")).decode("ascii")
    return payload


def original_payload(stored: str) -> str:
    """The payload as it was quarantined (undoes :func:`storable_payload`)."""
    if stored.startswith(ENCODED):
        return base64.b64decode(stored[len(ENCODED):]).decode("utf-8", "surrogatepass")
    return stored


def _storable_label(text: str, limit: int) -> str:
    text = text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\\x00")
    return text[:limit]


def quarantine(session: Session, origin: str, location: str, reason: str, payload: str) -> None:
    """Keep a malformed record with its reason; the same (origin, location) is kept once."""
    if len(payload) > MAX_PAYLOAD:
        reason = f"{reason} (payload of {len(payload):,} characters kept up to {MAX_PAYLOAD:,})"
        payload = payload[:MAX_PAYLOAD]
    statement = dialect_insert(session, Quarantine)
    statement = statement.on_conflict_do_update(
        index_elements=["origin", "location"],
        set_={"reason": statement.excluded.reason, "payload": statement.excluded.payload,
              "created_at": statement.excluded.created_at})
    session.execute(statement, [{"origin": _storable_label(origin, 500),
                                 "location": _storable_label(location, 200),
                                 "reason": _storable_label(reason, 100_000),
                                 "payload": storable_payload(payload), "created_at": utcnow()}])


@dataclass
class QuarantinedRecord:
    """One quarantined record, its payload decoded back to what the user had."""
    id: int
    origin: str
    location: str
    reason: str
    payload: str
    created_at: datetime


def _of_origin(statement, origin: str | None):
    """``statement`` limited to origins containing ``origin`` (taken literally) when given."""
    return statement.where(Quarantine.origin.like(like_pattern(origin), escape="\\")) if origin else statement


def which_records_are_quarantined(session: Session, origin: str | None = None, limit: int = 100,
                                  after_id: int = 0) -> list[QuarantinedRecord]:
    """Quarantined records (of origins containing ``origin`` when given), oldest first, after an id."""
    statement = _of_origin(select(Quarantine).where(Quarantine.id > after_id)
                           .order_by(Quarantine.id).limit(limit), origin)
    return [QuarantinedRecord(row.id, row.origin, row.location, row.reason,
                              original_payload(row.payload), row.created_at)
            for row in session.execute(statement).scalars()]


def how_many_records_are_quarantined(session: Session, origin: str | None = None) -> int:
    """Count of quarantined records (of origins containing ``origin`` when given)."""
    statement = _of_origin(select(func.count()).select_from(Quarantine), origin)
    return session.execute(statement).scalar_one()


def forget_quarantined(session: Session, ids: list[int]) -> int:
    """Delete quarantined records by id (after they were exported and fixed); return how many."""
    if not ids:
        return 0
    return session.execute(delete(Quarantine).where(Quarantine.id.in_(ids))).rowcount or 0
