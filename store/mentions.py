"""Idempotent bulk upsert of mentions, authors and brand links on (network, native_id)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

import psycopg
from sqlalchemy import false, select, update
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, ProgrammingError, StatementError
from sqlmodel import Session

from brandpulse.core.records import AuthorRecord, MentionRecord, as_utc, says_deleted
from store.bulk import dialect_insert, upsert_rows
from store.deletions import erase_deleted_posts
from store.fitness import mention_problem
from store.erasure import which_are_suppressed
from store.job_queue import enqueue_analysis
from store.models import Author, Brand, Mention, MentionBrand, utcnow
from store.models_rights import Suppression
from store.quarantine import quarantine  # noqa: F401 - callers store a page and its bad rows together

CHUNK = 500
ROW_REFUSALS = (DataError, IntegrityError, ProgrammingError, psycopg.DataError, psycopg.IntegrityError,
                psycopg.ProgrammingError)

KEPT_WHEN_UNKNOWN = ("followers", "following", "post_count", "profile_url", "created_at")
AUTHOR_REFRESHED = ("handle", "name", "followers", "following", "post_count", "verified",
                    "profile_url", "created_at", "updated_at")
MENTION_REFRESHED = ("likes", "replies", "reposts", "quotes", "views")


def _row_caused(exc: BaseException) -> bool:
    """Whether a failed save is the rows' fault (a value refused), not a lock or a lost server."""
    if isinstance(exc, (DBAPIError, psycopg.Error)):
        return isinstance(exc, ROW_REFUSALS)
    return True  # a value that could not even be bound (StatementError, ValueError, OverflowError)


@dataclass
class SaveResult:
    """What a save did: new mentions, ones already stored, repeats within the batch, and the
    records refused (with why) that the caller must quarantine."""
    inserted: int = 0
    existing: int = 0
    repeated: int = 0
    rejected: list[tuple[MentionRecord, str]] = field(default_factory=list)
    suppressed: int = 0  # records of erased posts or authors, dropped (never stored, never quarantined)
    erased: int = 0  # stored mentions whose record came back [deleted]/[removed]: text erased

    def add(self, other: "SaveResult") -> None:
        self.erased += other.erased
        self.inserted += other.inserted
        self.existing += other.existing
        self.repeated += other.repeated
        self.rejected.extend(other.rejected)
        self.suppressed += other.suppressed


def _chunks(items: Sequence, size: int = CHUNK) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _ids_by_key(session: Session, model, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    by_network: dict[str, list[str]] = {}
    for network, native_id in keys:
        by_network.setdefault(network, []).append(native_id)
    found: dict[tuple[str, str], int] = {}
    for network, native_ids in by_network.items():
        for chunk in _chunks(native_ids):
            rows = session.execute(select(model.id, model.native_id).where(
                model.network == network, model.native_id.in_(chunk)))
            found.update({(network, native_id): row_id for row_id, native_id in rows})
    return found


def save_authors(session: Session, authors: Iterable[AuthorRecord]) -> dict[tuple[str, str], int]:
    """Upsert authors (profile fields refreshed); return their ids by (network, native id)."""
    now = utcnow()
    unique = {(a.network, a.native_id): a for a in authors}
    rows = [{"network": a.network, "native_id": a.native_id, "handle": a.handle or "",
             "name": a.name or "", "followers": a.followers, "following": a.following,
             "post_count": a.post_count, "verified": bool(a.verified), "profile_url": a.profile_url,
             "created_at": as_utc(a.created_at) if a.created_at else None, "updated_at": now}
            for a in unique.values()]
    upsert_rows(session, Author, rows, ("network", "native_id"), AUTHOR_REFRESHED, keep_known=KEPT_WHEN_UNKNOWN)
    return _ids_by_key(session, Author, unique)


def brand_ids_by_name(session: Session, names: Iterable[str]) -> dict[str, int]:
    """Ids of the named brands, creating brands met for the first time (e.g. on import)."""
    wanted = {name for name in names if name}
    if not wanted:
        return {}
    found = {name: bid for bid, name in session.execute(select(Brand.id, Brand.name).where(
        Brand.name.in_(wanted)))}
    missing = wanted - set(found)
    if missing:
        session.execute(dialect_insert(session, Brand).on_conflict_do_nothing(),
                        [{"name": name, "query": "", "is_competitor": False, "created_at": utcnow()}
                         for name in sorted(missing)])
        found.update({name: bid for bid, name in session.execute(
            select(Brand.id, Brand.name).where(Brand.name.in_(missing)))})
    return found


def save_mentions(session: Session, records: Sequence[MentionRecord]) -> SaveResult:
    """Upsert mentions idempotently: new ones inserted, known ones get fresh engagement.

    Authors are upserted first and brand links added; nothing is committed here,
    so a caller can store a page and its cursor in one transaction. A record that does
    not fit the schema, or that the database refuses, is returned in ``rejected`` with
    its reason and the rest is stored. A record that says its post was deleted (``[deleted]``,
    ``[removed]``) is never inserted; a stored one loses its text (reason ``deleted``).
    """
    result, fitting, now = SaveResult(), [], utcnow()
    deleted = [record.key for record in records if says_deleted(record)]
    if deleted:
        records = [record for record in records if not says_deleted(record)]
    for record in records:
        problem = mention_problem(record, now)
        if problem:
            result.rejected.append((record, problem))
        else:
            fitting.append(record)
    if (fitting or deleted) and session.get_bind().dialect.name == "sqlite":
        # write first: a savepoint opened by a read would make SQLite refuse the later write at
        # once ("database is locked") whenever another connection wrote meanwhile
        session.execute(update(Mention).where(false()).values(id=Mention.id)
                        .execution_options(synchronize_session=False))
    if deleted:
        result.erased = erase_deleted_posts(session, deleted, "import")
    fitting = _drop_suppressed(session, fitting, result)
    result.add(_save_isolating(session, fitting))
    return result


def _drop_suppressed(session: Session, records: list[MentionRecord], result: SaveResult) -> list[MentionRecord]:
    """The records whose post and author were never erased (a forgotten person is not collected again)."""
    if not records or session.execute(select(Suppression.digest).limit(1)).first() is None:
        return records
    dropped: set[tuple[str, str]] = set()
    for network in {r.network for r in records}:
        mine = [r for r in records if r.network == network]
        posts = which_are_suppressed(session, network, "post", {r.native_id for r in mine})
        authors = which_are_suppressed(session, network, "author", {r.author.native_id for r in mine if r.author})
        dropped.update((network, r.native_id) for r in mine
                       if r.native_id in posts or (r.author and r.author.native_id in authors))
    result.suppressed += sum((r.network, r.native_id) in dropped for r in records)
    return _away_from_erased([r for r in records if (r.network, r.native_id) not in dropped], session)


REFERENCES = ("in_reply_to_id", "quoted_id", "reposted_id", "conversation_id")


def _away_from_erased(records: list[MentionRecord], session: Session) -> list[MentionRecord]:
    """New posts that answer, quote or continue an erased post point at its erased id, not its network id."""
    from dataclasses import replace

    from store.forgetting import erased_id

    gone = {network: which_are_suppressed(session, network, "post", {
        getattr(r, f) for r in records if r.network == network for f in REFERENCES if getattr(r, f)})
        for network in {r.network for r in records}}
    return [replace(r, **{f: erased_id(r.network, "post", getattr(r, f)) for f in REFERENCES
                          if getattr(r, f) in gone[r.network]}) if gone[r.network] else r for r in records]


def _save_isolating(session: Session, records: Sequence[MentionRecord]) -> SaveResult:
    """Save in a savepoint; when the database refuses the batch, halve it until the refused
    records are found alone (a check the schema fitness missed must still lose one row only)."""
    if not records:
        return SaveResult()
    savepoint = session.begin_nested()
    try:
        saved = _save_fitting(session, records)
        savepoint.commit()
        return saved
    except (StatementError, psycopg.Error, ValueError, OverflowError) as exc:
        savepoint.rollback()
        if not _row_caused(exc):  # a lock or a lost connection is the caller's to handle
            raise
        if len(records) == 1:
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:500]
            return SaveResult(rejected=[(records[0], f"the database refused it: {reason}")])
    middle = len(records) // 2
    result = _save_isolating(session, records[:middle])
    result.add(_save_isolating(session, records[middle:]))
    return result


def _save_fitting(session: Session, records: Sequence[MentionRecord]) -> SaveResult:
    unique = list({r.key: r for r in records}.values())
    if not unique:
        return SaveResult()
    author_ids = save_authors(session, [r.author for r in unique if r.author])
    existing = _ids_by_key(session, Mention, (r.key for r in unique))
    now = utcnow()
    rows = [{
        "network": r.network, "native_id": r.native_id, "source": r.source or r.network,
        "url": r.url, "text": r.text, "language": r.language, "created_at": as_utc(r.created_at),
        "collected_at": now,
        "author_id": author_ids.get((r.author.network, r.author.native_id)) if r.author else None,
        "likes": r.likes, "replies": r.replies, "reposts": r.reposts, "quotes": r.quotes,
        "views": r.views, "in_reply_to_id": r.in_reply_to_id, "quoted_id": r.quoted_id,
        "reposted_id": r.reposted_id, "conversation_id": r.conversation_id, "raw": r.raw,
        "analysis_status": "pending", "analysis_error": None,
    } for r in unique]
    upsert_rows(session, Mention, rows, ("network", "native_id"), MENTION_REFRESHED)
    mention_ids = {**existing, **_ids_by_key(session, Mention,
                                             (r.key for r in unique if r.key not in existing))}
    brand_ids = brand_ids_by_name(session, (b for r in unique for b in r.brands))
    links = [{"mention_id": mention_ids[r.key], "brand_id": brand_ids[b]}
             for r in unique for b in set(r.brands)]
    upsert_rows(session, MentionBrand, links, ("mention_id", "brand_id"))
    # PostgreSQL: the new mentions' analysis jobs commit (or roll back) with them
    enqueue_analysis(session, [mention_ids[r.key] for r in unique if r.key not in existing])
    return SaveResult(inserted=len(unique) - len(existing), existing=len(existing),
                      repeated=len(records) - len(unique))
