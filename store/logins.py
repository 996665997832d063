"""Dashboard sessions and recorded sign-in attempts (the SQL behind sign-in throttling and expiry)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, false, func, update
from sqlmodel import Session, select

from store.models import LoginAttempt, User, UserSession


def record_login_attempt(session: Session, username: str, client: str, ok: bool, at: datetime) -> int:
    """Remember one checked sign-in: the name as typed (cleaned), the client, when, whether it worked."""
    attempt = LoginAttempt(username=username, client=client, ok=ok, at=at)
    session.add(attempt)
    session.flush()
    return attempt.id


def login_attempt_succeeded(session: Session, attempt_id: int) -> None:
    """Mark a recorded attempt as the right name and password."""
    session.execute(update(LoginAttempt).where(LoginAttempt.id == attempt_id).values(ok=True))


def how_many_failed_logins(session: Session, *, since: datetime, username: str | None = None,
                           client: str | None = None) -> tuple[int, datetime | None]:
    """Failed sign-ins for ``username`` (or from ``client``) after ``since``, and the latest one's time."""
    statement = select(func.count(), func.max(LoginAttempt.at)).where(
        LoginAttempt.ok == False, LoginAttempt.at > since)  # noqa: E712
    if username is not None:
        statement = statement.where(LoginAttempt.username == username)
    if client is not None:
        statement = statement.where(LoginAttempt.client == client)
    count, latest = session.exec(statement).one()
    return int(count), latest


def when_did_login_last_succeed(session: Session, username: str) -> datetime | None:
    """The time of the latest successful sign-in under this name, if any."""
    return session.exec(select(func.max(LoginAttempt.at)).where(
        LoginAttempt.username == username, LoginAttempt.ok == True)).one()  # noqa: E712


def forget_login_attempts_before(session: Session, cutoff: datetime) -> int:
    """Drop attempts older than ``cutoff`` (they no longer count); return how many."""
    return session.execute(delete(LoginAttempt).where(LoginAttempt.at < cutoff)).rowcount or 0


def open_session(session: Session, user_id: int, token_hash: str, client: str, now: datetime) -> None:
    """Start a session for ``user_id`` under the hash of its token."""
    session.add(UserSession(token_hash=token_hash, user_id=user_id, client=client, created_at=now,
                            last_seen_at=now))
    session.flush()


def which_session(session: Session, token_hash: str) -> UserSession | None:
    """The session stored under ``token_hash`` (ended or not), else None."""
    return session.get(UserSession, token_hash)


def end_session(session: Session, token_hash: str, reason: str, now: datetime) -> None:
    """End one session (if still open) for ``reason``."""
    session.execute(update(UserSession).where(UserSession.token_hash == token_hash,
                                           UserSession.ended_at.is_(None))
                 .values(ended_at=now, end_reason=reason))


def end_sessions_of(session: Session, user_id: int, reason: str, now: datetime,
                    keep: str | None = None) -> int:
    """End every open session of ``user_id`` except ``keep`` (a token hash); return how many."""
    statement = update(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
    if keep is not None:
        statement = statement.where(UserSession.token_hash != keep)
    return session.execute(statement.values(ended_at=now, end_reason=reason)).rowcount or 0


def forget_sessions_ended_before(session: Session, cutoff: datetime) -> int:
    """Drop sessions that ended (or were last seen) before ``cutoff``; return how many."""
    return session.execute(delete(UserSession).where(
        (UserSession.ended_at < cutoff) | (UserSession.last_seen_at < cutoff))).rowcount or 0


def which_admins_are_active(session: Session, lock: bool = False) -> list[User]:
    """Active admins; ``lock`` holds them until commit so two demotions cannot race.

    PostgreSQL locks the rows (FOR UPDATE). SQLite's driver starts a transaction only at the first
    write, so an empty write comes first: it takes the database's write lock before the read.
    """
    if lock and session.get_bind().dialect.name == "sqlite":
        session.execute(update(User).where(false()).values(role=User.role))
    statement = select(User).where(User.role == "admin", User.active == True)  # noqa: E712
    if lock:
        statement = statement.with_for_update()
    return list(session.exec(statement.order_by(User.id)))
