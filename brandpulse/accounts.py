"""Accounts: log in, and user management (admins only), for the dashboard and the CLI."""

from __future__ import annotations

from brandpulse.access import Actor, require
from brandpulse.errors import BrandpulseError
from brandpulse.settings import Settings
from store.engine import session_scope
from store.models import User
from store.users import add_user, update_user, which_users_exist, who_is_logging_in


def actor_of(user: User) -> Actor:
    """The Actor a stored user acts as."""
    return Actor(id=user.id, username=user.username, role=user.role, team=user.team)


def log_in(settings: Settings, username: str, password: str) -> Actor | None:
    """The Actor for a correct name and password of an active user, else None."""
    if not username or not password:
        return None
    with session_scope(settings.database.url) as session:
        user = who_is_logging_in(session, username.strip(), password)
        return actor_of(user) if user else None


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
        require(actor, "users.manage")
    _check_team(settings, role, team)
    with session_scope(settings.database.url) as session:
        return actor_of(add_user(session, username.strip(), password, role, team))


def list_users(settings: Settings, actor: Actor | None) -> list[dict]:
    """Every user with role, team and whether active (never a hash)."""
    if actor is not None:
        require(actor, "users.manage")
    with session_scope(settings.database.url) as session:
        return [{"id": u.id, "username": u.username, "role": u.role, "team": u.team or "",
                 "active": u.active, "created_at": u.created_at} for u in which_users_exist(session)]


def change_user(settings: Settings, actor: Actor | None, user_id: int, *, role: str | None = None,
                team: str | None = None, active: bool | None = None, password: str | None = None) -> None:
    """Change a user's role, team, active flag or password; admins cannot lock themselves out."""
    if actor is not None:
        require(actor, "users.manage")
        if user_id == actor.id and (active is False or (role is not None and role != "admin")):
            raise BrandpulseError("you cannot deactivate or demote yourself; ask another admin")
    with session_scope(settings.database.url) as session:
        if role is not None or team is not None:
            current = [u for u in which_users_exist(session) if u.id == user_id]
            if current:
                _check_team(settings, role or current[0].role,
                            team if team is not None else current[0].team)
        update_user(session, user_id, role=role, team=team, active=active, password=password)
