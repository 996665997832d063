"""/v1/tickets: the care inbox's views paged by key, one ticket in full, and the agent's actions on it.

Every answer about one ticket carries ``ETag: "<version>"``; a write sent with ``If-Match`` of
an older version changes nothing and answers 412 (the ticket's version rises with every change).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Optional

from fastapi import APIRouter, Depends, Header, Query, Response
from pydantic import BaseModel, Field

from api.deps import RowId, needs, settings_of
from api.pagination import Page, decode_cursor, encode_cursor
from api.problems import ApiProblem
from brandpulse.core.errors import AccessDeniedError
from brandpulse.core.settings import Settings
from brandpulse.services import care, ticket_views
from brandpulse.services.access import Actor
from brandpulse.services.inbox import InboxFilters

router = APIRouter(tags=["tickets"])
View = Literal["my_tickets", "my_team", "unassigned", "all_teams", "recently_closed",
               "my tickets", "my team", "all teams", "recently closed"]
Status = Literal["new", "assigned", "in_progress", "waiting_customer", "resolved", "dismissed"]
IF_MATCH = Header(alias="If-Match", description='the ticket\'s ETag (`"<version>"`) this change is meant for; '
                  "a newer ticket answers 412 and nothing changes. Leave it out to write whatever the version")


class TicketSummary(BaseModel):
    id: int
    status: str
    priority: float
    intent: str
    team: str
    assignee: Optional[str] = None
    brand: Optional[str] = None
    network: str
    author: Optional[str] = None
    text: str
    sla: str
    breached: bool
    posted_at: Optional[datetime] = None
    created_at: datetime
    updated_at: datetime
    version: int


class Sla(BaseModel):
    summary: str
    breached: bool
    first_response_breached: bool
    resolution_breached: bool
    first_response_left_s: Optional[float] = Field(None, description="seconds left (negative: late); "
                                                   "null once answered")
    resolution_left_s: Optional[float] = Field(None, description="seconds left (negative: late); null once closed")


class Event(BaseModel):
    at: datetime
    kind: str
    user: str
    from_value: Optional[str] = None
    to_value: Optional[str] = None
    body: Optional[str] = None


class Customer(BaseModel):
    authors: list[dict[str, Any]] = Field(description="the customer's accounts on every network")
    mentions: list[dict[str, Any]] = Field(description="their other posts, newest first")
    tickets: list[dict[str, Any]] = Field(description="their other tickets this token may reach")
    tickets_elsewhere: int = Field(description="their tickets outside this token's reach")
    replies: list[dict[str, Any]] = Field(description="the brand's replies on these tickets, newest first")


class TicketDetail(BaseModel):
    id: int
    status: str
    priority: float
    priority_explanation: dict[str, float]
    intent: str
    team: str
    assignee: Optional[str] = None
    brand: Optional[str] = None
    author: Optional[dict[str, Any]] = None
    mention_id: int
    incident_id: Optional[int] = None
    posted_at: Optional[datetime] = None
    first_response_due: Optional[datetime] = None
    resolution_due: Optional[datetime] = None
    first_response_at: Optional[datetime] = None
    resolved_at: Optional[datetime] = None
    created_at: datetime
    updated_at: datetime
    version: int
    sla: Sla
    mentions: list[dict[str, Any]] = Field(description="every post the ticket covers, oldest first")
    history: list[Event] = Field(description="every change, oldest first")
    customer: Customer
    team_members: list[dict[str, Any]]


class AssignBody(BaseModel):
    assignee: Optional[str] = Field(..., max_length=150, description='a care user\'s username, "me", '
                                    "or null for the team queue")


class StatusBody(BaseModel):
    status: Status
    note: str = Field("", max_length=5000, description="why (kept in the ticket's history)")


class NoteBody(BaseModel):
    body: str = Field(..., min_length=1, max_length=10000, description="internal note, seen by the team only")


def _seconds(left) -> Optional[float]:
    return None if left is None else left.total_seconds()


def _detail(context: dict[str, Any]) -> TicketDetail:
    ticket, sla, author = context["ticket"], context["sla"], context["author"]
    return TicketDetail(
        **{k: ticket[k] for k in ("id", "status", "priority", "priority_explanation", "intent", "team",
                                  "mention_id", "incident_id", "posted_at", "first_response_due", "resolution_due",
                                  "first_response_at", "resolved_at", "created_at", "updated_at", "version")},
        assignee=context["assignee"], brand=context["brand"],
        author=author.model_dump(exclude={"customer_id", "updated_at"}) if author else None,
        sla=Sla(summary=sla.summary(), breached=sla.breached, first_response_breached=sla.first_response_breached,
                resolution_breached=sla.resolution_breached, first_response_left_s=_seconds(sla.first_response_left),
                resolution_left_s=_seconds(sla.resolution_left)),
        mentions=context["mentions"],
        history=[Event(at=e["at"], kind=e["kind"], user=e["user"], from_value=e["from"], to_value=e["to"],
                       body=e["body"]) for e in context["history"]],
        customer=Customer(**context["customer"]), team_members=context["team_members"])


def _version(if_match: Optional[str]) -> Optional[int]:
    """The version an If-Match names (None for none or `*`); a 422 problem when it names no version."""
    if if_match is None or if_match.strip() == "*":
        return None
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise ApiProblem(422, "invalid-request", f"If-Match {if_match[:60]!r} is not a ticket ETag; send the "
                         'ETag of the ticket as you last read it, e.g. "3", or leave If-Match out',
                         errors=[{"field": "header.If-Match", "message": "not a ticket ETag"}])
    return int(tag)


def _answer(settings: Settings, actor: Actor, ticket_id: int, response: Response) -> TicketDetail | Response:
    """The ticket after a change, with its ETag; 204 when the change took it out of the actor's reach."""
    try:
        detail = _detail(care.ticket_context(settings, actor, ticket_id))
    except AccessDeniedError:
        return Response(status_code=204)
    response.headers["ETag"] = f'"{detail.version}"'
    return detail


@router.get("/tickets", response_model=Page[TicketSummary], summary="List tickets of an inbox view, newest first")
def list_tickets(
    actor: Annotated[Actor, Depends(needs("tickets:read"))],
    settings: Annotated[Settings, Depends(settings_of)],
    view: Annotated[View, Query(description="the inbox view; underscores or spaces")] = "my_team",
    status: Annotated[Optional[Status], Query(description="one status of the view")] = None,
    brand: Annotated[Optional[str], Query(max_length=200)] = None,
    network: Annotated[Optional[str], Query(max_length=20)] = None,
    intent: Annotated[Optional[str], Query(max_length=20)] = None,
    team: Annotated[Optional[str], Query(max_length=100, description="one team's tickets")] = None,
    breached: Annotated[bool, Query(description="only tickets past an SLA due time")] = False,
    q: Annotated[str, Query(max_length=200, description="literal text in the post or the author's handle")] = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    cursor: Annotated[Optional[str], Query(description="next_cursor of the previous page")] = None,
) -> Page[TicketSummary]:
    """The tickets of a care inbox view under the same filters and care reach as the dashboard's inbox.

    Newest ticket first; page with `cursor`: pages never skip or repeat a ticket while new ones arrive.
    """
    name = view.replace("_", " ")  # one of VIEWS
    filters = InboxFilters(search=q.strip(), status=status, brand=brand, network=network, intent=intent,
                           team=team, breached_only=breached)
    after = decode_cursor(cursor, int)
    limit = min(limit, settings.api.max_page_size)
    rows = ticket_views.tickets_after(settings, actor, name, filters, after[0] if after else None, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(items=[TicketSummary(**r) for r in rows],
                next_cursor=encode_cursor(rows[-1]["id"]) if more else None)


@router.get("/tickets/{ticket_id}", response_model=TicketDetail, summary="One ticket with its full context")
def get_ticket(ticket_id: RowId, response: Response,
               actor: Annotated[Actor, Depends(needs("tickets:read"))],
               settings: Annotated[Settings, Depends(settings_of)]) -> TicketDetail:
    """The ticket, every post it covers, its history, SLA, the customer's timeline and the team; `ETag`
    is its version, for `If-Match` on the writes."""
    detail = _detail(care.ticket_context(settings, actor, ticket_id))
    response.headers["ETag"] = f'"{detail.version}"'
    return detail


WRITE_ANSWERS: dict = {204: {"description": "done, and the change took the ticket out of this token's reach"},
                       412: {"description": "the ticket changed since the If-Match version; nothing changed"}}


@router.post("/tickets/{ticket_id}/assign", response_model=TicketDetail, responses=WRITE_ANSWERS,
             summary="Assign a ticket")
def assign_ticket(ticket_id: RowId, body: AssignBody, response: Response,
                  actor: Annotated[Actor, Depends(needs("tickets:write"))],
                  settings: Annotated[Settings, Depends(settings_of)],
                  if_match: Annotated[Optional[str], IF_MATCH] = None) -> Any:
    """Give the ticket to a care user (leads and admins), take it ("me"), or put it back in the team
    queue (null), as in the inbox; recorded in its history."""
    ticket_views.assign_named(settings, actor, ticket_id, body.assignee, if_version=_version(if_match))
    return _answer(settings, actor, ticket_id, response)


@router.post("/tickets/{ticket_id}/status", response_model=TicketDetail, responses=WRITE_ANSWERS,
             summary="Move a ticket to another status")
def set_status(ticket_id: RowId, body: StatusBody, response: Response,
               actor: Annotated[Actor, Depends(needs("tickets:write"))],
               settings: Annotated[Settings, Depends(settings_of)],
               if_match: Annotated[Optional[str], IF_MATCH] = None) -> Any:
    """Move the ticket along its workflow (409 for a move the workflow does not allow), with a note."""
    care.set_status(settings, actor, ticket_id, body.status, body.note, if_version=_version(if_match))
    return _answer(settings, actor, ticket_id, response)


@router.post("/tickets/{ticket_id}/notes", response_model=TicketDetail, responses=WRITE_ANSWERS,
             summary="Add an internal note")
def add_note(ticket_id: RowId, body: NoteBody, response: Response,
             actor: Annotated[Actor, Depends(needs("tickets:write"))],
             settings: Annotated[Settings, Depends(settings_of)],
             if_match: Annotated[Optional[str], IF_MATCH] = None) -> Any:
    """An internal note on the ticket, seen by the team only, kept in its history."""
    care.add_note(settings, actor, ticket_id, body.body, if_version=_version(if_match))
    return _answer(settings, actor, ticket_id, response)
