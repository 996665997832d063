"""The care inbox as agents see it: views, search, filters, sort, pages, incidents as one row, what is new.

Role-checked like every care service (``brandpulse.services.care`` re-exports these): the actor is re-read
from the database and only tickets within their care reach are listed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from brandpulse.services.access import Actor, may_reach_ticket
from brandpulse.services.accounts import authorize
from brandpulse.core.errors import WorkflowError
from brandpulse.core.settings import Settings
from brandpulse.services.sla import sla_status
from store.engine import session_scope
from store.models import Ticket, utcnow
from store.tickets import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    InboxQuery,
    how_many_inbox_rows_match,
    which_inbox_rows_match,
    which_tickets_arrived_after,
    which_tickets_match,
)

VIEWS = ("my tickets", "my team", "unassigned", "all teams", "recently closed")


def _sla(ticket: Ticket, now: datetime) -> Any:
    return sla_status(now=now, first_response_due=ticket.first_response_due,
                      first_response_at=ticket.first_response_at, resolution_due=ticket.resolution_due,
                      resolved_at=ticket.resolved_at)


@dataclass(frozen=True)
class InboxFilters:
    """What the agent narrowed a view to; empty fields filter nothing. ``sort``: one of SORTS."""
    search: str = ""
    status: str | None = None
    brand: str | None = None
    network: str | None = None
    intent: str | None = None
    team: str | None = None  # leads and admins: one team's tickets
    breached_only: bool = False
    sort: str = "priority"


SORTS = {"priority": "priority", "sla": "SLA left", "oldest": "oldest post", "newest": "newest post",
         "updated": "last change"}
PAGE_SIZE = 50


def _inbox_query(actor: Actor, view: str, filters: InboxFilters) -> InboxQuery:
    if view not in VIEWS:
        raise WorkflowError(f"unknown inbox view {view!r}; use one of: {', '.join(VIEWS)}")
    if filters.sort not in SORTS:
        raise WorkflowError(f"unknown inbox sort {filters.sort!r}; use one of: {', '.join(SORTS)}")
    statuses = CLOSED_STATUSES if view == "recently closed" else OPEN_STATUSES
    if filters.status:
        if filters.status not in statuses:
            raise WorkflowError(f"the {view!r} view has no {filters.status!r} tickets; "
                                f"filter by one of: {', '.join(statuses)}")
        statuses = (filters.status,)
    team = actor.team if view in ("my team", "unassigned") else None
    if filters.team and team and filters.team != team:
        statuses = ()  # one team's view filtered to another team: nothing
    return InboxQuery(statuses=statuses, team=filters.team or team, unassigned=view == "unassigned",
                      assignee_id=actor.id if view == "my tickets" else None,
                      reach=None if may_reach_ticket(actor, None) else (actor.team, actor.id),
                      search=filters.search, brand=filters.brand, network=filters.network,
                      intent=filters.intent, breached_only=filters.breached_only, sort=filters.sort)


def _ticket_row(row: dict, now: datetime) -> dict:
    ticket, sla = row["ticket"], _sla(row["ticket"], now)
    return {"kind": "ticket", "id": ticket.id, "priority": ticket.priority, "status": ticket.status,
            "sla": sla.summary(), "breached": sla.breached, "team": ticket.team,
            "assignee": row["assignee"] or "", "intent": ticket.intent, "brand": row["brand"],
            "network": row["network"], "author": row["author"], "text": row["text"],
            "posted_at": row["posted_at"], "created_at": ticket.created_at}


def inbox(settings: Settings, actor: Actor, view: str = "my team", limit: int = 200,
          filters: InboxFilters = InboxFilters()) -> list[dict]:
    """Tickets of a view (see VIEWS), each with its SLA state, one row per ticket (incidents not
    grouped); open views highest priority first, closed ones last changed first unless ``filters``
    sort otherwise."""
    actor = authorize(settings, actor, "ticket.work")
    if view == "recently closed" and filters.sort == "priority":
        filters = replace(filters, sort="updated")
    now = utcnow()
    with session_scope(settings.database.url) as session:
        rows = which_tickets_match(session, _inbox_query(actor, view, filters), now, limit=limit)
        return [_ticket_row(row, now) for row in rows]


def inbox_page(settings: Settings, actor: Actor, view: str = "my team", filters: InboxFilters = InboxFilters(),
               page: int = 1, page_size: int = PAGE_SIZE, seen_up_to: int | None = None) -> dict[str, Any]:
    """One page of a view as the inbox shows it: a ticket per row, an incident's tickets as one row.

    Returns {"rows", "total" (rows over every page), "tickets", "breached" (tickets in the view),
    "page" (clamped to the pages there are), "pages", "first", "last" (1-based positions shown),
    "newest_id", "new" (tickets with an id above ``seen_up_to``; 0 when it is None)}.
    """
    actor = authorize(settings, actor, "ticket.work")
    query = _inbox_query(actor, view, filters)
    now = utcnow()
    with session_scope(settings.database.url) as session:
        counts = how_many_inbox_rows_match(session, query, now)
        pages = max(1, -(-counts["rows"] // page_size))
        page = min(max(1, page), pages)
        rows = which_inbox_rows_match(session, query, now, offset=(page - 1) * page_size, limit=page_size)
        new, newest = which_tickets_arrived_after(session, query, now, seen_up_to or 0)
    out = [_ticket_row(row, now) if row["kind"] == "ticket" else _incident_row(row, now) for row in rows]
    first = (page - 1) * page_size + 1 if out else 0
    return {"rows": out, "total": counts["rows"], "tickets": counts["tickets"], "breached": counts["breached"],
            "page": page, "pages": pages, "first": first, "last": first + len(out) - 1 if out else 0,
            "newest_id": newest, "new": new if seen_up_to is not None else 0}


def _incident_row(row: dict, now: datetime) -> dict:
    incident, due = row["incident"], row["due"]
    left = sla_status(now=now, first_response_due=due, first_response_at=None, resolution_due=None,
                      resolved_at=None) if due else None
    return {"kind": "incident", "id": incident.id, "priority": row["priority"], "status": incident.status,
            "sla": (left.summary() if left else "") + f" · {row['breached']} breached" * bool(row["breached"]),
            "breached": bool(row["breached"]), "team": "", "assignee": "", "intent": "", "brand": "",
            "network": "", "author": "", "text": incident.title, "tickets": row["tickets"],
            "posted_at": row["posted_at"], "created_at": incident.created_at}
