"""`brandpulse replies`: the outbox of replies to customers, and the worker that publishes it."""

from __future__ import annotations

from typing import Optional

import typer
from rich.table import Table

from brandpulse.cli.console import console, friendly, shown
from brandpulse.cli.worker_loop import run_rounds
from brandpulse.core.settings import load_settings

replies_app = typer.Typer(help="Replies to customers: the outbox and its publisher.", no_args_is_help=True)


@replies_app.command("list")
@friendly
def list_command(status: Optional[str] = typer.Option(None, help="only this status (queued, failed, ...)"),
                 limit: int = typer.Option(50, min=1, max=10_000, help="show at most this many")) -> None:
    """Replies in the outbox, newest first, with their state and the network's last answer."""
    from brandpulse.services.publishing import list_replies

    rows = list_replies(load_settings(), status, limit)
    if not rows:
        console.print("no replies" + (f" with status {status!r}" if status else ""), markup=False)
        return
    table = Table(title=f"replies: {len(rows)}")
    for column in ("id", "ticket", "network", "account", "status", "attempts", "published", "error"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(str(r["id"]), f"#{r['ticket_id']}", r["network"], shown(r["account"]), r["status"],
                      str(r["attempts"]), shown(r["published_url"] or r["published_id"] or ""),
                      shown((r["error"] or "")[:200]))
    console.print(table)


@replies_app.command("publish")
@friendly
def publish_command(loop: bool = typer.Option(False, help="keep publishing until SIGTERM / Ctrl-C"),
                    interval: float = typer.Option(2.0, min=0.1, max=3600, help="seconds between rounds")) -> None:
    """Publish due replies once (or, with --loop, as they come); safe beside other publishers."""
    from brandpulse.services.publishing import publish_due

    settings = load_settings()
    run_rounds(lambda: publish_due(settings), loop=loop, interval=interval, idle_text="nothing to publish")
