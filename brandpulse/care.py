"""Care service: the inbox, one ticket's full context, and every ticket action, role-checked.

The dashboard (and anything else) calls these; each re-reads the actor from the database
(role, team, active flag, session), checks the role and the care reach of
``brandpulse.access.may_reach_ticket`` before it touches the store, and each change is recorded
in the ticket's history with the actor and the time.
"""

from __future__ import annotations

from string import Formatter
from typing import Any, Iterable

from brandpulse.access import Actor, may_reach_ticket, require
from brandpulse.accounts import authorize
from brandpulse.errors import AccessDeniedError, BrandpulseError, WorkflowError
from brandpulse.settings import Settings
from brandpulse.sla import sla_status
from store.customers import link_authors_as_customer
from store.engine import session_scope
from store.models import Mention, Ticket, utcnow
from store.ticket_actions import (
    add_ticket_note,
    assign_ticket,
    change_ticket_status,
    get_ticket,
    record_event,
    ticket_history,
)
from store.ticket_detail import (
    what_does_this_ticket_cover,
    what_is_this_customers_history,
    which_authors_match,
    whose_tickets_has_this_customer,
)
from store.tickets import CLOSED_STATUSES, OPEN_STATUSES, which_tickets_are_open
from store.users import who_works_in_care

VIEWS = ("my tickets", "my team", "unassigned", "all teams", "recently closed")


def _refuse(actor: Actor, what: str, team: str | None) -> AccessDeniedError:
    mine = f"team {actor.team!r}" if actor.team else "no team"
    return AccessDeniedError(f"{what} belongs to team {team!r}; {actor.username} ({actor.role}, {mine}) may "
                             "reach only their team's tickets and tickets assigned to them; "
                             "ask a care lead to assign it to you")


def _reach(actor: Actor, ticket: Ticket) -> None:
    """AccessDeniedError unless ``actor`` may read and work ``ticket`` (see may_reach_ticket)."""
    if not may_reach_ticket(actor, ticket.team, ticket.assignee_id):
        raise _refuse(actor, f"ticket #{ticket.id}", ticket.team)


def _may_work(settings: Settings, actor: Actor, ticket: Ticket) -> Actor:
    """The actor as the database has it now, once allowed to work ``ticket``."""
    actor = authorize(settings, actor, "ticket.work")
    _reach(actor, ticket)
    return actor


def _sla(ticket: Ticket) -> Any:
    return sla_status(now=utcnow(), first_response_due=ticket.first_response_due,
                      first_response_at=ticket.first_response_at, resolution_due=ticket.resolution_due,
                      resolved_at=ticket.resolved_at)


def inbox(settings: Settings, actor: Actor, view: str = "my team", limit: int = 200) -> list[dict]:
    """Tickets of a view (see VIEWS), each with its SLA state: open ones highest priority first,
    closed ones last changed first."""
    actor = authorize(settings, actor, "ticket.work")
    if view not in VIEWS:
        raise WorkflowError(f"unknown inbox view {view!r}; use one of: {', '.join(VIEWS)}")
    team = actor.team if view in ("my team", "unassigned") else None
    closed = view == "recently closed"
    reach = None if may_reach_ticket(actor, None) else (actor.team, actor.id)
    with session_scope(settings.database.url) as session:
        rows = which_tickets_are_open(session, team, limit=limit, unassigned=view == "unassigned",
                                      assignee_id=actor.id if view == "my tickets" else None,
                                      statuses=CLOSED_STATUSES if closed else OPEN_STATUSES,
                                      newest_first=closed, reach=reach)
        out = []
        for row in rows:
            ticket, sla = row["ticket"], _sla(row["ticket"])
            out.append({"id": ticket.id, "priority": ticket.priority, "status": ticket.status,
                        "sla": sla.summary(), "breached": sla.breached, "team": ticket.team,
                        "assignee": row["assignee"] or "", "intent": ticket.intent, "brand": row["brand"],
                        "network": row["network"], "author": row["author"], "text": row["text"],
                        "created_at": ticket.created_at})
        return out


def ticket_context(settings: Settings, actor: Actor, ticket_id: int) -> dict[str, Any]:
    """Everything an agent needs on one ticket: mentions, history, SLA, customer timeline, team.

    The timeline lists only the customer's other tickets the actor may reach; ``tickets_elsewhere``
    counts the others.
    """
    actor = authorize(settings, actor, "ticket.work")
    with session_scope(settings.database.url) as session:
        _reach(actor, get_ticket(session, ticket_id))
        detail = what_does_this_ticket_cover(session, ticket_id)
        ticket = detail["ticket"]
        customer = (what_is_this_customers_history(session, ticket.author_id, exclude_ticket=ticket.id)
                    if ticket.author_id else {"authors": [], "mentions": [], "tickets": []})
        reachable = [t for t in customer["tickets"] if may_reach_ticket(actor, t["team"], t["assignee_id"])]
        customer["tickets_elsewhere"] = len(customer["tickets"]) - len(reachable)
        customer["tickets"] = reachable
        covered = {m["id"] for m in detail["mentions"]}
        customer["mentions"] = [m for m in customer["mentions"] if m["id"] not in covered]
        customer["authors"] = [{"id": a.id, "network": a.network, "handle": a.handle,
                                "followers": a.followers} for a in customer["authors"]]
        return {**detail, "ticket": ticket.model_dump(), "sla": _sla(ticket),
                "history": ticket_history(session, ticket_id), "customer": customer,
                "team_members": [{"id": u.id, "username": u.username}
                                 for u in who_works_in_care(session, ticket.team)],
                "canned_replies": dict(settings.care.canned_replies)}


def claim(settings: Settings, actor: Actor, ticket_id: int) -> None:
    """Assign the ticket to the actor."""
    with session_scope(settings.database.url) as session:
        actor = _may_work(settings, actor, get_ticket(session, ticket_id))
        assign_ticket(session, ticket_id, actor.id, actor.id)


def assign(settings: Settings, actor: Actor, ticket_id: int, assignee_id: int | None) -> None:
    """Assign the ticket to someone (leads and admins), or to oneself (agents)."""
    with session_scope(settings.database.url) as session:
        actor = _may_work(settings, actor, get_ticket(session, ticket_id))
        if assignee_id != actor.id:
            require(actor, "ticket.assign_others")
        assign_ticket(session, ticket_id, assignee_id, actor.id)


def set_status(settings: Settings, actor: Actor, ticket_id: int, status: str, note: str = "") -> None:
    """Move the ticket to ``status`` (with an optional note explaining why)."""
    with session_scope(settings.database.url) as session:
        actor = _may_work(settings, actor, get_ticket(session, ticket_id))
        change_ticket_status(session, ticket_id, status, actor.id, note.strip() or None)


def add_note(settings: Settings, actor: Actor, ticket_id: int, body: str) -> None:
    """An internal note, visible to the team only."""
    with session_scope(settings.database.url) as session:
        actor = _may_work(settings, actor, get_ticket(session, ticket_id))
        add_ticket_note(session, ticket_id, body, actor.id)


def render_canned(template: str, values: dict[str, str]) -> str:
    """Fill a canned reply's placeholders ({author}, {brand}, {agent}, {ticket}, {link}, {network})."""
    missing = [f for _, f, _, _ in Formatter().parse(template) if f and f not in values]
    if missing:
        raise BrandpulseError(f"canned reply needs {missing}, which this ticket cannot fill")
    return template.format_map(values)


def draft_reply(settings: Settings, actor: Actor, ticket_id: int, body: str) -> dict[str, str]:
    """Save a reply draft on the ticket; return it with the link to the post it answers."""
    with session_scope(settings.database.url) as session:
        ticket = get_ticket(session, ticket_id)
        actor = _may_work(settings, actor, ticket)
        add_ticket_note(session, ticket_id, body, actor.id, kind="draft")
        original = session.get(Mention, ticket.mention_id)
        return {"draft": body.strip(), "link": (original.url if original else None) or ""}


def canned_values(context: dict[str, Any], actor: Actor) -> dict[str, str]:
    """The placeholder values of one ticket, for render_canned."""
    first = next((m for m in context["mentions"] if m["id"] == context["ticket"]["mention_id"]),
                 context["mentions"][0] if context["mentions"] else {})
    return {"author": first.get("author") or "there", "brand": context.get("brand") or "",
            "agent": actor.username, "ticket": str(context["ticket"]["id"]),
            "link": first.get("url") or "", "network": first.get("network") or ""}


def bulk(settings: Settings, actor: Actor, ticket_ids: Iterable[int], action: str,
         value: Any = None) -> dict[int, str]:
    """Apply one action ('status' with a status, 'assign' with a user id) to many tickets.

    Returns ticket id -> 'ok' or the reason it was skipped; one bad ticket does not stop the rest.
    """
    actor = authorize(settings, actor, "ticket.bulk")
    outcome: dict[int, str] = {}
    for ticket_id in ticket_ids:
        try:
            if action == "status":
                set_status(settings, actor, ticket_id, value, "bulk action")
            elif action == "assign":
                assign(settings, actor, ticket_id, value)
            else:
                raise WorkflowError(f"unknown bulk action {action!r}; use 'status' or 'assign'")
            outcome[ticket_id] = "ok"
        except BrandpulseError as exc:
            outcome[ticket_id] = str(exc)
    return outcome


def find_authors(settings: Settings, actor: Actor, handle: str) -> list[dict]:
    """Authors whose handle or name contains ``handle`` (literally), to link as the same customer."""
    authorize(settings, actor, "customer.link")
    if len(handle.strip().lstrip("@")) < 2:
        return []
    with session_scope(settings.database.url) as session:
        return [{"id": a.id, "network": a.network, "handle": a.handle, "name": a.name,
                 "followers": a.followers} for a in which_authors_match(session, handle)]


def link_customer(settings: Settings, actor: Actor, ticket_id: int, other_author_id: int) -> None:
    """Record that the ticket's author and another author are the same customer.

    Only from a ticket the actor may reach, and only to an author whose customer has no ticket
    outside the actor's reach (so nobody merges another team's customer record).
    """
    actor = authorize(settings, actor, "customer.link")
    with session_scope(settings.database.url) as session:
        ticket = get_ticket(session, ticket_id)
        _reach(actor, ticket)
        if ticket.author_id is None:
            raise WorkflowError(f"ticket #{ticket_id} has no author to link")
        for other in whose_tickets_has_this_customer(session, other_author_id):
            if not may_reach_ticket(actor, other["team"], other["assignee_id"]):
                raise _refuse(actor, f"author #{other_author_id} is the customer of ticket #{other['id']}, "
                              "which", other["team"])
        link_authors_as_customer(session, [ticket.author_id, other_author_id])
        record_event(session, ticket, "linked", actor.id, to_value=f"author #{other_author_id}",
                     body="linked as the same customer")
