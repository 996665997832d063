"""Care service: the inbox, one ticket's full context, and every ticket action, role-checked.

The dashboard (and anything else) calls these; each re-reads the actor from the database
(role, team, active flag, session), checks the role and the care reach of
``brandpulse.services.access.may_reach_ticket`` before it touches the store, and each change is recorded
in the ticket's history with the actor and the time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from string import Formatter
from typing import Any, Iterable

from brandpulse.services.access import Actor, may_reach_ticket, require
from brandpulse.services.accounts import authorize
from brandpulse.core.errors import (
    AccessDeniedError,
    BrandpulseError,
    ConfigError,
    StaleTicketError,
    WorkflowError,
)
from brandpulse.services.inbox import PAGE_SIZE, SORTS, VIEWS, InboxFilters, inbox, inbox_page  # noqa: F401 (care API)
from brandpulse.core.settings import Settings
from brandpulse.services.sla import sla_deadlines, sla_status
from store.customers import link_authors_as_customer
from store.engine import session_scope
from store.replies import which_replies_went_to_these_tickets
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
from store.tickets import CLOSED_STATUSES
from store.users import get_user, which_users_exist, who_works_in_care


def _refuse(actor: Actor, what: str, team: str | None) -> AccessDeniedError:
    mine = f"team {actor.team!r}" if actor.team else "no team"
    return AccessDeniedError(f"{what} belongs to team {team!r}; {actor.username} ({actor.role}, {mine}) may "
                             "reach only their team's tickets and tickets assigned to them; "
                             "ask a care lead to assign it to you")


def reach_ticket(actor: Actor, ticket: Ticket) -> None:
    """AccessDeniedError unless ``actor`` may read and work ``ticket`` (see may_reach_ticket)."""
    if not may_reach_ticket(actor, ticket.team, ticket.assignee_id):
        raise _refuse(actor, f"ticket #{ticket.id}", ticket.team)


def _may_work(settings: Settings, actor: Actor, ticket: Ticket, if_version: int | None = None) -> Actor:
    """The actor as the database has it now, once allowed to work ``ticket`` (at ``if_version``, if given)."""
    actor = authorize(settings, actor, "ticket.work")
    reach_ticket(actor, ticket)
    check_version(ticket, if_version)
    return actor


def check_version(ticket: Ticket, if_version: int | None) -> None:
    """StaleTicketError when ``if_version`` is given and the ticket has moved on since (nothing changed)."""
    if if_version is not None and ticket.version != if_version:
        raise StaleTicketError(f"ticket #{ticket.id} changed since version {if_version} (it is now at version "
                               f"{ticket.version}); nothing was changed: read the ticket again, then retry "
                               f"with version {ticket.version}")


def _sla(ticket: Ticket, now: datetime | None = None) -> Any:
    return sla_status(now=now or utcnow(), first_response_due=ticket.first_response_due,
                      first_response_at=ticket.first_response_at, resolution_due=ticket.resolution_due,
                      resolved_at=ticket.resolved_at)


def check_teams_have_members(settings: Settings) -> None:
    """ConfigError when care.routing or care.default_team sends tickets to a team without an active
    care agent or lead (nobody in the team could claim them), naming the rule, the team and the fix.

    A database with no care user at all (a fresh install) passes: its tickets wait in their
    teams' queues until users are added.
    """
    with session_scope(settings.database.url) as session:
        users = [u for u in which_users_exist(session) if u.role in ("care_agent", "care_lead")]
    if not users:
        return
    staffed = {u.team for u in users if u.active}
    problems = [(f"care.routing[{i}]", rule.team) for i, rule in enumerate(settings.care.routing)
                if rule.team not in staffed]
    if settings.care.default_team not in staffed:
        problems.append(("care.default_team", settings.care.default_team))
    if problems:
        raise ConfigError("; ".join(
            f"{where} sends tickets to team {team!r}, which has no active care agent or lead, so nobody "
            f"could claim them: add one (`brandpulse users add NAME --role care_agent --team {team}` or "
            f"`brandpulse users set NAME --team {team}`) or remove the rule from config.yaml"
            for where, team in problems))


def ticket_context(settings: Settings, actor: Actor, ticket_id: int) -> dict[str, Any]:
    """Everything an agent needs on one ticket: mentions, history, SLA, customer timeline, team.

    The timeline lists only the customer's other tickets the actor may reach; ``tickets_elsewhere``
    counts the others.
    """
    actor = authorize(settings, actor, "ticket.work")
    with session_scope(settings.database.url) as session:
        reach_ticket(actor, get_ticket(session, ticket_id))
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
        customer["replies"] = which_replies_went_to_these_tickets(
            session, [ticket.id] + [t["id"] for t in reachable])
        return {**detail, "ticket": ticket.model_dump(), "sla": _sla(ticket),
                "history": ticket_history(session, ticket_id), "customer": customer,
                "team_members": [{"id": u.id, "username": u.username}
                                 for u in who_works_in_care(session, ticket.team)],
                "canned_replies": dict(settings.care.canned_replies)}


def claim(settings: Settings, actor: Actor, ticket_id: int, *, if_version: int | None = None) -> None:
    """Assign the ticket to the actor."""
    with session_scope(settings.database.url) as session:
        actor = _may_work(settings, actor, get_ticket(session, ticket_id, for_update=True), if_version)
        assign_ticket(session, ticket_id, actor.id, actor.id)


def assign(settings: Settings, actor: Actor, ticket_id: int, assignee_id: int | None, *,
           if_version: int | None = None) -> None:
    """Assign the ticket to someone (leads and admins), or to oneself (agents)."""
    with session_scope(settings.database.url) as session:
        actor = _may_work(settings, actor, get_ticket(session, ticket_id, for_update=True), if_version)
        if assignee_id != actor.id:
            require(actor, "ticket.assign_others")
        assign_ticket(session, ticket_id, assignee_id, actor.id)


def set_status(settings: Settings, actor: Actor, ticket_id: int, status: str, note: str = "", *,
               if_version: int | None = None) -> None:
    """Move the ticket to ``status`` (with an optional note explaining why)."""
    with session_scope(settings.database.url) as session:
        actor = _may_work(settings, actor, get_ticket(session, ticket_id, for_update=True), if_version)
        change_ticket_status(session, ticket_id, status, actor.id, note.strip() or None)


def move_team(settings: Settings, actor: Actor, ticket_id: int, team: str, *,
              if_version: int | None = None) -> None:
    """Move an open ticket to another team of care.teams (leads and admins), recorded as a 'team'
    event; an assignee outside the new team goes back to the team queue, and the SLA due times
    start again from the post's time with the new team's targets."""
    actor = authorize(settings, actor, "ticket.move_team")
    teams = {t.name: t for t in settings.care.teams}
    if team not in teams:
        raise WorkflowError(f"team {team!r} is not in care.teams; move the ticket to one of: "
                            f"{', '.join(teams)}, or add the team to config.yaml")
    with session_scope(settings.database.url) as session:
        ticket = get_ticket(session, ticket_id, for_update=True)
        reach_ticket(actor, ticket)
        check_version(ticket, if_version)
        if ticket.status in CLOSED_STATUSES:
            raise WorkflowError(f"ticket #{ticket_id} is {ticket.status}; reopen it before moving it")
        if ticket.team == team:
            raise WorkflowError(f"ticket #{ticket_id} is already in team {team!r}; pick another team")
        record_event(session, ticket, "team", actor.id, from_value=ticket.team, to_value=team)
        ticket.team = team
        assignee = get_user(session, ticket.assignee_id) if ticket.assignee_id else None
        if assignee is not None and assignee.team != team:
            record_event(session, ticket, "assigned", actor.id, from_value=assignee.username,
                         to_value="team queue", body=f"{assignee.username} is not in team {team}")
            ticket.assignee_id = None
            ticket.status = "new" if ticket.status == "assigned" else ticket.status
        oldest = ticket.created_at - timedelta(days=settings.care.ticket_max_age_days)  # as triage caps it
        start = max(ticket.posted_at or ticket.created_at, oldest)
        ticket.first_response_due, ticket.resolution_due = sla_deadlines(start, teams[team])


def add_note(settings: Settings, actor: Actor, ticket_id: int, body: str, *,
             if_version: int | None = None) -> None:
    """An internal note, visible to the team only."""
    with session_scope(settings.database.url) as session:
        actor = _may_work(settings, actor, get_ticket(session, ticket_id, for_update=True), if_version)
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
        reach_ticket(actor, ticket)
        if ticket.author_id is None:
            raise WorkflowError(f"ticket #{ticket_id} has no author to link")
        for other in whose_tickets_has_this_customer(session, other_author_id):
            if not may_reach_ticket(actor, other["team"], other["assignee_id"]):
                raise _refuse(actor, f"author #{other_author_id} is the customer of ticket #{other['id']}, "
                              "which", other["team"])
        link_authors_as_customer(session, [ticket.author_id, other_author_id])
        record_event(session, ticket, "linked", actor.id, to_value=f"author #{other_author_id}",
                     body="linked as the same customer")
