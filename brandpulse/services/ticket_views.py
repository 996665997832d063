"""Care tickets as the API reads them: an inbox view paged by ticket id, and assigning by username.

The same rules as the care inbox (``brandpulse.services.inbox``): the actor is re-read from the
database, the role checked, and only tickets within their care reach are listed.
"""

from __future__ import annotations

from typing import Any

from brandpulse.core.errors import NotFoundError
from brandpulse.core.settings import Settings
from brandpulse.services.access import Actor
from brandpulse.services.accounts import authorize
from brandpulse.services.care import assign
from brandpulse.services.inbox import InboxFilters, _inbox_query, _ticket_row
from store.engine import session_scope
from store.models import utcnow
from store.ticket_pages import which_tickets_come_after
from store.users import which_users_exist


def tickets_after(settings: Settings, actor: Actor, view: str, filters: InboxFilters, after_id: int | None,
                  limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` tickets of an inbox view (see inbox.VIEWS) under ``filters``, newest ticket (highest
    id) first, below ``after_id`` when given; each with its SLA state, version and last change."""
    actor = authorize(settings, actor, "ticket.work")
    query = _inbox_query(actor, view, filters)
    now = utcnow()
    with session_scope(settings.database.url) as session:
        rows = which_tickets_come_after(session, query, now, after_id, limit)
        return [{**_ticket_row(row, now), "assignee": row["assignee"], "updated_at": row["ticket"].updated_at,
                 "version": row["ticket"].version} for row in rows]


def assign_named(settings: Settings, actor: Actor, ticket_id: int, username: str | None, *,
                 if_version: int | None = None) -> None:
    """Assign the ticket to the user called ``username`` ("me": the actor; None: back to the team
    queue), by the rules of ``care.assign``."""
    if username is None or username == "me":
        assign(settings, actor, ticket_id, actor.id if username else None, if_version=if_version)
        return
    authorize(settings, actor, "ticket.work")  # only care users learn which usernames exist
    with session_scope(settings.database.url) as session:
        found = next((u.id for u in which_users_exist(session) if u.username == username), None)
    if found is None:
        raise NotFoundError(f"no user is called {username!r}; assign ticket #{ticket_id} to the username of a "
                            "care user of its team, to \"me\", or to null for the team queue")
    assign(settings, actor, ticket_id, found, if_version=if_version)
