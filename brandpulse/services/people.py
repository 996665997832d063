"""Data rights: show everything held on a person (subject access), or forget them everywhere.

A person is chosen by a :class:`PersonSelector`: a customer (``customer_id`` or ``external_id``)
with every author linked to it, or one author (``network`` with ``handle`` or ``native_id``).
Exporting an author includes the customer it is linked to and that customer's other authors.
Forgetting an author forgets that author (and its identity on the customer); ``with_linked``
forgets the whole customer too (its other authors, identities, events and the customer itself),
which is what forgetting by customer always does.

Only admins may do either (``people.export``, ``people.forget``). A forget runs in one
transaction, recorded in the ``erasures`` audit log (actor, internal ids, counts per table, never
a name); a run that was killed leaves its audit row ``running`` and changes nothing else, and
running the same forget again resumes that row and completes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from brandpulse.core.errors import BrandpulseError, NotFoundError
from brandpulse.core.records import NETWORKS
from brandpulse.core.settings import Settings
from brandpulse.services.access import Actor
from brandpulse.services.accounts import authorize
from store import forgetting, people
from store.engine import session_scope

EXPORT_FORMAT = "brandpulse-subject-access/1"
MAX_ID_CHARS = 200  # the longest handle, native id or external id a stored row holds


@dataclass(frozen=True)
class PersonSelector:
    """Who: a customer (``customer_id`` or ``external_id``) or an author (``network`` + ``handle`` or
    ``native_id``); ``with_linked``: forgetting an author also forgets its customer and their other authors."""
    network: str | None = None
    handle: str | None = None
    native_id: str | None = None
    customer_id: int | None = None
    external_id: str | None = None
    with_linked: bool = False

    def check(self) -> "PersonSelector":
        """The selector if it names exactly one way to find a person, else BrandpulseError saying how."""
        for field, words in (("handle", "handle"), ("native_id", "native id"), ("external_id", "external id")):
            _check_text(getattr(self, field), words)
        ways = [self.customer_id is not None, bool(self.external_id), bool(self.network)]
        if sum(ways) != 1:
            raise BrandpulseError("name one person: a network with a handle (or native id), a customer id, "
                                  "or a customer external id")
        if self.network:
            if self.network not in NETWORKS:
                raise BrandpulseError(f"network {self.network!r} is not one of {', '.join(NETWORKS)}")
            if bool(self.handle and self.handle.strip().lstrip("@")) == bool(self.native_id):
                raise BrandpulseError(f"with network {self.network!r} give either a handle or a native id")
        return self

    def describe(self) -> str:
        """How the person was named (for messages only; never stored)."""
        if self.customer_id is not None:
            return f"customer #{self.customer_id}"
        if self.external_id:
            return f"customer with external_id {self.external_id!r}"
        return f"{self.network} " + (f"@{self.handle.strip().lstrip('@')}" if self.handle else f"id {self.native_id}")


def _check_text(value: str | None, words: str) -> None:
    """A handle, native id or external id that no stored row can hold is refused here, in one short
    line, instead of being echoed whole (10k characters) or failing in the database (NUL on PostgreSQL)."""
    if value is None:
        return
    if len(value) > MAX_ID_CHARS:
        raise BrandpulseError(f"the {words} is {len(value):,} characters long ({value[:20]!r}…); stored "
                              f"{words}s have at most {MAX_ID_CHARS}: check what was pasted")
    value = value.strip()  # a pasted trailing newline is only whitespace
    bad = next((n for n, char in enumerate(value) if ord(char) < 32 or ord(char) == 127), None)
    if bad is not None:
        raise BrandpulseError(f"the {words} {value[:40]!r} holds a control character ({value[bad]!r} at position "
                              f"{bad + 1}); no stored {words} does: check what was pasted")


@dataclass(frozen=True)
class ForgetSummary:
    """What a forget did: its audit row and the rows changed per table."""
    erasure_id: int
    counts: dict[str, int]


def _find(session, selector: PersonSelector, for_export: bool, gather: bool = True) -> people.Person:
    """The person the selector names (only their ids unless ``gather``); NotFoundError when nobody."""
    selector.check()
    customer_ids: list[int] = []
    author_ids: list[int] = []
    if selector.network:
        authors = people.which_author_is(session, selector.network, selector.handle, selector.native_id)
        author_ids = [a.id for a in authors]
        linked = sorted({a.customer_id for a in authors if a.customer_id})
        if linked and (for_export or selector.with_linked):
            customer_ids = linked
    else:
        customer = people.which_customer_is(session, selector.customer_id, selector.external_id)
        customer_ids = [customer.id] if customer else []
    if customer_ids:
        from store.customer_records import which_authors_are_this_customer

        author_ids += [a.id for c in customer_ids for a in which_authors_are_this_customer(session, c)]
    person = people.gather_person(session, customer_ids, author_ids) if gather else \
        people.Person(customer_ids=sorted(set(customer_ids)), author_ids=sorted(set(author_ids)))
    if not person.found:
        raise NotFoundError(f"nothing is held on {selector.describe()}: no such author or customer "
                            "(already forgotten, or never collected)")
    return person


def export_person(settings: Settings, actor: Actor, selector: PersonSelector) -> dict[str, Any]:
    """Everything held on the person, as one JSON-ready dict: every row they appear in, by table."""
    actor = authorize(settings, actor, "people.export")
    with session_scope(settings.database.url) as session:
        person = _find(session, selector, for_export=True)
        tables = people.which_rows_hold_person(session, person)
    withheld = _withhold_others(tables, person)
    for rows in tables.values():  # JSON-ready: stored JSON columns already are; times become ISO text
        for row in rows:
            for key, value in row.items():
                if isinstance(value, (datetime, date)):
                    row[key] = value.isoformat()
    return {"format": EXPORT_FORMAT, "exported_at": datetime.now(timezone.utc).isoformat(),
            "exported_by": actor.username, "person": {"customer_ids": person.customer_ids,
                                                      "author_ids": person.author_ids},
            "counts": {table: len(rows) for table, rows in tables.items()}, "tables": tables,
            "withheld": {"posts_of_others": withheld}}


OTHERS_POST = "[withheld: another person's post]"


def _withhold_others(tables: dict[str, list[dict[str, Any]]], person: people.Person) -> int:
    """Topics and alerts are exported because they cite the person, but they also quote other people's
    posts (a topic's representatives, an alert's top mentions): those texts are someone else's data and
    are withheld (the mention id stays). Returns how many were withheld."""
    pattern, mine = people.names_pattern(person.names), set(person.mention_ids)
    count = 0

    def scrub(value: Any) -> Any:
        nonlocal count
        if isinstance(value, list):
            return [scrub(v) for v in value]
        if not isinstance(value, dict):
            return value
        quoted = value.get("mention_id")
        if isinstance(quoted, int) and isinstance(value.get("text"), str) and quoted not in mine \
                and not people.cites(value, person, pattern, mine):
            count += 1
            return {**value, "text": OTHERS_POST}
        return {k: scrub(v) for k, v in value.items()}

    for table, column in (("topics", "representative"), ("alerts", "evidence")):
        for row in tables.get(table, []):
            row[column] = scrub(row.get(column))
    return count


def _scope(person: people.Person) -> str:
    customers, authors = ",".join(map(str, person.customer_ids)) or "-", ",".join(map(str, person.author_ids))
    scope = f"customers:{customers} authors:{authors}"
    return scope if len(scope) <= 300 else scope[:280] + f"… ({len(person.author_ids)} authors)"


def forget_person(settings: Settings, actor: Actor, selector: PersonSelector) -> ForgetSummary:
    """Erase the person everywhere in one transaction (see the module text); the audit row's id and counts."""
    actor = authorize(settings, actor, "people.forget")
    url = settings.database.url
    with session_scope(url) as session:  # the audit row first, committed: a killed run shows as 'running'
        forgetting.start_opening_a_forget(session)
        person = _find(session, selector, for_export=False, gather=False)
        erasure_id = forgetting.open_erasure(session, actor.username, _scope(person))
    counts: Counter = Counter()
    with session_scope(url) as session:
        forgetting.protect_deleted_bytes(session)
        finished = forgetting.claim_erasure(session, erasure_id)
        if finished is not None:  # the same forget, started at the same time elsewhere, did it all
            forgetting.protect_deleted_bytes(session, on=False)
            return ForgetSummary(erasure_id, finished)
        person = _find(session, selector, for_export=False)
        handles = people.which_handles_are(session, person.author_ids)
        whole = bool(person.customer_ids)
        forgetting.forget_mentions_of_them(session, person, counts)
        forgetting.scrub_records(session, person, counts)
        files = forgetting.forget_report_files(session, person, erasure_id, counts)
        forgetting.forget_posts(session, person, erasure_id, counts)
        forgetting.forget_customer(session, person, whole, handles, counts)
        forgetting.forget_authors(session, person, erasure_id, counts)
        for path in files:  # before commit: a report that lost its file is made again, a name is never kept
            _remove(path, counts)
        result = {k: v for k, v in sorted(counts.items()) if v}
        forgetting.close_erasure(session, erasure_id, result)
        forgetting.protect_deleted_bytes(session, on=False)
    forgetting.wipe_traces(url)
    return ForgetSummary(erasure_id, result)


def _remove(path: Path, counts: Counter) -> None:
    try:
        path.unlink()
        counts["report_files"] += 1
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise BrandpulseError(f"could not delete report file {path}: {exc}; fix its permissions and run the "
                              "forget again (nothing was changed)") from None
