"""The overview's figures read from the daily rollups (see store/rollups.py)."""

from __future__ import annotations

from datetime import datetime, time, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, func, or_, select
from sqlmodel import Session

from store.buckets import bucket_label
from store.models import Brand, MentionRollup, RollupState, TermRollup, Ticket

if TYPE_CHECKING:
    from store.queries import MentionFilter


def _midnight(moment: datetime | None) -> bool:
    return moment is None or moment.astimezone(timezone.utc).time() == time.min


def rollups_answer(session: Session, flt: "MentionFilter") -> bool:
    """Whether the rollups can answer this filter (built, whole days, no text search)."""
    return (not flt.search and _midnight(flt.since) and _midnight(flt.until)
            and session.get(RollupState, "daily") is not None)


def _where(statement: Select, table, flt: "MentionFilter", *, brands: bool = True) -> Select:
    if brands and flt.brand_ids:
        statement = statement.where(table.brand_id.in_(flt.brand_ids))
    if flt.since is not None:
        statement = statement.where(table.day >= bucket_label(flt.since, "day"))
    if flt.until is not None:
        statement = statement.where(table.day < bucket_label(flt.until, "day"))
    for column, values in ((table.network, flt.networks), (table.language, flt.languages),
                           (table.sentiment, flt.sentiments), (table.intent, flt.intents)):
        if values:
            statement = statement.where(column.in_(values))
    return statement


def headline_from_rollups(session: Session, flt: "MentionFilter") -> dict[str, float]:
    """Volume, analysed count, net sentiment and complaint rate."""
    r = MentionRollup
    scored = func.sum(r.mentions).filter(r.sentiment != "unscored")
    statement = _where(select(func.sum(r.mentions), scored,
                              func.sum(r.mentions).filter(r.sentiment == "positive"),
                              func.sum(r.mentions).filter(r.sentiment == "negative"),
                              func.sum(r.complaints)), r, flt)
    volume, analysed, positive, negative, complaints = session.execute(statement).one()
    analysed = analysed or 0
    return {"volume": volume or 0, "analysed": analysed,
            "net_sentiment": ((positive or 0) - (negative or 0)) / analysed if analysed else 0.0,
            "complaint_rate": (complaints or 0) / analysed if analysed else 0.0}


def daily_from_rollups(session: Session, flt: "MentionFilter") -> list[dict[str, Any]]:
    """Mentions per day and sentiment."""
    r = MentionRollup
    statement = _where(select(r.day, r.sentiment, func.sum(r.mentions)), r, flt).group_by(r.day, r.sentiment)
    return [{"day": d, "sentiment": s, "mentions": int(n)} for d, s, n in session.execute(statement)]


def share_from_rollups(session: Session, brand_ids: tuple[int, ...], flt: "MentionFilter") -> list[dict]:
    """Mentions per brand among ``brand_ids``."""
    r = MentionRollup
    statement = _where(select(Brand.name, func.sum(r.mentions)).join(Brand, Brand.id == r.brand_id),
                       r, flt, brands=False).where(r.brand_id.in_(brand_ids)).group_by(Brand.name)
    return [{"brand": name, "mentions": int(n)} for name, n in session.execute(statement)]


def what_are_the_top_terms(session: Session, flt: "MentionFilter", labels: tuple[str, ...],
                           limit: int = 10) -> list[dict[str, Any]]:
    """The most mentioned entities or aspects (by label) under the filters."""
    t = TermRollup
    statement = _where(select(t.label, t.term, func.sum(t.mentions).label("n")), t, flt)
    statement = (statement.where(t.label.in_(labels)).group_by(t.label, t.term)
                 .order_by(func.sum(t.mentions).desc(), t.term).limit(limit))
    return [{"label": label, "term": term, "mentions": int(n)} for label, term, n in session.execute(statement)]


def how_do_people_feel_about_aspects(session: Session, flt: "MentionFilter",
                                     limit: int = 10) -> list[dict[str, Any]]:
    """Mentions per (aspect, sentiment) for the ``limit`` most mentioned aspects (ASPECT entities of the
    analyses) under the filters, most mentioned aspect first."""
    t = TermRollup
    top = [term for term, in session.execute(
        _where(select(t.term), t, flt).where(t.label == "ASPECT").group_by(t.term)
        .order_by(func.sum(t.mentions).desc(), t.term).limit(limit))]
    if not top:
        return []
    statement = (_where(select(t.term, t.sentiment, func.sum(t.mentions)), t, flt)
                 .where(t.label == "ASPECT", t.term.in_(top)).group_by(t.term, t.sentiment))
    rank = {term: i for i, term in enumerate(top)}
    rows = [{"aspect": term, "sentiment": sentiment, "mentions": int(n)}
            for term, sentiment, n in session.execute(statement)]
    return sorted(rows, key=lambda r: (rank[r["aspect"]], r["sentiment"]))


def how_many_tickets_were_open_at(session: Session, brand_ids: tuple[int, ...], moment: datetime) -> int:
    """Tickets (of ``brand_ids`` when given) created before ``moment`` and not closed by then."""
    statement = select(func.count(Ticket.id)).where(
        Ticket.created_at < moment, or_(Ticket.resolved_at.is_(None), Ticket.resolved_at >= moment))
    if brand_ids:
        statement = statement.where(Ticket.brand_id.in_(brand_ids))
    return session.execute(statement).scalar_one()


def how_did_share_of_voice_move(session: Session, brand_ids: tuple[int, ...],
                                flt: "MentionFilter") -> list[dict[str, Any]]:
    """Mentions per day, brand, network and sentiment for a brand and its rivals (from rollups)."""
    r = MentionRollup
    statement = _where(select(r.day, Brand.name, r.network, r.sentiment, func.sum(r.mentions))
                       .join(Brand, Brand.id == r.brand_id), r, flt, brands=False)
    statement = statement.where(r.brand_id.in_(brand_ids)).group_by(r.day, Brand.name, r.network, r.sentiment)
    return [{"day": day, "brand": brand, "network": network, "sentiment": sentiment, "mentions": int(n)}
            for day, brand, network, sentiment, n in session.execute(statement)]
