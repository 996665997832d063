"""API tokens: created for a user with scopes (shown once), checked on every request, revoked.

A token acts as its user: each request re-reads the user, so a demoted or deactivated user's
tokens lose those rights at once. Scopes narrow what the token may do further
(:data:`brandpulse.services.access.SCOPES`); they never add rights the role lacks.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from brandpulse.core.errors import ApiTokenError, BrandpulseError
from brandpulse.core.settings import Settings
from brandpulse.services.access import SCOPES, Actor, require_scope, scopes_for
from brandpulse.services.accounts import actor_of, authorize, token_digest
from store.engine import session_scope
from store.models import utcnow
from store.tokens import add_token, get_token, mark_token_used, which_token_has_hash, which_tokens_exist
from store.users import get_user

PREFIX = "bp_"
TOUCH_EVERY = timedelta(seconds=60)  # last use is written at most this often per token


@dataclass(frozen=True)
class Caller:
    """Who an API request acts for: the token and its user as the database has them now."""
    token_id: int
    token_name: str
    scopes: tuple[str, ...]
    rate_per_minute: int
    actor: Actor

    def require(self, scope: str) -> Actor:
        """The Actor, once the token grants ``scope`` and the user's role allows it."""
        require_scope(self.actor, self.scopes, scope)
        return self.actor


def _check_scopes(scopes: list[str], role: str, username: str) -> list[str]:
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise BrandpulseError(f"unknown scope(s) {', '.join(unknown)}; use some of: {', '.join(SCOPES)}")
    if not scopes:
        raise BrandpulseError(f"give at least one scope; {username} ({role}) may have: "
                              f"{', '.join(scopes_for(role))}")
    beyond = [s for s in scopes if s not in scopes_for(role)]
    if beyond:
        raise BrandpulseError(f"{username} is a {role}, whose role does not allow {', '.join(beyond)}; "
                              f"choose from {', '.join(scopes_for(role))} or make the token for another user")
    return list(dict.fromkeys(scopes))


def create_token(settings: Settings, actor: Actor | None, *, name: str, scopes: list[str], user_id: int,
                 days: int | None = None, rate_per_minute: int | None = None) -> tuple[str, dict]:
    """A new token for ``user_id``: (the secret, shown this once; its description).

    ``actor`` None is the local command line; otherwise an admin (``users.manage``).
    """
    if actor is not None:
        actor = authorize(settings, actor, "users.manage")
    name = name.strip()
    if not name or len(name) > 100 or not name.isprintable():
        raise BrandpulseError(f"token name {name[:120]!r} must be 1 to 100 printable characters")
    days = settings.api.token_days if days is None else days
    if not 1 <= days <= 3650:
        raise BrandpulseError(f"a token lives 1 to 3650 days, not {days}")
    rate = settings.api.rate_per_minute if rate_per_minute is None else rate_per_minute
    if not 1 <= rate <= 1_000_000:
        raise BrandpulseError(f"rate per minute must be 1 to 1000000, not {rate}")
    secret = PREFIX + secrets.token_urlsafe(32)
    with session_scope(settings.database.url) as session:
        user = get_user(session, user_id)
        if not user.active:
            raise BrandpulseError(f"{user.username} is not an active user; activate them first")
        scopes = _check_scopes(scopes, user.role, user.username)
        token = add_token(session, name=name, token_hash=token_digest(secret), prefix=secret[:10], user_id=user.id,
                          scopes=scopes, rate_per_minute=rate, expires_at=utcnow() + timedelta(days=days),
                          created_by=actor.id if actor else None)
        return secret, _describe(token, user)


def _describe(token, user) -> dict:
    now = utcnow()
    state = ("revoked" if token.revoked_at else "expired" if token.expires_at and token.expires_at <= now
             else "active")
    return {"id": token.id, "name": token.name, "prefix": token.prefix, "user": user.username,
            "role": user.role, "scopes": list(token.scopes), "rate_per_minute": token.rate_per_minute,
            "created_at": token.created_at, "expires_at": token.expires_at,
            "last_used_at": token.last_used_at, "revoked_at": token.revoked_at, "state": state}


def list_tokens(settings: Settings, actor: Actor | None) -> list[dict]:
    """Every token (never its secret or hash), newest first."""
    if actor is not None:
        authorize(settings, actor, "users.manage")
    with session_scope(settings.database.url) as session:
        return [_describe(t, u) for t, u in which_tokens_exist(session)]


def revoke_token(settings: Settings, actor: Actor | None, token_id: int) -> dict:
    """Revoke a token now; requests with it are refused from then on."""
    if actor is not None:
        authorize(settings, actor, "users.manage")
    with session_scope(settings.database.url) as session:
        token = get_token(session, token_id)
        if token.revoked_at is None:
            token.revoked_at = utcnow()
            session.add(token)
        return _describe(token, get_user(session, token.user_id))


def authenticate(settings: Settings, secret: str | None) -> Caller:
    """The Caller of a bearer token; AccessDeniedError for a missing, unknown, expired or revoked one."""
    if not secret:
        raise ApiTokenError("no API token: send it in the Authorization header, after the word "
                            "Bearer (create one with `brandpulse tokens create`)")
    now = utcnow()
    with session_scope(settings.database.url) as session:
        found = which_token_has_hash(session, token_digest(secret.strip()))
        if found is None:
            raise ApiTokenError("this API token is not known; check it was copied whole, or create one")
        token, user = found
        if token.revoked_at is not None:
            raise ApiTokenError(f"API token {token.name!r} was revoked; ask an admin for a new one")
        if token.expires_at is not None and token.expires_at <= now:
            raise ApiTokenError(f"API token {token.name!r} expired on {token.expires_at:%Y-%m-%d}; "
                                    "ask an admin for a new one")
        if not user.active:
            raise ApiTokenError(f"API token {token.name!r} belongs to {user.username}, who is no longer "
                                    "an active user; ask an admin")
        if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
            mark_token_used(session, token.id, now)
        return Caller(token.id, token.name, tuple(token.scopes), token.rate_per_minute, actor_of(user))
