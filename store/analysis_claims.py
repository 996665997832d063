"""Claims on the mentions one analysis job names (the queue's batches, PostgreSQL workers)."""

from __future__ import annotations

from datetime import timedelta
from typing import Sequence

from sqlalchemy import and_, or_, select, update
from sqlmodel import Session

from store.analyses import CLAIM_SECONDS
from store.models import Mention, utcnow


def claim_these_mentions(session: Session, mention_ids: Sequence[int], take_over: bool = False,
                         ttl_seconds: float = CLAIM_SECONDS) -> list[tuple[int, str, str | None]]:
    """Claim the named mentions that still await analysis; return their (id, text, source language).

    A mention another worker claims is left to it unless its claim lapsed, or ``take_over`` says
    this job is a re-run of the one that claimed it (its worker died): then the claim passes here.
    """
    now = utcnow()
    claimable = Mention.analysis_status == "pending"
    if take_over:
        claimable = or_(claimable, Mention.analysis_status == "claimed")
    else:
        claimable = or_(claimable, and_(Mention.analysis_status == "claimed",
                                        Mention.analysis_claimed_until < now))
    rows = session.execute(update(Mention).where(Mention.id.in_(list(mention_ids)), claimable)
                           .values(analysis_status="claimed",
                                   analysis_claimed_until=now + timedelta(seconds=ttl_seconds))
                           .returning(Mention.id, Mention.text, Mention.language)
                           .execution_options(synchronize_session=False))
    return sorted(tuple(row) for row in rows)


def which_claims_are_still_open(session: Session, mention_ids: Sequence[int]) -> set[int]:
    """Of these mentions, the ones still claimed (not saved by anyone yet), locked until commit:
    two workers saving one batch (a stalled job re-run while its first worker lived on) save it
    once, the second finds nothing open."""
    statement = select(Mention.id).where(Mention.id.in_(list(mention_ids)), Mention.analysis_status == "claimed")
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update()
    return set(session.execute(statement).scalars())


def which_mentions_await_analysis(session: Session, limit: int) -> list[int]:
    """Ids of up to ``limit`` oldest pending mentions (unclaimed)."""
    return list(session.execute(select(Mention.id).where(Mention.analysis_status == "pending")
                                .order_by(Mention.id).limit(limit)).scalars())
