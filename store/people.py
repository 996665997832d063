"""Which rows hold a person: the reads behind a subject access export and a forget.

A person is found as a customer (by id or external id) with every author linked to it, or as one
author (network + handle, or network + native id) with the customer it is linked to. The rows
found are those the person appears in, table by table, as plain dicts (the export's content).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from sqlalchemy import func, select
from sqlmodel import Session, SQLModel

from store.models import (Alert, Analysis, Author, AuthorInfluence, Brand, Customer, Mention, MentionBrand, Quarantine,
                          Reply, ReportRun, TermRollup, Ticket, TicketEvent, TicketMention, Topic, TopicMention)
from store.models_api import CustomerEvent, CustomerIdentity, IdempotentRequest, WebhookEvent

CHUNK = 500
SCAN = 2000  # rows read per page when a table is scanned for the person's names
ERASED = "[erased]"


@dataclass
class Person:
    """The internal ids and identifying strings of one person (never stored anywhere)."""
    customer_ids: list[int] = field(default_factory=list)
    author_ids: list[int] = field(default_factory=list)
    mention_ids: list[int] = field(default_factory=list)
    ticket_ids: list[int] = field(default_factory=list)
    names: set[str] = field(default_factory=set)  # handles, profile names, identity values, external ids
    texts: "PostTexts" = field(default_factory=lambda: PostTexts())  # the person's post texts

    @property
    def found(self) -> bool:
        return bool(self.customer_ids or self.author_ids)


def chunks(ids: Sequence, size: int = CHUNK) -> Iterable[list]:
    """``ids`` in lists of at most ``size``."""
    for start in range(0, len(ids), size):
        yield list(ids[start:start + size])


def row_of(obj: SQLModel) -> dict[str, Any]:
    """A stored row as a dict of its columns."""
    return {column.name: getattr(obj, column.name) for column in obj.__table__.columns}


def which_author_is(session: Session, network: str, handle: str | None = None,
                    native_id: str | None = None) -> list[Author]:
    """Authors of ``network`` with this handle (any case, with or without @) or this network id."""
    query = select(Author).where(Author.network == network, Author.handle != ERASED)
    if native_id is not None:
        query = query.where(Author.native_id == native_id)
    else:
        query = query.where(func.lower(Author.handle) == (handle or "").strip().lstrip("@").lower())
    return list(session.execute(query.order_by(Author.id)).scalars())


def which_customer_is(session: Session, customer_id: int | None = None,
                      external_id: str | None = None) -> Customer | None:
    """The customer with this id or external id, or None."""
    if customer_id is not None:
        return session.get(Customer, customer_id)
    return session.execute(select(Customer).where(Customer.external_id == external_id)).scalars().first()


def _ids(session: Session, column, where_column, values: Sequence) -> list:
    found: list = []
    for part in chunks(sorted(set(values))):
        found += session.execute(select(column).where(where_column.in_(part))).scalars().all()
    return sorted(set(found))


def gather_person(session: Session, customer_ids: Sequence[int], author_ids: Sequence[int]) -> Person:
    """Every internal id and identifying string of the person made of these customers and authors."""
    person = Person(customer_ids=sorted(set(customer_ids)), author_ids=sorted(set(author_ids)))
    for customer in (session.get(Customer, i) for i in person.customer_ids):
        person.names.update(n for n in (full_name(customer.display_name), customer.external_id) if n)
    for identity in rows_in(session, CustomerIdentity, CustomerIdentity.customer_id, person.customer_ids):
        person.names.add(identity.value)
    for author in rows_in(session, Author, Author.id, person.author_ids):
        person.names.update(n for n in (author.handle, full_name(author.name)) if n and n != ERASED)
    person.mention_ids = _ids(session, Mention.id, Mention.author_id, person.author_ids)
    for part in chunks(person.mention_ids):
        person.texts.update(t for t in session.execute(select(Mention.text).where(Mention.id.in_(part))).scalars() if t)
    covering = _ids(session, TicketMention.ticket_id, TicketMention.mention_id, person.mention_ids)
    person.ticket_ids = sorted(set(_ids(session, Ticket.id, Ticket.author_id, person.author_ids)) | set(covering))
    person.names = {n for n in person.names if len(n.strip()) >= 2}
    return person


def which_handles_are(session: Session, author_ids: Sequence[int]) -> list[tuple[str, str]]:
    """(network, handle) of these authors."""
    return [(a.network, a.handle) for a in rows_in(session, Author, Author.id, author_ids)]


def rows_in(session: Session, model, column, values: Sequence) -> list:
    """Rows of ``model`` whose ``column`` is one of ``values`` (read in chunks)."""
    found = []
    for part in chunks(sorted(set(values))):
        found += session.execute(select(model).where(column.in_(part))).scalars().all()
    return found


def full_name(name: str | None) -> str | None:
    """A profile or display name worth looking for elsewhere: two words or more ("Dana Kowalski"); a
    single word ("Dana", "Support") would scrub every other Dana's notes, so it is left out."""
    return name.strip() if name and len(name.split()) >= 2 else None


def cites_mention(value: dict, mention_ids: set[int]) -> bool:
    """Whether a JSON object stands for one of these mentions (``mention_id``, or ``id`` beside a ``text``)."""
    for key in ("mention_id", "id"):
        found = value.get(key)
        if isinstance(found, int) and found in mention_ids and (key == "mention_id" or "text" in value):
            return True
    return False


def names_pattern(names: Iterable[str]) -> re.Pattern | None:
    """A case-insensitive, word-bounded pattern of the names, each with an optional leading @."""
    names = sorted({n.strip().lstrip("@") for n in names if n.strip().lstrip("@")}, key=len, reverse=True)
    if not names:
        return None
    return re.compile(r"(?<![\w@])@?(?:" + "|".join(re.escape(n) for n in names) + r")(?![\w])", re.IGNORECASE)


def cites(value: Any, person: Person, pattern: re.Pattern | None, mention_ids: set[int]) -> bool:
    """Whether a stored value (text or JSON) names the person, quotes their posts or cites their mentions."""
    if isinstance(value, dict):
        if cites_mention(value, mention_ids):
            return True
        return any(cites(v, person, pattern, mention_ids) for v in value.values())
    if isinstance(value, list):
        return any(cites(v, person, pattern, mention_ids) for v in value)
    if isinstance(value, str):
        return bool(pattern and pattern.search(value)) or quotes_post(value, person.texts)
    return False


MIN_QUOTE = 16  # shorter texts ("ok", "thanks!") are too common to recognise as someone's post
CONTAINMENT_LIMIT = 300  # beyond this many posts, only whole texts and their cuts are recognised


class PostTexts(set):
    """A person's post texts, with a sorted copy for prefix look-ups (fill it before the first look-up)."""

    def ordered(self) -> list[str]:
        if getattr(self, "_ordered", None) is None or len(self._ordered) != len(self):
            self._ordered = sorted(t for t in self if len(t) >= MIN_QUOTE)
        return self._ordered


def quotes_post(value: str, texts: set[str]) -> bool:
    """Whether ``value`` is one of the texts or a cut of one (alerts and topics keep 280 characters),
    or, for a person with few posts, holds one whole."""
    if len(value) < MIN_QUOTE:
        return False
    ordered = texts.ordered() if isinstance(texts, PostTexts) else sorted(t for t in texts if len(t) >= MIN_QUOTE)
    at = bisect_left(ordered, value)
    if at < len(ordered) and ordered[at].startswith(value):
        return True
    return len(ordered) <= CONTAINMENT_LIMIT and any(t in value for t in ordered)


def scan(session: Session, model, columns: Sequence[str], keep) -> list:
    """Rows of ``model`` whose ``columns`` satisfy ``keep(value)``, read in pages by id."""
    found, after = [], None
    key = getattr(model, "id")
    while True:
        query = select(model).order_by(key).limit(SCAN)
        if after is not None:
            query = query.where(key > after)
        page = session.execute(query).scalars().all()
        if not page:
            return found
        found += [row for row in page if any(keep(getattr(row, c)) for c in columns)]
        after = page[-1].id


def which_rows_hold_person(session: Session, person: Person) -> dict[str, list[dict[str, Any]]]:
    """Every stored row the person appears in, by table name (the subject access export)."""
    pattern, mention_ids, ticket_ids = names_pattern(person.names), set(person.mention_ids), set(person.ticket_ids)

    def named(value: Any) -> bool:
        return value is not None and cites(value, person, pattern, mention_ids)

    held: dict[str, list] = {
        "customers": dicts_in(session, Customer, "id", person.customer_ids),
        "customer_identities": dicts_in(session, CustomerIdentity, "customer_id", person.customer_ids),
        "customer_events": dicts_in(session, CustomerEvent, "customer_id", person.customer_ids),
        "authors": dicts_in(session, Author, "id", person.author_ids),
        "mentions": dicts_in(session, Mention, "id", person.mention_ids),
        "analyses": dicts_in(session, Analysis, "mention_id", person.mention_ids),
        "mention_brands": dicts_in(session, MentionBrand, "mention_id", person.mention_ids),
        "author_influence": dicts_in(session, AuthorInfluence, "author_id", person.author_ids),
        "tickets": dicts_in(session, Ticket, "id", person.ticket_ids),
        "ticket_mentions": dicts_in(session, TicketMention, "ticket_id", person.ticket_ids),
        "ticket_events": dicts_in(session, TicketEvent, "ticket_id", person.ticket_ids)
        + [row_of(e) for e in _notes_naming(session, pattern) if e.ticket_id not in ticket_ids],
        "replies": dicts_in(session, Reply, "ticket_id", person.ticket_ids)
        + [row_of(r) for r in _replies_naming(session, pattern) if r.ticket_id not in ticket_ids],
        "topic_mentions": dicts_in(session, TopicMention, "mention_id", person.mention_ids),
    }
    topic_ids = {tm["topic_id"] for tm in held["topic_mentions"]}
    held["topics"] = [t for t in scan_where(session, Topic, Topic.id > 0)
                      if t.id in topic_ids or named(t.label) or named(t.representative)]
    held["alerts"] = scan(session, Alert, ("title", "evidence"), named)
    held["webhook_events"] = scan(session, WebhookEvent, ("payload",), named) + _events_about(session, person)
    held["idempotent_requests"] = scan(session, IdempotentRequest, ("response",), named)
    held["quarantine"] = scan(session, Quarantine, ("payload",), named)
    held["term_rollups"] = _terms_naming(session, pattern)
    held["report_runs"] = which_reports_may_list(session, person)
    held["mentions_naming_them"] = [m for m in which_mentions_name_person(session, person) if m.id not in mention_ids]
    return {table: _unique(rows) for table, rows in held.items()}


def dicts_in(session: Session, model, column: str, values: Sequence) -> list[dict[str, Any]]:
    """Rows of ``model`` whose ``column`` is one of ``values``, as dicts (no ORM objects: fast for 10,000s)."""
    table, found = model.__table__, []
    for part in chunks(sorted(set(values))):
        found += [dict(row._mapping) for row in session.execute(select(table).where(table.c[column].in_(part)))]
    return found


def _unique(rows: list) -> list[dict[str, Any]]:
    """The rows as dicts, each row with an ``id`` once (a note can be found twice: own ticket, naming them)."""
    seen, out = set(), []
    for row in rows:
        row = row if isinstance(row, dict) else row_of(row)
        if "id" in row and row["id"] in seen:
            continue
        seen.add(row.get("id"))
        out.append(row)
    return out


def _notes_naming(session: Session, pattern: re.Pattern | None) -> list[TicketEvent]:
    if pattern is None:
        return []
    rows = scan_where(session, TicketEvent, TicketEvent.body.is_not(None))
    return [e for e in rows if pattern.search(e.body or "") or pattern.search(e.to_value or "")]


def _replies_naming(session: Session, pattern: re.Pattern | None) -> list[Reply]:
    return [r for r in scan_where(session, Reply, Reply.id > 0) if pattern and pattern.search(r.body or "")]


def scan_where(session: Session, model, condition) -> list:
    """Rows of ``model`` meeting ``condition``, read in pages by id."""
    found, after = [], 0
    while True:
        page = session.execute(select(model).where(condition, model.id > after).order_by(model.id)
                               .limit(SCAN)).scalars().all()
        if not page:
            return found
        found += page
        after = page[-1].id


def _events_about(session: Session, person: Person) -> list[WebhookEvent]:
    subjects = [f"customer:{i}" for i in person.customer_ids] + [f"ticket:{i}" for i in person.ticket_ids] \
        + [f"mention:{i}" for i in person.mention_ids]
    return rows_in(session, WebhookEvent, WebhookEvent.subject, subjects)


def _terms_naming(session: Session, pattern: re.Pattern | None) -> list[TermRollup]:
    if pattern is None:
        return []
    terms = session.execute(select(TermRollup.term).distinct()).scalars().all()
    hits = [t for t in terms if pattern.fullmatch(t.strip())]
    return rows_in(session, TermRollup, TermRollup.term, hits)


def which_mentions_name_person(session: Session, person: Person) -> list[Mention]:
    """Other people's posts that name the person's handles (found through the search index)."""
    from store.search import which_mentions_contain

    pattern = names_pattern(h for h in person.names if h)
    handles = {a.handle for a in rows_in(session, Author, Author.id, person.author_ids) if a.handle != ERASED}
    found: set[int] = set()
    for handle in handles:
        ids, _ = which_mentions_contain(session, handle)
        if ids is None:
            ids = session.execute(select(Mention.id).where(
                func.lower(Mention.text).contains(handle.lower()))).scalars().all()
        found.update(ids)
    rows = rows_in(session, Mention, Mention.id, sorted(found))
    return [m for m in rows if pattern and (pattern.search(m.text) or (m.raw and cites(m.raw, person, pattern, set())))]


def which_reports_may_list(session: Session, person: Person) -> list[ReportRun]:
    """Stored report runs whose period overlaps the person's posts (their files may list them)."""
    if not person.mention_ids:
        return []
    first, last = None, None
    for part in chunks(person.mention_ids):
        low, high = session.execute(select(func.min(Mention.created_at), func.max(Mention.created_at))
                                    .where(Mention.id.in_(part))).one()
        first = low if first is None or (low and low < first) else first
        last = high if last is None or (high and high > last) else last
    rows = session.execute(select(ReportRun).where(ReportRun.path != "")).scalars().all()
    from datetime import timedelta, timezone

    def aware(t):
        return t if t is None or t.tzinfo else t.replace(tzinfo=timezone.utc)
    first, last = aware(first), aware(last)
    return [r for r in rows if aware(r.period_end) >= first and aware(r.period_end) - timedelta(days=8) <= last]


def brand_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    """Brand names by id."""
    return dict(session.execute(select(Brand.id, Brand.name).where(Brand.id.in_(list(set(ids)))) ).all())



def which_mentions_are_erased(session: Session, mention_ids: Sequence[int]) -> set[int]:
    """Those of these mentions whose text was erased (forgotten, deleted at source or past retention)."""
    found: set[int] = set()
    for part in chunks(sorted(set(mention_ids))):
        found.update(session.execute(select(Mention.id).where(Mention.id.in_(part),
                                                              Mention.erased_at.is_not(None))).scalars())
    return found


def which_tickets_show_erased_posts(session: Session, ticket_ids: Sequence[int]) -> set[int]:
    """Those of these tickets whose own post's text was erased."""
    found: set[int] = set()
    for part in chunks(sorted(set(ticket_ids))):
        found.update(session.execute(select(Ticket.id).join(Mention, Mention.id == Ticket.mention_id).where(
            Ticket.id.in_(part), Mention.erased_at.is_not(None))).scalars())
    return found
