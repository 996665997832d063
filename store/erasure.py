"""Erasing stored post text: the one place that empties mentions and their search-index copies.

Forgetting a person, a deletion reported by a network and retention all end here. A mention
keeps its row, brand links, analysis and counts (so rollups and dashboards stay consistent);
its text, raw payload and, unless asked to keep it, its link are removed, and it is marked
``erased_at`` with the reason. The search index is scrubbed in the same transaction.
"""

from __future__ import annotations

import hashlib
from typing import Iterable, Sequence

from sqlalchemy import bindparam, case, func, null, select, text, update
from sqlmodel import Session

from store.models import Author, Mention, utcnow
from store.models_rights import Erasure, Suppression
from store.search import how_far_is_search_indexed

REASONS = ("forgotten", "deleted", "retention")
CHUNK = 500


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start:start + CHUNK])


def _scrub_search_index(session: Session, ids: list[int]) -> None:
    """Replace the indexed text of these mentions by nothing, keeping the index's watermark."""
    if session.get_bind().dialect.name != "sqlite":
        session.execute(text("UPDATE mention_search SET text = '' WHERE mention_id IN :ids")
                        .bindparams(bindparam("ids", expanding=True)), {"ids": ids})
        return
    watermark = how_far_is_search_indexed(session)
    indexed = [i for i in ids if i <= watermark]
    if not indexed:
        return
    # a contentless FTS5 table forgets a row only when told its old text; the row is then put back
    # empty so that MAX(rowid), the index's watermark, does not move
    session.execute(text("INSERT INTO mention_fts (mention_fts, rowid, text) "
                         "SELECT 'delete', id, text FROM mentions WHERE id IN :ids AND text != ''")
                    .bindparams(bindparam("ids", expanding=True)), {"ids": indexed})
    session.execute(text("INSERT INTO mention_fts (rowid, text) "
                         "SELECT id, '' FROM mentions WHERE id IN :ids AND text != ''")
                    .bindparams(bindparam("ids", expanding=True)), {"ids": indexed})


def erase_mention_texts(session: Session, mention_ids: Sequence[int], reason: str,
                        keep_link: bool = False) -> int:
    """Empty the text and raw payload (and the link unless ``keep_link``) of these mentions,
    scrub them from the search index and mark them erased with ``reason``; return how many
    changed. Mentions already erased for the same reason are left as they are; one not analysed
    yet is marked ``analysis_status='erased'`` and never analysed."""
    if reason not in REASONS:
        raise ValueError(f"erasure reason {reason!r} is not one of {', '.join(REASONS)}")
    changed = 0
    now = utcnow()
    for ids in _chunks(sorted(set(mention_ids))):
        _scrub_search_index(session, ids)
        # a post erased before it was analysed is never scored on empty text (an open claim's save is refused)
        values = {"text": "", "raw": null(), "erased_at": now, "erased_reason": reason,
                  "analysis_status": case((Mention.analysis_status.in_(("pending", "claimed")), "erased"),
                                          else_=Mention.analysis_status)}
        if not keep_link:
            values["url"] = None
        changed += session.execute(
            update(Mention).where(Mention.id.in_(ids))
            .where((Mention.erased_reason.is_(None)) | (Mention.erased_reason != reason)
                   | (Mention.text != ""))
            .values(**values).execution_options(synchronize_session=False)).rowcount
    return changed


def erase_author_profiles(session: Session, author_ids: Sequence[int]) -> int:
    """Empty the profile fields of these authors (name, counts, link); handle and network id are
    left to the caller, who decides between a tombstone and keeping them. Returns rows changed."""
    changed = 0
    for ids in _chunks(sorted(set(author_ids))):
        changed += session.execute(
            update(Author).where(Author.id.in_(ids))
            .values(name="", followers=None, following=None, post_count=None, profile_url=None,
                    verified=False, created_at=None, erased_at=utcnow())
            .execution_options(synchronize_session=False)).rowcount
    return changed


def suppression_digest(network: str, kind: str, native_id: str) -> str:
    """The sha256 under which an erased author or post is remembered (never the id itself)."""
    return hashlib.sha256(f"{network}:{kind}:{native_id}".encode()).hexdigest()


def which_are_suppressed(session: Session, network: str, kind: str, native_ids: Iterable[str]) -> set[str]:
    """The native ids among these that were erased and must not be stored again."""
    by_digest = {suppression_digest(network, kind, nid): nid for nid in native_ids}
    if not by_digest:
        return set()
    found = session.execute(select(Suppression.digest).where(
        Suppression.network == network, Suppression.kind == kind,
        Suppression.digest.in_(list(by_digest)))).scalars().all()
    return {by_digest[d] for d in found}


def count_erasures(session: Session, kind: str | None = None) -> int:
    """How many erasure runs the audit log holds (of ``kind`` when given)."""
    query = select(func.count()).select_from(Erasure)
    if kind:
        query = query.where(Erasure.kind == kind)
    return session.execute(query).scalar_one()


def open_erasure_run(session: Session, kind: str, actor: str, scope: str, resume: bool = False) -> int:
    """The id of a new audit row (``running`` until :func:`close_erasure_run`); with ``resume``, a
    row of the same kind and scope left ``running`` by a stopped run is taken up again instead."""
    if resume:
        left = session.execute(select(Erasure.id).where(Erasure.kind == kind, Erasure.scope == scope[:300],
                                                        Erasure.status == "running")
                               .order_by(Erasure.id)).scalars().first()
        if left is not None:
            return left
    erasure = Erasure(kind=kind, actor=actor[:100], scope=scope[:300], counts={}, status="running")
    session.add(erasure)
    session.flush()
    return erasure.id


def close_erasure_run(session: Session, erasure_id: int, counts: dict[str, int]) -> None:
    """Mark the audit row done with its counts."""
    session.execute(update(Erasure).where(Erasure.id == erasure_id).values(
        counts=counts, status="done", finished_at=utcnow()))
