"""Forgetting a person: the scrubbing writes, run in the caller's one transaction.

Posts keep their rows, analyses and brand links (so rollup totals stay); their text, raw payload,
link and network ids go (the network ids survive only as sha256 digests in the suppression list).
The author becomes a tombstone; the customer, its identities and events are deleted; every note,
reply, alert, topic, webhook payload, stored API answer and rollup term that names the person has
the name replaced by ``[erased]``; quarantined raw items that hold them are deleted. Every step is
idempotent: running it again on a half-forgotten person finishes the job.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, delete, select, text, update
from sqlmodel import Session

from store.bulk import dialect_insert
from store.deletions import start_writing
from store.erasure import (close_erasure_run, erase_author_profiles, erase_mention_texts, open_erasure_run,
                           suppression_digest)
from store.models import (Alert, Analysis, Author, AuthorInfluence, Customer, Mention, Quarantine, Reply, ReportRun,
                          TermRollup, TicketEvent, Topic, utcnow)
from store.models_api import CustomerEvent, CustomerIdentity, IdempotentRequest, WebhookEvent
from store.models_rights import Erasure, Suppression
from store.people import ERASED, Person, chunks, cites, cites_mention, names_pattern, quotes_post, scan, scan_where
from store.people import rows_in, which_mentions_name_person, which_reports_may_list
from store.search import how_far_is_search_indexed

REFERENCES = ("in_reply_to_id", "quoted_id", "reposted_id", "conversation_id")


def scrubbed(value: Any, pattern: re.Pattern | None, texts: set[str], mention_ids: set[int]) -> Any:
    """``value`` (text or JSON) with the person's names replaced by [erased], quotes of their posts
    replaced whole, and the ``text`` of any object citing one of their mentions replaced."""
    if isinstance(value, dict):
        cited = cites_mention(value, mention_ids)
        return {k: (ERASED if cited and k in ("text", "url", "author", "handle") and v else
                    scrubbed(v, pattern, texts, mention_ids)) for k, v in value.items()}
    if isinstance(value, list):
        return [scrubbed(v, pattern, texts, mention_ids) for v in value]
    if isinstance(value, str):
        if value and quotes_post(value, texts):
            return ERASED
        return pattern.sub(ERASED, value) if pattern else value
    return value


def start_opening_a_forget(session: Session) -> None:
    """Before a forget looks its person up and opens its audit row: one process at a time, so a
    second forget of the same person, started at the same moment, sees the first one's row and
    waits on it instead of opening a row of its own (SQLite: the write lock; PostgreSQL: a
    transaction advisory lock)."""
    if session.get_bind().dialect.name == "sqlite":
        start_writing(session)
    else:
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext('brandpulse:open-forget'))"))


def open_erasure(session: Session, actor: str, scope: str) -> int:
    """The audit row of this forget: a run of the same scope left 'running' is resumed, else a new one."""
    return open_erasure_run(session, "forget", actor, scope, resume=True)


close_erasure = close_erasure_run  # marks the audit row done with its counts per table


def claim_erasure(session: Session, erasure_id: int) -> dict[str, int] | None:
    """Lock the audit row before reading anything, so two runs of one forget (two admins, a retried
    request) take turns: the later one waits, then finds the row done and gets its counts instead
    of overwriting them with its own near-empty ones. None: the row is still running, go on."""
    claimed = session.execute(update(Erasure).where(Erasure.id == erasure_id, Erasure.status == "running")
                              .values(status="running").execution_options(synchronize_session=False))
    if claimed.rowcount:
        return None
    return dict(session.execute(select(Erasure.counts).where(Erasure.id == erasure_id)).scalar() or {})


def _suppress(session: Session, erasure_id: int, rows: list[tuple[str, str, str]]) -> int:
    values = [{"network": n, "kind": k, "digest": suppression_digest(n, k, i), "erasure_id": erasure_id,
               "created_at": utcnow()} for n, k, i in rows if not i.startswith("erased:")]
    for part in chunks(values):
        session.execute(dialect_insert(session, Suppression).on_conflict_do_nothing(), part)
    return len(values)


def erased_id(network: str, kind: str, native_id: str) -> str:
    """What an erased post or author is called instead of its network id."""
    return "erased:" + suppression_digest(network, kind, native_id)[:24]


def forget_posts(session: Session, person: Person, erasure_id: int, counts: Counter) -> None:
    """Empty the person's posts, replace their network ids (and others' references to them), suppress them."""
    counts["mentions"] += erase_mention_texts(session, person.mention_ids, "forgotten")
    renamed: dict[tuple[str, str], str] = {}
    for part in chunks(person.mention_ids):
        rows = session.execute(select(Mention.id, Mention.network, Mention.native_id)
                               .where(Mention.id.in_(part))).all()
        for _, network, native_id in rows:
            if not native_id.startswith("erased:"):
                renamed[(network, native_id)] = erased_id(network, "post", native_id)
        counts["suppressions"] += _suppress(session, erasure_id, [(n, "post", i) for _, n, i in rows])
        table = Mention.__table__
        session.execute(update(table).where(table.c.id == bindparam("mid")).values(
            native_id=bindparam("new"), in_reply_to_id=None, quoted_id=None, reposted_id=None,
            conversation_id=None),
            [{"mid": i, "new": renamed.get((n, nid), nid)} for i, n, nid in rows])
    _rewrite_references(session, renamed, set(person.mention_ids), counts)
    pattern = names_pattern(person.names)
    table = Analysis.__table__
    for part in chunks(person.mention_ids):
        rows = session.execute(select(table.c.id, table.c.entities).where(table.c.mention_id.in_(part))).all()
        changed = [{"aid": i, "v_entities": new} for i, old in rows
                   if (new := scrubbed(old, pattern, person.texts, set())) != old]
        if changed:
            session.execute(update(table).where(table.c.id == bindparam("aid"))
                            .values(entities=bindparam("v_entities")), changed)
        counts["analyses"] += len(changed)


def _rewrite_references(session: Session, renamed: dict[tuple[str, str], str], own: set[int], counts: Counter) -> None:
    """Others' replies, quotes, reposts and threads that point at the person's posts point at their new ids."""
    by_network: dict[str, dict[str, str]] = {}
    for (network, old), new in renamed.items():
        by_network.setdefault(network, {})[old] = new
    for network, mapping in by_network.items():
        changes = []
        rows = session.execute(select(Mention.id, *(getattr(Mention, c) for c in REFERENCES)).where(
            Mention.network == network, (Mention.in_reply_to_id.is_not(None)) | (Mention.quoted_id.is_not(None))
            | (Mention.reposted_id.is_not(None)) | (Mention.conversation_id.is_not(None))))
        for mention_id, *refs in rows:
            if mention_id in own or not any(r in mapping for r in refs):
                continue
            changes.append({"mid": mention_id, **{f"v_{c}": mapping.get(r, r) for c, r in zip(REFERENCES, refs)}})
        table = Mention.__table__
        for part in chunks(changes):
            session.execute(update(table).where(table.c.id == bindparam("mid")).values(
                **{c: bindparam(f"v_{c}") for c in REFERENCES}), part)
        counts["mentions_referring"] += len(changes)


def forget_authors(session: Session, person: Person, erasure_id: int, counts: Counter) -> None:
    """Tombstone the authors (handle [erased], digest native id, profile emptied), suppress them,
    and drop their influence scores."""
    authors = rows_in(session, Author, Author.id, person.author_ids)
    counts["suppressions"] += _suppress(session, erasure_id, [(a.network, "author", a.native_id) for a in authors])
    counts["authors"] += erase_author_profiles(session, person.author_ids)
    for author in authors:
        session.execute(update(Author).where(Author.id == author.id).values(
            handle=ERASED, customer_id=None,
            native_id=author.native_id if author.native_id.startswith("erased:")
            else erased_id(author.network, "author", author.native_id)).execution_options(synchronize_session=False))
    for part in chunks(person.author_ids):
        counts["author_influence"] += session.execute(
            delete(AuthorInfluence).where(AuthorInfluence.author_id.in_(part))).rowcount


def forget_customer(session: Session, person: Person, whole: bool, handles: list[tuple[str, str]],
                    counts: Counter) -> None:
    """Delete the customers with identities and events (``whole``), or only the identities of these handles."""
    if not whole:
        for network, handle in handles:
            counts["customer_identities"] += session.execute(delete(CustomerIdentity).where(
                CustomerIdentity.kind == network, CustomerIdentity.value == handle.lower())).rowcount
        for part in chunks(person.author_ids):
            counts["customer_identities"] += session.execute(
                delete(CustomerIdentity).where(CustomerIdentity.author_id.in_(part))).rowcount
        return
    for customer_id in person.customer_ids:
        counts["customer_events"] += session.execute(
            delete(CustomerEvent).where(CustomerEvent.customer_id == customer_id)).rowcount
        counts["customer_identities"] += session.execute(
            delete(CustomerIdentity).where(CustomerIdentity.customer_id == customer_id)).rowcount
        session.execute(update(Author).where(Author.customer_id == customer_id).values(customer_id=None))
        counts["customers"] += session.execute(delete(Customer).where(Customer.id == customer_id)).rowcount


def forget_mentions_of_them(session: Session, person: Person, counts: Counter) -> None:
    """Others' posts naming the person keep their text with the name replaced (index updated too)."""
    pattern = names_pattern(person.names)
    for mention in which_mentions_name_person(session, person):
        if mention.id in set(person.mention_ids):
            continue
        new_text = pattern.sub(ERASED, mention.text) if pattern else mention.text
        new_raw = scrubbed(mention.raw, pattern, person.texts, set()) if mention.raw else mention.raw
        if new_text != mention.text:
            replace_indexed_text(session, mention.id, mention.text, new_text)
        session.execute(update(Mention).where(Mention.id == mention.id).values(text=new_text, raw=new_raw)
                        .execution_options(synchronize_session=False))
        counts["mentions_naming_them"] += 1


def replace_indexed_text(session: Session, mention_id: int, old: str, new: str) -> None:
    """Put ``new`` in the search index in place of ``old`` for one mention."""
    if session.get_bind().dialect.name != "sqlite":
        session.execute(text("UPDATE mention_search SET text = :t WHERE mention_id = :i"), {"t": new, "i": mention_id})
    elif mention_id <= how_far_is_search_indexed(session):
        session.execute(text("INSERT INTO mention_fts (mention_fts, rowid, text) VALUES ('delete', :i, :t)"),
                        {"i": mention_id, "t": old})
        session.execute(text("INSERT INTO mention_fts (rowid, text) VALUES (:i, :t)"), {"i": mention_id, "t": new})


def scrub_records(session: Session, person: Person, counts: Counter) -> None:
    """Notes, drafts, replies, alerts, topics, webhook payloads, API answers and rollup terms: names out."""
    pattern, texts, mids = names_pattern(person.names), person.texts, set(person.mention_ids)

    def named(value: Any) -> bool:
        return value is not None and cites(value, person, pattern, mids)

    plan = ((TicketEvent, ("body", "from_value", "to_value"), TicketEvent.body.is_not(None)),
            (Reply, ("body",), Reply.id > 0))
    for model, columns, condition in plan:
        for row in scan_where(session, model, condition):
            if any(named(getattr(row, c)) for c in columns):
                for c in columns:
                    setattr(row, c, scrubbed(getattr(row, c), pattern, texts, mids))
                counts[model.__tablename__] += 1
    for model, columns in ((Alert, ("title", "evidence")), (Topic, ("label", "terms", "representative")),
                           (WebhookEvent, ("payload",)), (IdempotentRequest, ("response",))):
        for row in scan(session, model, columns, named):
            for c in columns:
                setattr(row, c, scrubbed(getattr(row, c), pattern, texts, mids))
            counts[model.__tablename__] += 1
    for row in scan(session, Quarantine, ("payload", "reason"), named):
        session.delete(row)
        counts["quarantine"] += 1
    if pattern is not None:
        terms = [t for t in session.execute(select(TermRollup.term).distinct()).scalars()
                 if pattern.fullmatch(t.strip())]
        for part in chunks(terms):
            counts["term_rollups"] += session.execute(update(TermRollup).where(TermRollup.term.in_(part))
                                                      .values(term=ERASED)).rowcount
    session.flush()


def forget_report_files(session: Session, person: Person, erasure_id: int, counts: Counter) -> list[Path]:
    """Report runs whose period holds the person's posts lose their file (returned, to delete after commit)."""
    files = []
    for run in which_reports_may_list(session, person):
        files.append(Path(run.path))
        session.execute(update(ReportRun).where(ReportRun.id == run.id).values(
            path="", error=f"file removed by erasure #{erasure_id}: it could list a forgotten person; "
                           "make the report again to get one without them"))
        counts["report_runs"] += 1
    return files


TOUCHED = ("mentions", "mention_search", "authors", "analyses", "customers", "customer_identities", "customer_events",
           "ticket_events", "replies", "alerts", "topics", "webhook_events", "idempotent_requests", "quarantine",
           "term_rollups", "author_influence", "report_runs")


def protect_deleted_bytes(session: Session, on: bool = True) -> None:
    """On SQLite, make this connection overwrite deleted content with zeros (secure_delete); turn it
    off again (after a flush) before the connection goes back to the pool."""
    if session.get_bind().dialect.name == "sqlite":
        session.flush()
        session.execute(text(f"PRAGMA secure_delete={'ON' if on else 'OFF'}"))


def wipe_traces(url: str) -> None:
    """After the commit: leave no old copy of erased bytes behind.

    SQLite: the search index's segments are merged (old trigram lists are rewritten without the
    erased rows) and the WAL is checkpointed and truncated. PostgreSQL: the touched tables are
    VACUUMed, so the dead row versions are pruned.
    """
    from store.engine import get_engine

    engine = get_engine(url)
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA secure_delete=ON")
            connection.exec_driver_sql("INSERT INTO mention_fts (mention_fts) VALUES ('optimize')")
            connection.commit()
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            connection.exec_driver_sql("PRAGMA secure_delete=OFF")
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in TOUCHED:
            connection.exec_driver_sql(f"VACUUM {table}")
