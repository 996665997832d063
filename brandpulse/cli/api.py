"""`brandpulse api` serves the open API; `brandpulse tokens …` creates, lists and revokes its tokens."""

from __future__ import annotations

from typing import Optional

import typer
from rich.table import Table

from brandpulse.cli.console import console, friendly, shown
from brandpulse.core.settings import load_settings
from brandpulse.services.access import SCOPES, scopes_for
from brandpulse.services.accounts import list_users
from brandpulse.services.tokens import create_token, list_tokens, revoke_token
from brandpulse.cli.users import user_id_of

tokens_app = typer.Typer(help="API tokens: each acts as its user, within its scopes.", no_args_is_help=True)


def api_command(host: Optional[str] = typer.Option(None, help="default: api.host (127.0.0.1)"),
                port: Optional[int] = typer.Option(None, min=1, max=65535, help="default: api.port (8000)")) -> None:
    """Serve the REST API (/v1, docs at /docs) on the configured database."""
    from api.serve import server_for
    from brandpulse.core.redaction import configure_logging

    configure_logging()
    server = server_for(load_settings(), host, port)
    console.print(f"API on http://{server.config.host}:{server.config.port}/v1 (docs: /docs); Ctrl-C stops it",
                  markup=False)
    server.run()


@tokens_app.command("create")
@friendly
def create(name: str = typer.Option(..., "--name", help="what the token is for, e.g. 'crm'"),
           user: str = typer.Option(..., "--user", help="the user the token acts as (its role caps the scopes)"),
           scopes: str = typer.Option(..., "--scopes", help="comma-separated, or all (what the role allows): "
                                      + ", ".join(SCOPES)),
           days: Optional[int] = typer.Option(None, help="lifetime in days (default: api.token_days)"),
           rate: Optional[int] = typer.Option(None, help="requests per minute (default: api.rate_per_minute)"),
           ) -> None:
    """Create a token; its secret is printed this once and stored only as a hash."""
    settings = load_settings()
    wanted = [s.strip() for s in scopes.split(",") if s.strip()]
    user_id = user_id_of(settings, user)
    if wanted == ["all"]:  # every scope the user's role allows
        wanted = scopes_for(next(u["role"] for u in list_users(settings, None) if u["id"] == user_id))
    secret, token = create_token(settings, None, name=name, scopes=wanted, user_id=user_id, days=days,
                                 rate_per_minute=rate)
    console.print(shown(f"token #{token['id']} {token['name']!r} for {token['user']} ({token['role']}), "
                        f"scopes {', '.join(token['scopes'])}, expires {token['expires_at']:%Y-%m-%d}"))
    console.print("copy it now, it is not shown again:")
    print(secret)


@tokens_app.command("list")
@friendly
def list_command() -> None:
    """Every token: whose, which scopes, last use, state (never the secret)."""
    table = Table("id", "name", "prefix", "user", "scopes", "last used", "expires", "state")
    for t in list_tokens(load_settings(), None):
        table.add_row(str(t["id"]), shown(t["name"]), t["prefix"] + "…", shown(t["user"]), ", ".join(t["scopes"]),
                      f"{t['last_used_at']:%Y-%m-%d %H:%M}" if t["last_used_at"] else "never",
                      f"{t['expires_at']:%Y-%m-%d}" if t["expires_at"] else "", t["state"])
    console.print(table)


@tokens_app.command("revoke")
@friendly
def revoke(token_id: int = typer.Argument(..., help="the id `brandpulse tokens list` shows")) -> None:
    """Revoke a token now."""
    token = revoke_token(load_settings(), None, token_id)
    console.print(shown(f"token #{token['id']} {token['name']!r} revoked"))
