"""Incidents: a care lead groups complaints with one cause, answers every author once and resolves them all.

Every function re-reads the actor (``brandpulse.services.accounts.authorize``), needs ``incident.manage``
(reading one incident needs ``ticket.work``) and care reach for every ticket it touches; each
change lands in the tickets' history. Replies go through ``brandpulse.services.replying.queue_reply`` to
the outbox, whose worker publishes at most ``per_minute`` replies per reply account.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any, Iterable

from brandpulse.services.access import Actor, may, may_reach_ticket
from brandpulse.services.accounts import authorize
from brandpulse.services.care import render_canned
from brandpulse.core.errors import AccessDeniedError, WorkflowError
from brandpulse.services.incident_suggestions import LOOKBACK_HOURS, MIN_GROUP, suggest_incidents  # noqa: F401 (the API)
from brandpulse.services.replying import queue_reply
from brandpulse.core.settings import Settings
from brandpulse.core.settings_care import template_problem
from store.engine import session_scope
from store.incidents import (
    add_incident,
    get_incident,
    which_incident_holds_these_tickets,
    which_incidents_are_open,
    which_replies_did_this_incident_send,
    which_tickets_are_in_this_incident,
    which_tickets_are_these,
    what_is_this_incident,
)
from store.models import Incident, Ticket, utcnow
from store.ticket_actions import change_ticket_status, record_event
from store.tickets import CLOSED_STATUSES, OPEN_STATUSES

SETTABLE = ("open", "monitoring")
DEAD_REPLIES = ("failed", "declined")  # an author with only these may be answered again


def _reach_all(actor: Actor, tickets: Iterable[Ticket]) -> None:
    outside = sorted(t.id for t in tickets if not may_reach_ticket(actor, t.team, t.assignee_id))
    if outside:
        listed = ", ".join(f"#{i}" for i in outside[:10]) + (" ..." if len(outside) > 10 else "")
        raise AccessDeniedError(f"{actor.username} ({actor.role}) may not reach tickets {listed} (other teams); "
                                "nothing was changed: leave them out or ask an admin")


def _admit(session, actor: Actor, ticket_ids: list[int], incident: Incident | None) -> tuple[list[Ticket], dict]:
    """The tickets that may join ``incident`` and, for the others, why not (refused outright when
    any ticket is out of the actor's reach)."""
    found = which_tickets_are_these(session, ticket_ids, lock=True)
    _reach_all(actor, found.values())
    holders = which_incident_holds_these_tickets(session, list(found))
    accepted, skipped = [], {}
    for ticket_id in ticket_ids:
        ticket, holder = found.get(ticket_id), holders.get(ticket_id)
        if ticket is None:
            skipped[ticket_id] = "does not exist"
        elif ticket.status in CLOSED_STATUSES:
            skipped[ticket_id] = f"is {ticket.status}; reopen it first"
        elif holder is not None and incident is not None and holder.id == incident.id:
            skipped[ticket_id] = f"is already in incident #{holder.id}"
        elif holder is not None:
            skipped[ticket_id] = f"is already in incident #{holder.id} ({holder.title}); remove it there first"
        else:
            accepted.append(ticket)
    return accepted, skipped


def _join(session, actor: Actor, incident: Incident, tickets: list[Ticket]) -> None:
    for ticket in tickets:
        ticket.incident_id = incident.id
        record_event(session, ticket, "incident", actor.id, to_value=f"incident #{incident.id}",
                     body=incident.title)
    incident.updated_at = utcnow()
    session.add(incident)


def _ids(ticket_ids: Iterable[int]) -> list[int]:
    return list(dict.fromkeys(int(t) for t in ticket_ids))


def create_incident(settings: Settings, actor: Actor, title: str, ticket_ids: Iterable[int],
                    cause: str = "") -> dict[str, Any]:
    """Open an incident holding ``ticket_ids``: {id, added, skipped: {ticket id: why}}.

    Tickets that do not exist, are closed or already in another open incident are skipped with the
    reason; WorkflowError when none is left. AccessDeniedError (nothing created) when any ticket is
    outside the actor's care reach.
    """
    actor = authorize(settings, actor, "incident.manage")
    title, ids = " ".join(title.split()), _ids(ticket_ids)
    if not title or len(title) > 300:
        raise WorkflowError(f"an incident needs a title of 1-300 characters (got {len(title)}); "
                            "say what happened, e.g. 'No signal in Leeds'")
    if not ids:
        raise WorkflowError("an incident needs at least one ticket; pick them from a suggestion or list their ids")
    with session_scope(settings.database.url) as session:
        accepted, skipped = _admit(session, actor, ids, None)
        if not accepted:
            reasons = "; ".join(f"#{i} {why}" for i, why in list(skipped.items())[:5])
            raise WorkflowError(f"no ticket can join the incident {title!r}: {reasons}")
        brands = {t.brand_id for t in accepted}
        incident = add_incident(session, title=title, cause=cause.strip()[:300], created_by=actor.id,
                                brand_id=brands.pop() if len(brands) == 1 else None)
        _join(session, actor, incident, accepted)
        return {"id": incident.id, "added": [t.id for t in accepted], "skipped": skipped}


def _active(session, incident_id: int) -> Incident:
    incident = get_incident(session, incident_id)
    if incident.status == "resolved":
        raise WorkflowError(f"incident #{incident_id} is resolved; open a new incident for new complaints")
    return incident


def add_tickets(settings: Settings, actor: Actor, incident_id: int, ticket_ids: Iterable[int]) -> dict[str, Any]:
    """Add tickets to an open incident: {added, skipped: {ticket id: why}} (see create_incident)."""
    actor = authorize(settings, actor, "incident.manage")
    with session_scope(settings.database.url) as session:
        incident = _active(session, incident_id)
        accepted, skipped = _admit(session, actor, _ids(ticket_ids), incident)
        _join(session, actor, incident, accepted)
        return {"added": [t.id for t in accepted], "skipped": skipped}


def remove_ticket(settings: Settings, actor: Actor, incident_id: int, ticket_id: int) -> None:
    """Take one ticket out of an open incident (it is worked on its own again)."""
    actor = authorize(settings, actor, "incident.manage")
    with session_scope(settings.database.url) as session:
        incident = _active(session, incident_id)
        ticket = which_tickets_are_these(session, [ticket_id]).get(ticket_id)
        if ticket is None or ticket.incident_id != incident_id:
            raise WorkflowError(f"ticket #{ticket_id} is not in incident #{incident_id}; refresh the incident")
        _reach_all(actor, [ticket])
        ticket.incident_id = None
        record_event(session, ticket, "incident", actor.id, from_value=f"incident #{incident_id}",
                     body="taken out of the incident")


def set_incident_status(settings: Settings, actor: Actor, incident_id: int, status: str, note: str = "") -> int:
    """Move an incident open <-> monitoring, or resolve it (resolve_incident: returns tickets closed)."""
    if status == "resolved":
        return resolve_incident(settings, actor, incident_id, note)
    actor = authorize(settings, actor, "incident.manage")
    if status not in SETTABLE:
        raise WorkflowError(f"incident status {status!r} is not one of: open, monitoring, resolved")
    with session_scope(settings.database.url) as session:
        incident = _active(session, incident_id)
        incident.status, incident.updated_at = status, utcnow()
        session.add(incident)
    return 0


def resolve_incident(settings: Settings, actor: Actor, incident_id: int, note: str) -> int:
    """Resolve the incident and every open ticket of it (each with the note in its history, its
    resolution time set); return how many tickets were closed."""
    actor = authorize(settings, actor, "incident.manage")
    note = note.strip()
    if not note:
        raise WorkflowError(f"say how incident #{incident_id} was resolved (e.g. 'network restored 14:05'); "
                            "the note goes to every ticket's history")
    with session_scope(settings.database.url) as session:
        incident = _active(session, incident_id)
        tickets = [row["ticket"] for row in which_tickets_are_in_this_incident(session, incident_id)]
        _reach_all(actor, tickets)
        closed = 0
        for ticket in tickets:
            if ticket.status in OPEN_STATUSES:
                change_ticket_status(session, ticket.id, "resolved", actor.id, f"incident #{incident_id}: {note}")
                closed += 1
        now = utcnow()
        incident.status, incident.resolved_at, incident.updated_at = "resolved", now, now
        session.add(incident)
        return closed


def list_incidents(settings: Settings, actor: Actor, include_resolved: bool = False) -> list[dict[str, Any]]:
    """Incidents newest first with their open-ticket counts (store.incidents.which_incidents_are_open)."""
    actor = authorize(settings, actor, "incident.manage")
    with session_scope(settings.database.url) as session:
        return which_incidents_are_open(session, include_resolved=include_resolved)


def _author_key(row: dict[str, Any]) -> Any:
    return row["ticket"].author_id or f"ticket {row['ticket'].id}"


def _template(body: str) -> str:
    body = body.strip()
    if not body:
        raise WorkflowError("the public answer is empty; write it or pick a canned reply")
    problem = template_problem(body)
    if problem:
        raise WorkflowError(f"the public answer {problem}")
    return body


def answer_incident(settings: Settings, actor: Actor, incident_id: int, body: str) -> dict[str, Any]:
    """Queue one public reply per author (on their latest open ticket of the incident), with the
    placeholders ({author}, {brand}, {agent}, {ticket}, {link}, {network}) filled per ticket.

    All in one transaction. An author already answered by this incident (a reply not failed or
    declined) is skipped, so a second click sends nothing twice; so is a ticket whose brand has no
    reply account on its network or whose network would refuse the reply, with the reason.
    Returns {queued, skipped: [{ticket_id, author, reason}], replies: [{ticket_id, reply_id, author}],
    accounts: [{account, network, handle, queued, per_minute, minutes}]}: the outbox worker publishes at
    most ``per_minute`` replies per account, so ``minutes`` is how long the answer takes to go out.
    """
    actor = authorize(settings, actor, "incident.manage")
    template = _template(body)
    queued, skipped = [], []
    with session_scope(settings.database.url) as session:
        incident = _active(session, incident_id)
        rows = which_tickets_are_in_this_incident(session, incident_id)  # newest post first
        _reach_all(actor, [r["ticket"] for r in rows])
        by_ticket = {r["ticket"].id: r for r in rows}
        answered = {_author_key(by_ticket[r.ticket_id]): r for r in which_replies_did_this_incident_send(
            session, incident_id) if r.status not in DEAD_REPLIES and r.ticket_id in by_ticket}
        authors: dict[Any, list[dict]] = {}
        for row in rows:
            authors.setdefault(_author_key(row), []).append(row)
        for key, mine in authors.items():
            open_rows = [r for r in mine if r["ticket"].status in OPEN_STATUSES]
            latest = (open_rows or mine)[0]
            ticket, who = latest["ticket"], latest["author"] or "?"
            reason = (f"already has this incident's reply #{answered[key].id} ({answered[key].status})"
                      if key in answered else None if open_rows else f"ticket is {ticket.status}")
            if reason is None:
                values = {"author": latest["author"] or "there", "brand": latest["brand"] or "",
                          "agent": actor.username, "ticket": str(ticket.id), "link": latest["url"] or "",
                          "network": latest["network"] or ""}
                try:
                    reply = queue_reply(session, settings, ticket, render_canned(template, values), actor.id,
                                        incident_id=incident_id)
                except WorkflowError as exc:  # the same few reasons for many tickets: without the ticket's number
                    reason = str(exc).removeprefix(f"cannot reply to ticket #{ticket.id}: ")
            if reason is not None:
                skipped.append({"ticket_id": ticket.id, "author": who, "reason": reason})
                continue
            queued.append({"ticket_id": ticket.id, "reply_id": reply.id, "author": who, "account": reply.account})
            for other in open_rows[1:]:
                record_event(session, other["ticket"], "incident", actor.id, to_value=f"reply #{reply.id}",
                             body=f"the incident's answer to @{who} went to their latest post (ticket #{ticket.id})")
        incident.public_answer, incident.updated_at = template, utcnow()
        session.add(incident)
    return {"queued": len(queued), "skipped": skipped, "replies": queued, "accounts": _pace(settings, queued)}


def _pace(settings: Settings, queued: list[dict]) -> list[dict[str, Any]]:
    out = []
    for account_id, count in sorted(Counter(q["account"] for q in queued).items()):
        account = next(a for a in settings.care.reply_accounts if a.id == account_id)
        out.append({"account": account.id, "network": account.network, "handle": account.handle,
                    "queued": count, "per_minute": account.per_minute,
                    "minutes": math.ceil(count / account.per_minute)})
    return out


def incident_detail(settings: Settings, actor: Actor, incident_id: int) -> dict[str, Any]:
    """One incident for its page: the incident, the tickets the actor may reach (with each one's
    reply state), how many are hidden, reply counts, canned replies and whether the actor may manage it."""
    actor = authorize(settings, actor, "ticket.work")
    with session_scope(settings.database.url) as session:
        incident = what_is_this_incident(session, incident_id)
        rows = which_tickets_are_in_this_incident(session, incident_id)
        replies = which_replies_did_this_incident_send(session, incident_id)
    by_ticket = {r.ticket_id: r for r in replies}  # the latest reply of each ticket
    by_author = {_author_key(r): by_ticket[r["ticket"].id] for r in reversed(rows) if r["ticket"].id in by_ticket}
    tickets = []
    for row in rows:
        ticket = row["ticket"]
        if not may_reach_ticket(actor, ticket.team, ticket.assignee_id):
            continue
        own, theirs = by_ticket.get(ticket.id), by_author.get(_author_key(row))
        state = (own.status + (f": {own.error}" if own.error else "")) if own else \
            (f"{theirs.status} (on ticket #{theirs.ticket_id})" if theirs else "")
        tickets.append({"id": ticket.id, "status": ticket.status, "priority": ticket.priority, "team": ticket.team,
                        "assignee": row["assignee"] or "", "author": row["author"] or "", "network": row["network"],
                        "posted_at": row["posted_at"], "reply": state, "text": row["text"], "url": row["url"]})
    manage = may(actor, "incident.manage")
    if rows and not tickets and not manage:
        raise AccessDeniedError(f"incident #{incident_id} holds only tickets of other teams; {actor.username} "
                                "may reach only their team's tickets and tickets assigned to them")
    return {"incident": incident, "tickets": tickets,
            "hidden": len(rows) - len(tickets), "open": sum(r["ticket"].status in OPEN_STATUSES for r in rows),
            "total": len(rows), "replies": dict(Counter(r.status for r in replies)),
            "canned_replies": dict(settings.care.canned_replies), "may_manage": manage}
