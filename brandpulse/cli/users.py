"""`brandpulse users …`: add, list and change dashboard users (the local shell acts as admin)."""

from __future__ import annotations

import sys
from typing import Optional

import typer
from rich.table import Table

from brandpulse.services.access import ROLES
from brandpulse.services.accounts import change_user, create_user, list_users
from brandpulse.cli.console import console, friendly, shown
from brandpulse.core.errors import BrandpulseError
from brandpulse.core.settings import load_settings

users_app = typer.Typer(help="Dashboard users and their roles.", no_args_is_help=True)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("password", hide_input=True, confirmation_prompt=True)


def user_id_of(settings, name: str) -> int:
    for user in list_users(settings, None):
        if user["username"] == name:
            return user["id"]
    raise BrandpulseError(f"no user named {name!r}; `brandpulse users list` shows who exists")


@users_app.command("add")
@friendly
def add(name: str = typer.Argument(..., help="login name"),
        role: str = typer.Option(..., help=" | ".join(ROLES)),
        team: Optional[str] = typer.Option(None, help="care team (care agents and leads need one)"),
        password_stdin: bool = typer.Option(False, "--password-stdin",
                                            help="read the password from the first line of stdin")) -> None:
    """Add a user; the password is stored only as an argon2 hash."""
    if role not in ROLES:
        raise BrandpulseError(f"role {role!r} is not one of {', '.join(ROLES)}")
    actor = create_user(load_settings(), None, name, _password(password_stdin), role, team)
    console.print(shown(f"added {actor.username} ({actor.role}{', team ' + actor.team if actor.team else ''})"))


@users_app.command("list")
@friendly
def list_command() -> None:
    """Every user with role, team and state."""
    table = Table("user", "role", "team", "active", "created")
    for user in list_users(load_settings(), None):
        table.add_row(shown(user["username"]), shown(user["role"]), shown(user["team"] or ""),
                      "yes" if user["active"] else "no", f"{user['created_at']:%Y-%m-%d}")
    console.print(table)


@users_app.command("set")
@friendly
def set_command(name: str = typer.Argument(..., help="login name"),
                role: Optional[str] = typer.Option(None, help=" | ".join(ROLES)),
                team: Optional[str] = typer.Option(None, help="care team ('' for none)"),
                active: Optional[bool] = typer.Option(None, "--active/--inactive", help="allow logging in"),
                password_stdin: bool = typer.Option(False, "--password-stdin",
                                                    help="set a new password read from stdin")) -> None:
    """Change a user's role, team, active state or password."""
    settings = load_settings()
    change_user(settings, None, user_id_of(settings, name), role=role, team=team, active=active,
                password=_password(True) if password_stdin else None)
    console.print(shown(f"updated {name}"))
