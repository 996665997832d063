"""Dashboard users with argon2-hashed passwords and a role."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlmodel import Session, select

from brandpulse.errors import BrandpulseError
from store.models import User

ROLES = ("admin", "marketing", "care_agent", "care_lead", "brand_manager")
_HASHER = PasswordHasher()


def add_user(session: Session, username: str, password: str, role: str,
             team: str | None = None) -> User:
    """Create a user; the password is stored only as an argon2 hash."""
    if role not in ROLES:
        raise BrandpulseError(f"role {role!r} is not one of {', '.join(ROLES)}")
    if len(password) < 8:
        raise BrandpulseError(f"the password for {username!r} is shorter than 8 characters; "
                              "choose a longer one")
    if session.exec(select(User).where(User.username == username)).first():
        raise BrandpulseError(f"user {username!r} already exists; pick another name")
    user = User(username=username, password_hash=_HASHER.hash(password), role=role, team=team)
    session.add(user)
    session.flush()
    return user


def who_is_logging_in(session: Session, username: str, password: str) -> User | None:
    """The active user whose name and password match, else None."""
    user = session.exec(select(User).where(User.username == username, User.active == True)  # noqa: E712
                        ).first()
    if user is None:
        return None
    try:
        _HASHER.verify(user.password_hash, password)
    except VerificationError:
        return None
    return user
