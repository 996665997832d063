"""Care tickets and their event history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import and_, case, func, null, or_, select
from sqlmodel import Session

from store.bulk import dialect_insert
from store.search import like_pattern
from store.webhooks import enqueue_tickets_created
from store.models import (
    Analysis,
    Author,
    Brand,
    Incident,
    Mention,
    MentionBrand,
    Ticket,
    TicketEvent,
    TicketMention,
    User,
    utcnow,
)

OPEN_STATUSES = ("new", "assigned", "in_progress", "waiting_customer")
CLOSED_STATUSES = ("resolved", "dismissed")


@dataclass
class TicketCandidate:
    """An analysed mention about an own brand that deserves a ticket."""
    mention_id: int
    brand_id: int
    brand: str
    author_id: int | None
    followers: int | None
    network: str
    language: str | None
    created_at: datetime
    likes: int
    replies: int
    reposts: int
    complaint: bool
    complaint_score: float | None
    sentiment_negative: float | None
    severity: str | None
    primary_intent: str | None
    text: str = ""
    conversation_id: str | None = None
    customer_id: int | None = None
    handle: str | None = None
    entities: list[dict[str, str]] | None = None

    @property
    def aspects(self) -> set[str]:
        return {e["text"] for e in self.entities or () if e.get("label") == "ASPECT"}


def which_mentions_need_tickets(session: Session, intents: Sequence[str], since: datetime,
                                limit: int = 5000) -> list[TicketCandidate]:
    """Analysed complaints/questions about own brands, posted after ``since``, with no ticket."""
    wanted = [Analysis.primary_intent.in_(list(intents))]
    if "complaint" in intents:
        wanted.append(Analysis.complaint.is_(True))
    statement = (
        select(Mention.id, Brand.id, Brand.name, Mention.author_id, Author.followers, Mention.network,
               Analysis.language, Mention.created_at, Mention.likes, Mention.replies, Mention.reposts,
               Analysis.complaint, Analysis.complaint_score, Analysis.sentiment_negative,
               Analysis.severity, Analysis.primary_intent, Mention.text, Mention.conversation_id,
               Author.customer_id, Author.handle, Analysis.entities)
        .join(Analysis, Analysis.mention_id == Mention.id)
        .join(MentionBrand, MentionBrand.mention_id == Mention.id)
        .join(Brand, and_(Brand.id == MentionBrand.brand_id, Brand.is_competitor.is_(False)))
        .outerjoin(Author, Author.id == Mention.author_id)
        .outerjoin(TicketMention, TicketMention.mention_id == Mention.id)
        .where(TicketMention.ticket_id.is_(None), Mention.created_at >= since, or_(*wanted))
        .order_by(Mention.created_at).limit(limit))
    seen: set[int] = set()
    out = []
    for row in session.execute(statement):
        if row[0] not in seen:  # a mention about two own brands gets one ticket
            seen.add(row[0])
            out.append(TicketCandidate(*row))
    return out


def open_tickets(session: Session, tickets: Sequence[dict[str, Any]]) -> int:
    """Insert new tickets (one per mention) with a 'created' event each; return how many."""
    if not tickets:
        return 0
    mention_ids = [t["mention_id"] for t in tickets]
    before = set(session.execute(select(Ticket.mention_id)
                                 .where(Ticket.mention_id.in_(mention_ids))).scalars())
    session.execute(dialect_insert(session, Ticket).on_conflict_do_nothing(), list(tickets))
    created = session.execute(select(Ticket.id, Ticket.mention_id, Ticket.team, User.username)
                              .outerjoin(User, User.id == Ticket.assignee_id)
                              .where(Ticket.mention_id.in_(mention_ids))).all()
    events, covered = [], []
    for ticket_id, mention_id, team, assignee in created:
        if mention_id in before:
            continue
        covered.append({"mention_id": mention_id, "ticket_id": ticket_id, "reason": "opened",
                        "added_at": utcnow()})
        events.append({"ticket_id": ticket_id, "kind": "created", "to_value": team,
                       "created_at": utcnow()})
        if assignee:
            events.append({"ticket_id": ticket_id, "kind": "assigned", "to_value": assignee,
                           "body": "auto-assigned (fewest open tickets)", "created_at": utcnow()})
    if covered:
        session.execute(dialect_insert(session, TicketMention).on_conflict_do_nothing(), covered)
    if events:
        session.execute(dialect_insert(session, TicketEvent), events)
    enqueue_tickets_created(session, [c["ticket_id"] for c in covered])  # webhooks, same transaction
    return len(created) - len(before)


def which_tickets_cover(session: Session, mention_ids: Sequence[int]) -> dict[int, int]:
    """mention id -> the id of the ticket covering it, for the mentions that have one."""
    if not mention_ids:
        return {}
    return dict(session.execute(select(TicketMention.mention_id, TicketMention.ticket_id)
                                .where(TicketMention.mention_id.in_(list(mention_ids)))).all())


def who_has_fewest_open_tickets(session: Session, team: str) -> int | None:
    """The active care agent of ``team`` with the fewest open tickets (None if the team is empty)."""
    open_count = (select(func.count(Ticket.id)).where(Ticket.assignee_id == User.id,
                                                      Ticket.status.in_(OPEN_STATUSES))
                  .scalar_subquery())
    row = session.execute(select(User.id).where(User.team == team, User.active.is_(True),
                                                User.role.in_(("care_agent", "care_lead")))
                          .order_by(open_count, User.id).limit(1)).first()
    return row[0] if row else None


@dataclass(frozen=True)
class InboxQuery:
    """Which tickets an inbox view shows, and in what order (``sort``: priority, sla, oldest, newest,
    updated). ``reach`` = (team, user id): only that team's tickets or the user's own; ``search``:
    literal text in the post or the author's handle, any case. Empty fields filter nothing."""
    statuses: tuple[str, ...] = OPEN_STATUSES
    team: str | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    reach: tuple[str | None, int] | None = None
    search: str = ""
    brand: str | None = None
    network: str | None = None
    intent: str | None = None
    breached_only: bool = False
    sort: str = "priority"


def _posted():
    return func.coalesce(Ticket.posted_at, Mention.created_at)


def _next_due():
    """The due time the ticket's SLA clock now runs against (None once closed)."""
    return case((Ticket.resolved_at.is_not(None), null()),
                (Ticket.first_response_at.is_(None), Ticket.first_response_due), else_=Ticket.resolution_due)


def _breached(now: datetime):
    """The SQL form of brandpulse.services.sla's breach: a clock past due, or stopped after it."""
    answered = func.coalesce(Ticket.first_response_at, Ticket.resolved_at)
    return or_(and_(Ticket.first_response_due.is_not(None),
                    or_(and_(answered.is_(None), Ticket.first_response_due < now),
                        answered > Ticket.first_response_due)),
               and_(Ticket.resolution_due.is_not(None),
                    or_(and_(Ticket.resolved_at.is_(None), Ticket.resolution_due < now),
                        Ticket.resolved_at > Ticket.resolution_due)))


def _matching(statement, query: InboxQuery, now: datetime):
    """``statement`` over tickets joined to their post, author and brand, narrowed to ``query``."""
    statement = (statement.join(Mention, Mention.id == Ticket.mention_id)
                 .outerjoin(Author, Author.id == Ticket.author_id)
                 .outerjoin(Brand, Brand.id == Ticket.brand_id)
                 .where(Ticket.status.in_(list(query.statuses))))
    if query.team:
        statement = statement.where(Ticket.team == query.team)
    if query.assignee_id is not None:
        statement = statement.where(Ticket.assignee_id == query.assignee_id)
    if query.unassigned:
        statement = statement.where(Ticket.assignee_id.is_(None))
    if query.reach is not None:
        team_of, user_id = query.reach
        statement = statement.where(or_(Ticket.assignee_id == user_id,
                                        *([Ticket.team == team_of] if team_of is not None else [])))
    term = query.search.strip()
    if term:
        statement = statement.where(or_(Mention.text.ilike(like_pattern(term), escape="\\"),
                                        Author.handle.ilike(like_pattern(term.lstrip("@")), escape="\\")))
    for column, value in ((Brand.name, query.brand), (Mention.network, query.network),
                          (Ticket.intent, query.intent)):
        if value:
            statement = statement.where(column == value)
    if query.breached_only:
        statement = statement.where(_breached(now))
    return statement


def _order(sort: str, priority, due, posted, updated, first_id) -> tuple:
    orders = {"priority": (priority.desc(), first_id), "sla": (due.is_(None), due, priority.desc(), first_id),
              "oldest": (posted, first_id), "newest": (posted.desc(), first_id.desc()),
              "updated": (updated.desc(), first_id.desc())}
    if sort not in orders:
        raise ValueError(f"unknown inbox sort {sort!r}; use one of: {', '.join(orders)}")
    return orders[sort]


ROW_KEYS = ("ticket", "text", "network", "url", "author", "brand", "assignee", "posted_at")


def _ticket_rows():
    return select(Ticket, Mention.text, Mention.network, Mention.url, Author.handle, Brand.name,
                  User.username, _posted()).outerjoin(User, User.id == Ticket.assignee_id)


def which_tickets_match(session: Session, query: InboxQuery, now: datetime, *, offset: int = 0,
                        limit: int = 200) -> list[dict[str, Any]]:
    """One row per ticket of ``query`` (incidents not grouped), in its order; keys: ROW_KEYS."""
    statement = _matching(_ticket_rows(), query, now).order_by(*_order(
        query.sort, Ticket.priority, _next_due(), _posted(), Ticket.updated_at, Ticket.id))
    return [dict(zip(ROW_KEYS, row)) for row in session.execute(statement.offset(offset).limit(limit))]


def _items(query: InboxQuery, now: datetime):
    """The inbox's rows as a subquery: a ticket alone, or all matching tickets of one incident."""
    lone = case((Ticket.incident_id.is_(None), Ticket.id), else_=null())
    return _matching(select(Ticket.incident_id.label("incident_id"), lone.label("ticket_id"),
                            func.count(Ticket.id).label("tickets"), func.max(Ticket.priority).label("priority"),
                            func.min(_next_due()).label("due"), func.min(_posted()).label("posted"),
                            func.max(Ticket.updated_at).label("updated"), func.min(Ticket.id).label("first_id"),
                            func.count(Ticket.id).filter(_breached(now)).label("breached")),
                     query, now).group_by(Ticket.incident_id, lone).subquery()


def which_inbox_rows_match(session: Session, query: InboxQuery, now: datetime, *, offset: int = 0,
                           limit: int = 50) -> list[dict[str, Any]]:
    """A page of the inbox: each ticket outside an incident, and each incident once (with how
    many of its tickets match), ordered by ``query.sort`` over the group's most urgent ticket.

    Rows: {"kind": "ticket", ...which_tickets_match's keys} or {"kind": "incident", "incident":
    Incident, "tickets": n, "priority", "due", "posted_at", "breached": n}.
    """
    items = _items(query, now)
    page = session.execute(select(items).order_by(*_order(
        query.sort, items.c.priority, items.c.due, items.c.posted, items.c.updated, items.c.first_id))
        .offset(offset).limit(limit)).mappings().all()
    tickets = _tickets_by_id(session, [row["ticket_id"] for row in page if row["ticket_id"] is not None])
    incidents = {i.id: i for i in session.execute(select(Incident).where(Incident.id.in_(
        [row["incident_id"] for row in page if row["ticket_id"] is None]))).scalars()}
    return [{"kind": "ticket", **tickets[row["ticket_id"]]} if row["ticket_id"] is not None else
            {"kind": "incident", "incident": incidents[row["incident_id"]], "tickets": row["tickets"],
             "priority": row["priority"], "due": row["due"], "posted_at": row["posted"], "breached": row["breached"]}
            for row in page if row["ticket_id"] in tickets or row["incident_id"] in incidents]  # none gone since


def _tickets_by_id(session: Session, ids: list[int]) -> dict[int, dict[str, Any]]:
    statement = _matching(_ticket_rows(), InboxQuery(statuses=OPEN_STATUSES + CLOSED_STATUSES), utcnow())
    return {row[0].id: dict(zip(ROW_KEYS, row)) for row in session.execute(statement.where(Ticket.id.in_(ids)))}


def how_many_inbox_rows_match(session: Session, query: InboxQuery, now: datetime) -> dict[str, int]:
    """{"rows": inbox rows (which_inbox_rows_match pages through exactly these), "tickets": tickets
    in them, "breached": tickets past an SLA due time}."""
    items = _items(query, now)
    rows, tickets, breached = session.execute(select(func.count(), func.coalesce(func.sum(items.c.tickets), 0),
                                                     func.coalesce(func.sum(items.c.breached), 0))
                                              .select_from(items)).one()
    return {"rows": rows, "tickets": int(tickets), "breached": int(breached)}


def which_tickets_arrived_after(session: Session, query: InboxQuery, now: datetime,
                                ticket_id: int) -> tuple[int, int]:
    """(how many tickets of ``query`` are newer than ``ticket_id``, the newest one's id or ``ticket_id``)."""
    count, newest = session.execute(_matching(select(func.count(Ticket.id), func.max(Ticket.id)), query, now)
                                    .where(Ticket.id > ticket_id)).one()
    return count, newest or ticket_id


def how_many_tickets_by_status(session: Session) -> dict[str, int]:
    """Ticket counts per status."""
    rows = session.execute(select(Ticket.status, func.count()).group_by(Ticket.status))
    return {status: count for status, count in rows}


def how_did_care_do(session: Session, brand_id: int, since: datetime, until: datetime) -> dict[str, int]:
    """A brand's tickets, each counted in the period [since, until) it belongs to: "opened" by the
    customer's post time (where the SLA clock starts; the ticket's creation time if unknown), "closed" by
    when it was resolved or dismissed, "first_response_late" by its first-response due time, when the
    first answer (a reply, or closing it) came after it or has not come."""
    posted = func.coalesce(Ticket.posted_at, Ticket.created_at)
    answered = func.coalesce(Ticket.first_response_at, Ticket.resolved_at)

    def count(*where):
        return session.execute(select(func.count(Ticket.id)).where(Ticket.brand_id == brand_id, *where)).scalar_one()

    return {"opened": count(posted >= since, posted < until),
            "closed": count(Ticket.resolved_at >= since, Ticket.resolved_at < until),
            "first_response_late": count(Ticket.first_response_due >= since, Ticket.first_response_due < until,
                                         or_(answered.is_(None), answered > Ticket.first_response_due))}
