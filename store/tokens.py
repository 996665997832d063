"""API tokens: stored by hash, listed without it, found by it, touched when used."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from brandpulse.core.errors import NotFoundError
from store.models import User
from store.models_api import ApiToken


def add_token(session: Session, *, name: str, token_hash: str, prefix: str, user_id: int, scopes: list[str],
              rate_per_minute: int, expires_at: datetime | None, created_by: int | None) -> ApiToken:
    """Store a new token (its hash only) and return it with its id."""
    token = ApiToken(name=name, token_hash=token_hash, prefix=prefix, user_id=user_id, scopes=scopes,
                     rate_per_minute=rate_per_minute, expires_at=expires_at, created_by=created_by)
    session.add(token)
    session.flush()
    return token


def which_token_has_hash(session: Session, token_hash: str) -> tuple[ApiToken, User] | None:
    """The token with this hash and its user, or None."""
    row = session.exec(select(ApiToken, User).join(User, User.id == ApiToken.user_id)
                       .where(ApiToken.token_hash == token_hash)).first()
    return (row[0], row[1]) if row else None


def which_tokens_exist(session: Session) -> list[tuple[ApiToken, User]]:
    """Every token with its user, newest first (revoked and expired ones too)."""
    return [(t, u) for t, u in session.exec(select(ApiToken, User).join(User, User.id == ApiToken.user_id)
                                            .order_by(ApiToken.id.desc()))]


def get_token(session: Session, token_id: int) -> ApiToken:
    """The token with this id, or NotFoundError."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFoundError(f"API token #{token_id} does not exist; `brandpulse tokens list` shows them")
    return token


def mark_token_used(session: Session, token_id: int, at: datetime) -> None:
    """Remember when the token was last used."""
    token = session.get(ApiToken, token_id)
    if token is not None:
        token.last_used_at = at
        session.add(token)
