"""Posts deleted at their source: find the stored mentions behind them and erase their text.

A network's deletion (a Jetstream delete event, an X lookup that answers "Not Found", a Reddit
post come back ``[deleted]``) empties the stored text, raw payload and link through
:func:`store.erasure.erase_mention_texts` with reason ``deleted``, in the caller's transaction.
A deletion for a post never stored changes nothing. Each batch that erased something leaves one
row in the ``erasures`` audit log, with counts only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterable, Sequence

from sqlalchemy import false, select, update
from sqlmodel import Session

from store.erasure import erase_mention_texts
from store.models import Mention, utcnow
from store.models_rights import Erasure

CHUNK = 500


def start_writing(session: Session) -> None:
    """On SQLite, take the write lock before a read that decides a write: a read first would make
    the later write fail at once ("database is locked") whenever another connection wrote meanwhile."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(Mention).where(false()).values(id=Mention.id)
                        .execution_options(synchronize_session=False))


def which_mentions_are_these(session: Session, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """The stored mention ids of these (network, native id) pairs; pairs never stored are absent."""
    by_network: dict[str, list[str]] = {}
    for network, native_id in set(keys):
        by_network.setdefault(network, []).append(native_id)
    found: dict[tuple[str, str], int] = {}
    for network, native_ids in by_network.items():
        for start in range(0, len(native_ids), CHUNK):
            rows = session.execute(select(Mention.id, Mention.native_id).where(
                Mention.network == network, Mention.native_id.in_(native_ids[start:start + CHUNK])))
            found.update({(network, native_id): mention_id for mention_id, native_id in rows})
    return found


def erase_deleted_posts(session: Session, keys: Sequence[tuple[str, str]], actor: str) -> int:
    """Erase the stored text of posts deleted at their source (reason ``deleted``); return how many
    mentions changed. One audit row (kind ``network_delete``, counts only) when any did."""
    if not keys:
        return 0
    start_writing(session)
    ids = which_mentions_are_these(session, keys)
    if not ids:
        return 0
    erased = erase_mention_texts(session, list(ids.values()), "deleted")
    if erased:
        now = utcnow()
        session.add(Erasure(kind="network_delete", actor=actor[:100], status="done", finished_at=now,
                            started_at=now, counts={"reported": len(set(keys)), "stored": len(ids),
                                                    "erased": erased}))
    return erased


def which_posts_to_recheck(session: Session, network: str, since: datetime, after_id: int,
                           limit: int) -> list[tuple[int, str, dict | None]]:
    """Stored, not yet erased mentions of ``network`` posted since ``since``, with an id above
    ``after_id`` (a re-check's resume point), oldest id first: (id, native id, raw payload)."""
    rows = session.execute(
        select(Mention.id, Mention.native_id, Mention.raw)
        .where(Mention.network == network, Mention.created_at >= since, Mention.id > after_id,
               Mention.erased_at.is_(None))
        .order_by(Mention.id).limit(limit))
    return [(mention_id, native_id, raw) for mention_id, native_id, raw in rows]
