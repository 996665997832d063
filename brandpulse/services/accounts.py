"""Accounts: sign-in (throttled, every failure answered alike), dashboard sessions, user management.

Rights never come from an Actor object on trust: every function here that acts for one calls
:func:`authorize`, which re-reads the user's role, team and active flag (and, for a dashboard
Actor, its session) from the database. The care and alert services call it the same way.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
from datetime import datetime, timedelta

from brandpulse.services.access import ROLES, AccessDeniedError, Actor, LoginThrottledError, SessionEndedError, require
from brandpulse.core.errors import BrandpulseError
from brandpulse.core.settings import Settings
from store.engine import session_scope
from store.logins import (
    end_session,
    end_sessions_of,
    forget_login_attempts_before,
    forget_sessions_ended_before,
    how_many_failed_logins,
    login_attempt_succeeded,
    open_session,
    record_login_attempt,
    when_did_login_last_succeed,
    which_admins_are_active,
    which_session,
)
from store.models import User, utcnow
from store.users import add_user, get_user, update_user, which_users_exist, who_is_logging_in

USERNAME_RULE = "letters A-Z a-z, digits and . _ - @ only, 1 to 100 characters"
_USERNAME = re.compile(r"[A-Za-z0-9._@-]{1,100}")

NAME_FREE_FAILURES = 5  # failed sign-ins under one name before it must wait
CLIENT_FREE_FAILURES = 20  # from one address (an office shares one) before it must wait
BACKOFF_FIRST_S = 30  # the first wait; it doubles with each further failure
BACKOFF_MAX_S = 15 * 60
THROTTLE_WINDOW = timedelta(hours=1)  # failures older than this no longer count
KEEP_RECORDS = timedelta(days=7)  # attempts and ended sessions are kept this long for review
TOUCH_EVERY = timedelta(seconds=30)  # a session's last-seen time is written at most this often

EXPIRED = "Your session expired, sign in again."
_ENDED = {"expired": EXPIRED,
          "signed_out": "You signed out; sign in again.",
          "revoked": "Your session was ended because your account changed (role, sign-in or password); "
                     "sign in again.",
          "inactive": "Your account is no longer active, so you were signed out; ask an admin."}


def actor_of(user: User, session: str | None = None) -> Actor:
    """The Actor a stored user acts as."""
    return Actor(id=user.id, username=user.username, role=user.role, team=user.team, session=session)


def check_username(username: str) -> str:
    """The name if it follows the rule (no markup, no control characters), else BrandpulseError."""
    if not _USERNAME.fullmatch(username):
        raise BrandpulseError(f"user name {username[:120]!r} is not allowed: use {USERNAME_RULE}")
    return username


def _key(text: str, limit: int) -> str:
    """Typed text made storable for the attempt log: non-printable characters replaced, length capped."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)[:limit]


def token_digest(token: str) -> str:
    """How a secret token (a dashboard session's or an API token) is stored: its sha256, never itself."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def _wait(failures: int, latest: datetime | None, free: int, now: datetime) -> int:
    if failures < free or latest is None:
        return 0
    delay = min(BACKOFF_FIRST_S * 2 ** min(failures - free, 16), BACKOFF_MAX_S)
    return max(0, math.ceil(delay - (now - latest).total_seconds()))


def login_wait(settings: Settings, username: str, client: str) -> int:
    """Seconds ``username`` or ``client`` must still wait before a sign-in is checked (0: none)."""
    name, client, now = _key(username.strip(), 100), _key(client, 200), utcnow()
    with session_scope(settings.database.url) as session:
        success = when_did_login_last_succeed(session, name)
        since = max(now - THROTTLE_WINDOW, success) if success else now - THROTTLE_WINDOW
        by_name = _wait(*how_many_failed_logins(session, since=since, username=name), NAME_FREE_FAILURES, now)
        by_client = _wait(*how_many_failed_logins(session, since=now - THROTTLE_WINDOW, client=client),
                          CLIENT_FREE_FAILURES, now)
    return max(by_name, by_client)


def log_in(settings: Settings, username: str, password: str, client: str = "local") -> Actor | None:
    """The signed-in Actor (with a new session) for a right name and password of an active user.

    None for anything else, always after the same argon2 work, so the answer and its time do not
    tell whether the name exists. LoginThrottledError while the name or the client must wait.
    """
    if not username or not username.strip() or not password:
        return None
    wait = login_wait(settings, username, client)
    if wait:
        raise LoginThrottledError("Too many failed sign-ins for this account or this address; "
                                  f"try again in {wait} s", retry_after=wait)
    typed = username.strip()
    name, client, now = _key(typed, 100), _key(client, 200), utcnow()
    with session_scope(settings.database.url) as session:  # counted as failed until proven right
        attempt = record_login_attempt(session, name, client, ok=False, at=now)
        forget_login_attempts_before(session, now - KEEP_RECORDS)
    storable = len(typed) <= 100 and "\x00" not in typed  # else no user has it: "" matches nobody
    with session_scope(settings.database.url) as session:
        user = who_is_logging_in(session, typed if storable else "", password)
        if user is None:
            return None
        login_attempt_succeeded(session, attempt)
        token = secrets.token_urlsafe(32)
        open_session(session, user.id, token_digest(token), client, now)
        forget_sessions_ended_before(session, now - KEEP_RECORDS)
        return actor_of(user, token)


def current_actor(settings: Settings, token: str | None) -> Actor:
    """The Actor of a dashboard session as the database has it now; SessionEndedError when the
    session was signed out, revoked or expired (idle or too old) or its user is inactive."""
    now, ended = utcnow(), None
    idle = timedelta(minutes=settings.dashboard.session_idle_minutes)
    longest = timedelta(hours=settings.dashboard.session_max_hours)
    with session_scope(settings.database.url) as session:
        stored = which_session(session, token_digest(token)) if token else None
        if stored is None:
            raise SessionEndedError("Your session ended; sign in again.")
        user = session.get(User, stored.user_id)
        if stored.ended_at is not None:
            ended = stored.end_reason or "expired"
        elif now - stored.last_seen_at > idle or now - stored.created_at > longest:
            ended = "expired"
        elif user is None or not user.active:
            ended = "inactive"
        if ended is None:
            if now - stored.last_seen_at >= TOUCH_EVERY:  # not a write per click
                stored.last_seen_at = now
                session.add(stored)
            return actor_of(user, token)
        end_session(session, stored.token_hash, ended, now)
    raise SessionEndedError(_ENDED.get(ended, EXPIRED))


def authorize(settings: Settings, actor: Actor, action: str | None = None) -> Actor:
    """``actor`` re-read from the database, refused unless still active (and, for a dashboard
    Actor, its session still open) and, when ``action`` is given, allowed to take it.

    Use the returned Actor from then on: its role and team are the current ones.
    """
    if actor.session is not None:
        fresh = current_actor(settings, actor.session)
        if fresh.id != actor.id:
            raise SessionEndedError("Your session ended; sign in again.")
    else:
        with session_scope(settings.database.url) as session:
            user = session.get(User, actor.id)
            if user is None or not user.active:
                raise AccessDeniedError(f"user #{actor.id} ({actor.username!r}) is no longer an active "
                                        "user; ask an admin")
            fresh = actor_of(user)
    if action is not None:
        require(fresh, action)
    return fresh


def sign_out(settings: Settings, actor: Actor) -> None:
    """End the Actor's dashboard session (nothing to do for one without a session)."""
    if actor.session:
        with session_scope(settings.database.url) as session:
            end_session(session, token_digest(actor.session), "signed_out", utcnow())


def _check_team(settings: Settings, role: str, team: str | None) -> None:
    names = [t.name for t in settings.care.teams]
    if team and team not in names:
        raise BrandpulseError(f"team {team!r} is not in care.teams ({', '.join(names)}); "
                              "add it to config.yaml or pick one of those")
    if role in ("care_agent", "care_lead") and not team:
        raise BrandpulseError(f"a {role} needs a team (one of {', '.join(names)}) so tickets can reach them")


def create_user(settings: Settings, actor: Actor | None, username: str, password: str, role: str,
                team: str | None = None) -> Actor:
    """Add a user. ``actor`` None means the local command line, which has the database anyway."""
    if actor is not None:
        authorize(settings, actor, "users.manage")
    username = check_username(username.strip())
    if role not in ROLES:
        raise BrandpulseError(f"role {role!r} is not one of {', '.join(ROLES)}")
    _check_team(settings, role, team)
    with session_scope(settings.database.url) as session:
        return actor_of(add_user(session, username, password, role, team))


def list_users(settings: Settings, actor: Actor | None) -> list[dict]:
    """Every user with role, team and whether active (never a hash)."""
    if actor is not None:
        authorize(settings, actor, "users.manage")
    with session_scope(settings.database.url) as session:
        return [{"id": u.id, "username": u.username, "role": u.role, "team": u.team or "",
                 "active": u.active, "created_at": u.created_at} for u in which_users_exist(session)]


def change_user(settings: Settings, actor: Actor | None, user_id: int, *, role: str | None = None,
                team: str | None = None, active: bool | None = None, password: str | None = None) -> None:
    """Change a user's role, team, active flag or password.

    Nobody (CLI included) may deactivate or demote the last active admin, and admins cannot do it
    to themselves. A new role, deactivation or a new password ends the user's open sessions.
    """
    if actor is not None:
        actor = authorize(settings, actor, "users.manage")
        if user_id == actor.id and (active is False or (role is not None and role != "admin")):
            raise BrandpulseError("you cannot deactivate or demote yourself; ask another admin")
    now = utcnow()
    with session_scope(settings.database.url) as session:
        admins = which_admins_are_active(session, lock=True) if role or active is False else []
        user = get_user(session, user_id)
        if any(a.id == user_id for a in admins) and (active is False or (role and role != "admin")) \
                and len(admins) == 1:
            raise BrandpulseError(f"{user.username!r} is the last active admin; make another user an "
                                  "admin first, or nobody could manage users any more")
        if role is not None or team is not None:
            _check_team(settings, role or user.role, team if team is not None else user.team)
        revoke = (role is not None and role != user.role) or (active is False and user.active) \
            or password is not None
        update_user(session, user_id, role=role, team=team, active=active, password=password)
        if revoke:
            mine = actor.session if actor is not None and actor.id == user_id else None
            end_sessions_of(session, user_id, "revoked", now, keep=token_digest(mine) if mine else None)
