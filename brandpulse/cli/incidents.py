"""`brandpulse incidents …`: group complaints with one cause, answer every author once, resolve them all.

Every command acts as a named care lead or admin (``--as USERNAME``) and goes through the same
role and reach checks as the dashboard.
"""

from __future__ import annotations

from typing import Optional

import typer
from rich.table import Table

from brandpulse.services.access import Actor
from brandpulse.cli.console import console, friendly, shown
from brandpulse.core.errors import BrandpulseError, NotFoundError
from brandpulse.core.settings import Settings, load_settings

incidents_app = typer.Typer(help="Incidents: many complaints with one cause, answered and resolved at once.",
                            no_args_is_help=True)
AS_USER = typer.Option(..., "--as", help="act as this care lead or admin (their role and reach apply)")


def operator(settings: Settings, username: str) -> Actor:
    """The user named ``username`` as an Actor (services re-check role, active flag and reach)."""
    from brandpulse.services.accounts import list_users

    for user in list_users(settings, None):
        if user["username"] == username:
            return Actor(id=user["id"], username=user["username"], role=user["role"], team=user["team"] or None)
    raise NotFoundError(f"no user named {username!r}; `brandpulse users list` shows who exists")


def _span(suggestion: dict) -> str:
    first, last = suggestion["first_posted_at"], suggestion["last_posted_at"]
    return f"{first:%Y-%m-%d %H:%M}-{last:%H:%M} UTC" if first.date() == last.date() else \
        f"{first:%Y-%m-%d %H:%M} - {last:%Y-%m-%d %H:%M} UTC"


def _suggestions(settings: Settings, actor: Actor, brand: Optional[str], min_size: int) -> list[dict]:
    from brandpulse.services.incidents import suggest_incidents

    return suggest_incidents(settings, actor, brand, min_size)


@incidents_app.command("suggest")
@friendly
def suggest_command(as_user: str = AS_USER,
                    brand: Optional[str] = typer.Option(None, help="only this brand"),
                    min_size: int = typer.Option(5, "--min", min=2, max=100_000,
                                                 help="tickets a group needs")) -> None:
    """Open complaints that share a cause in a burst (alert window, topic, near-identical text)."""
    settings = load_settings()
    found = _suggestions(settings, operator(settings, as_user), brand, min_size)
    if not found:
        console.print(f"no group of {min_size} or more open complaints shares a cause right now", markup=False)
        return
    for s in found:
        console.print(shown(f"[{s['number']}] {s['count']} tickets, {s['authors']} authors · {s['brand'] or '?'} · "
                            f"{s['cause']} · {_span(s)}", style="bold"))
        for also in s["also"]:
            console.print(shown(f"    also found by {also}"))
        for sample in s["samples"]:
            console.print(shown(f"    \u201c{sample}\u201d"))
    console.print(f"create one with: brandpulse incidents create --as {as_user} --from-suggestion N "
                  f"--title '...'" + (f" --brand '{brand}'" if brand else "") + f" --min {min_size}", markup=False)


@incidents_app.command("list")
@friendly
def list_command(as_user: str = AS_USER,
                 resolved: bool = typer.Option(False, "--resolved", help="include resolved incidents")) -> None:
    """Incidents, newest first, with their open tickets."""
    from brandpulse.services.incidents import list_incidents

    settings = load_settings()
    rows = list_incidents(settings, operator(settings, as_user), include_resolved=resolved)
    if not rows:
        console.print("no incidents" if resolved else "no open incidents", markup=False)
        return
    table = Table(title=f"incidents: {len(rows)}")
    for column in ("id", "status", "open tickets", "max priority", "brand", "first post (UTC)", "title", "cause"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(f"#{r['id']}", r["status"], str(r["tickets"]), f"{r['max_priority'] or 0:.0f}",
                      shown(r["brand"] or ""), f"{r['first_posted_at']:%Y-%m-%d %H:%M}" if r["first_posted_at"]
                      else "", shown(r["title"]), shown(r["cause"]))
    console.print(table)


def _ticket_ids(value: str) -> list[int]:
    try:
        ids = [int(part) for part in value.replace(" ", "").split(",") if part]
    except ValueError:
        raise BrandpulseError(f"--tickets {value!r} is not a list of ticket ids; write it like 12,15,31") from None
    if not ids:
        raise BrandpulseError("--tickets is empty; write ticket ids like 12,15,31")
    return ids


@incidents_app.command("create")
@friendly
def create_command(as_user: str = AS_USER,
                   title: Optional[str] = typer.Option(None, help="what happened (default: the suggestion's)"),
                   tickets: Optional[str] = typer.Option(None, help="ticket ids, e.g. 12,15,31"),
                   from_suggestion: Optional[int] = typer.Option(None, "--from-suggestion", min=1,
                                                                 help="number N shown by `incidents suggest`"),
                   brand: Optional[str] = typer.Option(None, help="with --from-suggestion: as given to suggest"),
                   min_size: int = typer.Option(5, "--min", min=2, max=100_000,
                                                help="with --from-suggestion: as given to suggest")) -> None:
    """Open an incident from listed tickets or from a suggestion."""
    from brandpulse.services.incidents import create_incident

    if (tickets is None) == (from_suggestion is None):
        raise BrandpulseError("give either --tickets 12,15,31 or --from-suggestion N (from `incidents suggest`)")
    settings = load_settings()
    actor, cause = operator(settings, as_user), ""
    if from_suggestion is not None:
        found = _suggestions(settings, actor, brand, min_size)
        chosen = next((s for s in found if s["number"] == from_suggestion), None)
        if chosen is None:
            raise BrandpulseError(f"there is no suggestion {from_suggestion} now ({len(found)} found); "
                                  "run `brandpulse incidents suggest` again with the same --brand and --min")
        ids, cause, title = chosen["ticket_ids"], chosen["cause"], title or chosen["title"]
    else:
        ids = _ticket_ids(tickets)
    if not title:
        raise BrandpulseError("give the incident a --title")
    made = create_incident(settings, actor, title, ids, cause)
    console.print(shown(f"incident #{made['id']} opened with {len(made['added'])} tickets"))
    for ticket_id, why in made["skipped"].items():
        console.print(shown(f"  skipped #{ticket_id}: {why}"))


@incidents_app.command("answer")
@friendly
def answer_command(incident_id: int = typer.Argument(..., help="incident id"), as_user: str = AS_USER,
                   text: str = typer.Option(..., help="the public answer; {author}, {brand}, {agent}, {ticket}, "
                                                      "{link}, {network} are filled per post")) -> None:
    """Queue one public reply to each author of the incident (published by the outbox worker)."""
    from brandpulse.services.incidents import answer_incident

    settings = load_settings()
    result = answer_incident(settings, operator(settings, as_user), incident_id, text)
    console.print(f"{result['queued']} replies queued, {len(result['skipped'])} skipped", markup=False)
    for pace in result["accounts"]:
        console.print(shown(f"  @{pace['handle']} on {pace['network']}: {pace['queued']} replies at most "
                            f"{pace['per_minute']} a minute, about {pace['minutes']} min to publish"))
    by_reason: dict[str, list[int]] = {}
    for skip in result["skipped"]:
        by_reason.setdefault(skip["reason"], []).append(skip["ticket_id"])
    for reason, ids in sorted(by_reason.items(), key=lambda item: -len(item[1])):
        listed = ", ".join(f"#{i}" for i in ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
        console.print(shown(f"  {len(ids)} skipped ({listed}): {reason}"))


@incidents_app.command("resolve")
@friendly
def resolve_command(incident_id: int = typer.Argument(..., help="incident id"), as_user: str = AS_USER,
                    note: str = typer.Option(..., help="how it was resolved (goes to every ticket's history)")) -> None:
    """Resolve the incident and every open ticket of it."""
    from brandpulse.services.incidents import resolve_incident

    settings = load_settings()
    closed = resolve_incident(settings, operator(settings, as_user), incident_id, note)
    console.print(f"incident #{incident_id} resolved; {closed} tickets closed", markup=False)


@incidents_app.command("status")
@friendly
def status_command(incident_id: int = typer.Argument(..., help="incident id"), as_user: str = AS_USER,
                   status: str = typer.Argument(..., help="open | monitoring")) -> None:
    """Move an incident between open and monitoring (resolve it with `incidents resolve`)."""
    from brandpulse.services.incidents import set_incident_status

    if status == "resolved":
        raise BrandpulseError("resolve an incident with `brandpulse incidents resolve ID --note ...`")
    settings = load_settings()
    set_incident_status(settings, operator(settings, as_user), incident_id, status)
    console.print(f"incident #{incident_id} is {status}", markup=False)
