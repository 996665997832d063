"""`brandpulse webhooks`: subscriptions of other systems to events, their deliveries, and the delivery worker."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional

import typer
from rich.table import Table

from brandpulse.cli.console import console, friendly, shown
from brandpulse.cli.worker_loop import run_rounds
from brandpulse.core.errors import BrandpulseError
from brandpulse.core.settings import load_settings

webhooks_app = typer.Typer(help="Signed webhooks: subscriptions, deliveries, replays and the worker.",
                           no_args_is_help=True)


def _when(text: Optional[str], name: str) -> Optional[datetime]:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BrandpulseError(f"--{name} {text!r} is not a date or time; use ISO 8601, e.g. 2026-05-01T08:00Z")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment


@webhooks_app.command("add")
@friendly
def add(url: str = typer.Option(..., "--url", help="where to POST, e.g. https://hooks.example.com/brandpulse"),
        events: str = typer.Option(..., "--events", help="comma-separated: mention.analysed, ticket.created, "
                                   "ticket.updated, alert.fired, customer.updated"),
        description: str = typer.Option("", help="what the receiver is")) -> None:
    """Subscribe a URL to events; the signing secret is printed this once."""
    from brandpulse.services.webhooks import create_subscription

    secret, sub = create_subscription(load_settings(), None, url=url, event_types=events.split(","),
                                      description=description)
    console.print(shown(f"subscription #{sub['id']} to {sub['url']} for {', '.join(sub['event_types'])}"))
    console.print("its signing secret (Standard Webhooks); copy it now, it is not shown again:")
    print(secret)


@webhooks_app.command("list")
@friendly
def list_command() -> None:
    """Every subscription with its state (why a disabled one was disabled) and delivery counts."""
    from brandpulse.services.webhooks import list_subscriptions

    rows = list_subscriptions(load_settings(), None)
    if not rows:
        console.print("no webhook subscriptions; add one with `brandpulse webhooks add`", markup=False)
        return
    table = Table(title=f"webhook subscriptions: {len(rows)}")
    for column in ("id", "url", "events", "state", "pending", "delivered", "dead", "description"):
        table.add_column(column, overflow="fold")
    for r in rows:
        state = "active" if r["active"] else f"DISABLED: {r['disabled_reason'] or ''}"
        table.add_row(str(r["id"]), shown(r["url"]), ", ".join(r["event_types"]), shown(state),
                      *(str(r["deliveries"][s]) for s in ("pending", "delivered", "dead")), shown(r["description"]))
    console.print(table)


@webhooks_app.command("remove")
@friendly
def remove(subscription_id: int = typer.Argument(..., help="the subscription's id (see `list`)")) -> None:
    """Remove a subscription with its deliveries and their log."""
    from brandpulse.services.webhooks import delete_subscription

    delete_subscription(load_settings(), None, subscription_id)
    console.print(f"webhook subscription #{subscription_id} removed", markup=False)


@webhooks_app.command("enable")
@friendly
def enable(subscription_id: int = typer.Argument(..., help="the subscription's id (see `list`)")) -> None:
    """Enable a disabled subscription again; its pending deliveries resume."""
    from brandpulse.services.webhooks import enable_subscription

    sub = enable_subscription(load_settings(), None, subscription_id)
    console.print(shown(f"webhook subscription #{sub['id']} to {sub['url']} is active; "
                        f"{sub['deliveries']['pending']} deliveries pending"))


@webhooks_app.command("deliveries")
@friendly
def deliveries(subscription_id: int = typer.Argument(..., help="the subscription's id (see `list`)"),
               status: Optional[str] = typer.Option(None, help="pending, delivered or dead"),
               limit: int = typer.Option(50, min=1, max=10_000, help="show at most this many")) -> None:
    """A subscription's deliveries, newest first, with attempts and the last error."""
    from brandpulse.services.webhooks import list_deliveries

    rows = list_deliveries(load_settings(), None, subscription_id, status, limit=limit)
    table = Table(title=f"deliveries of subscription #{subscription_id}: {len(rows)}")
    for column in ("id", "event", "message id", "subject", "status", "attempts", "next attempt", "last error"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(str(r["id"]), r["event_type"], r["message_id"], shown(r["subject"]), r["status"],
                      str(r["attempts"]), f"{r['next_attempt_at']:%Y-%m-%d %H:%M:%S}" if r["status"] == "pending"
                      else "", shown((r["last_error"] or "")[:200]))
    console.print(table)


@webhooks_app.command("replay")
@friendly
def replay_command(subscription_id: int = typer.Argument(..., help="the subscription's id (see `list`)"),
                   event: Optional[str] = typer.Option(None, "--event", help="one event's message id (msg_…)"),
                   since: Optional[str] = typer.Option(None, help="every event from this time (ISO 8601)"),
                   until: Optional[str] = typer.Option(None, help="... up to this time (default: now)")) -> None:
    """Send events to a subscription again (dead ones included), with their original webhook-id."""
    from brandpulse.services.webhooks import replay

    queued = replay(load_settings(), None, subscription_id, message_id=event, since=_when(since, "since"),
                    until=_when(until, "until"))
    console.print(f"{len(queued)} event(s) queued again for subscription #{subscription_id}", markup=False)


@webhooks_app.command("deliver")
@friendly
def deliver(loop: bool = typer.Option(False, help="keep delivering until SIGTERM / Ctrl-C"),
            interval: float = typer.Option(0.5, min=0.05, max=3600, help="seconds between idle rounds")) -> None:
    """Send due deliveries once (or, with --loop, as they come); safe beside other workers."""
    from brandpulse.services.webhook_delivery import deliver_due

    settings = load_settings()
    run_rounds(lambda: deliver_due(settings), loop=loop, interval=interval, idle_text="nothing to deliver",
               rest_when_busy=False)
