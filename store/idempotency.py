"""Idempotency keys of API writes: claimed before the request runs, answered from here on retry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from brandpulse.core.records import as_utc
from store.models_api import IdempotentRequest


def _find(session: Session, token_hash: str, key: str) -> IdempotentRequest | None:
    return session.exec(select(IdempotentRequest).where(IdempotentRequest.token_hash == token_hash,
                                                        IdempotentRequest.key == key)).first()


def begin_request(session: Session, token_hash: str, key: str, fingerprint: str, now: datetime,
                  abandoned_before: datetime | None = None) -> tuple[str, dict[str, Any] | None]:
    """Claim ``key`` for a request: ("new", None) to run it, ("done", answer) to replay,
    ("running", None) while the first is unfinished, ("mismatch", None) for another request.
    An unanswered claim made before ``abandoned_before`` (its process died) is claimed anew."""
    stored = _find(session, token_hash, key)
    if (stored is not None and stored.response is None and abandoned_before is not None
            and stored.fingerprint == fingerprint and as_utc(stored.created_at) < abandoned_before):
        taken = session.execute(delete(IdempotentRequest).where(IdempotentRequest.id == stored.id)).rowcount
        session.expunge(stored)
        stored = None if taken else _find(session, token_hash, key)
    if stored is None:
        try:
            with session.begin_nested():
                session.add(IdempotentRequest(token_hash=token_hash, key=key, fingerprint=fingerprint,
                                              created_at=now))
            return "new", None
        except IntegrityError:  # another request with this key claimed it first
            stored = _find(session, token_hash, key)
            if stored is None:
                return "running", None
    if stored.fingerprint != fingerprint:
        return "mismatch", None
    return ("done", stored.response) if stored.response is not None else ("running", None)


def finish_request(session: Session, token_hash: str, key: str, response: dict[str, Any]) -> None:
    """Keep the answer of a finished request for its retries."""
    stored = _find(session, token_hash, key)
    if stored is not None:
        stored.response = response
        session.add(stored)


def forget_request(session: Session, token_hash: str, key: str) -> None:
    """Drop the claim of a request whose answer is not kept (a retry runs it again)."""
    session.execute(delete(IdempotentRequest).where(IdempotentRequest.token_hash == token_hash,
                                                    IdempotentRequest.key == key))


def forget_requests_before(session: Session, moment: datetime) -> None:
    """Drop keys older than ``moment``."""
    session.execute(delete(IdempotentRequest).where(IdempotentRequest.created_at < moment))
