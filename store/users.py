"""Dashboard users with argon2-hashed passwords and a role."""

from __future__ import annotations

import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func
from sqlmodel import Session, select

from brandpulse.core.roles import ROLES
from brandpulse.core.errors import BrandpulseError, NotFoundError
from store.models import User

_HASHER = PasswordHasher()


def add_user(session: Session, username: str, password: str, role: str,
             team: str | None = None) -> User:
    """Create a user; the password is stored only as an argon2 hash."""
    if role not in ROLES:
        raise BrandpulseError(f"role {role!r} is not one of {', '.join(ROLES)}")
    _check_password(username, password)
    if not username.strip() or len(username) > 100:
        raise BrandpulseError(f"user name {username!r} must be 1-100 characters")
    if session.exec(select(User).where(func.lower(User.username) == username.lower())).first():
        raise BrandpulseError(f"user {username!r} already exists (names are compared ignoring case); "
                              "pick another name")
    user = User(username=username, password_hash=_HASHER.hash(password), role=role, team=team)
    session.add(user)
    session.flush()
    return user


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash of a random secret, made like real ones: checked when there is no usable user."""
    return _HASHER.hash(secrets.token_urlsafe(24))


def who_is_logging_in(session: Session, username: str, password: str) -> User | None:
    """The active user whose name and password match, else None.

    An unknown or inactive name costs one argon2 check against a dummy hash, exactly like a
    wrong password, so neither the answer nor its time tells which names exist.
    """
    dummy = _dummy_hash()  # made before the look-up, so the first unknown name is not slower
    user = session.exec(select(User).where(User.username == username)).first()
    stored = user.password_hash if user is not None and user.password_hash.startswith("$argon2") else None
    try:
        _HASHER.verify(stored or dummy, password)
    except (VerificationError, InvalidHashError):
        return None
    if stored is None or not user.active:
        return None
    return user


def _check_password(username: str, password: str) -> None:
    if len(password) < 8:
        raise BrandpulseError(f"the password for {username!r} is shorter than 8 characters; "
                              "choose a longer one")


def get_user(session: Session, user_id: int) -> User:
    """The user, or NotFoundError."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError(f"user #{user_id} does not exist; refresh the page")
    return user


def which_users_exist(session: Session) -> list[User]:
    """Every user, by name."""
    return list(session.exec(select(User).order_by(User.username)))


def who_works_in_care(session: Session, team: str | None = None) -> list[User]:
    """Active care agents and leads (of ``team`` when given), by name."""
    statement = select(User).where(User.active == True,  # noqa: E712
                                   User.role.in_(("care_agent", "care_lead")))
    if team:
        statement = statement.where(User.team == team)
    return list(session.exec(statement.order_by(User.username)))


def update_user(session: Session, user_id: int, *, role: str | None = None, team: str | None = None,
                active: bool | None = None, password: str | None = None) -> User:
    """Change a user's role, team, active flag or password (None leaves a field as it is)."""
    user = get_user(session, user_id)
    if role is not None:
        if role not in ROLES:
            raise BrandpulseError(f"role {role!r} is not one of {', '.join(ROLES)}")
        user.role = role
    if team is not None:
        user.team = team or None
    if active is not None:
        user.active = active
    if password is not None:
        _check_password(user.username, password)
        user.password_hash = _HASHER.hash(password)
    session.add(user)
    return user
