"""Read-side queries the dashboard runs, each named after the question it answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, case, exists, func, or_, select
from sqlmodel import Session

from store.buckets import time_bucket
from store.models import (
    Analysis,
    Author,
    Brand,
    Mention,
    MentionBrand,
    MentionRollup,
    RollupState,
    Ticket,
)
from store.overview import (
    daily_from_rollups,
    headline_from_rollups,
    rollups_answer,
    share_from_rollups,
)
from store.search import like_pattern, which_mentions_contain
from store.tickets import OPEN_STATUSES


@dataclass(frozen=True)
class MentionFilter:
    """The dashboard's filters; empty tuples mean "all"."""
    brand_ids: tuple[int, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    networks: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    sentiments: tuple[str, ...] = ()
    intents: tuple[str, ...] = ()
    search: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def needs_analysis(self) -> bool:
        return bool(self.sentiments or self.intents)


def _search_clause(session: Session, term: str):
    """Mentions containing ``term``: from the search index where it can answer, LIKE for the rest."""
    return search_clause(term, *which_mentions_contain(session, term))


def search_clause(term: str, ids: list[int] | None, watermark: int):
    """The condition for mentions containing ``term``, given what the search index answered."""
    like = Mention.text.ilike(like_pattern(term), escape="\\")
    if ids is None:
        return like
    return or_(Mention.id.in_(ids), and_(Mention.id > watermark, like))


def _filtered_in(session: Session, statement: Select, flt: MentionFilter) -> Select:
    """_filtered, with the text search resolved against the search index."""
    return _filtered(statement, flt, search=_search_clause(session, flt.search) if flt.search else None)


def _filtered(statement: Select, flt: MentionFilter, *, search=None) -> Select:
    if flt.brand_ids:  # EXISTS on the (mention, brand) key: the newest-first scan stops at its limit
        statement = statement.where(exists().where(MentionBrand.mention_id == Mention.id,
                                                   MentionBrand.brand_id.in_(flt.brand_ids)))
    if flt.since is not None:
        statement = statement.where(Mention.created_at >= flt.since)
    if flt.until is not None:
        statement = statement.where(Mention.created_at < flt.until)
    if flt.networks:
        statement = statement.where(Mention.network.in_(flt.networks))
    if flt.languages:
        statement = statement.where(Mention.language.in_(flt.languages)
                                    | Analysis.language.in_(flt.languages))
    if flt.sentiments:
        statement = statement.where(Analysis.sentiment.in_(flt.sentiments))
    if flt.intents:
        statement = statement.where(Analysis.primary_intent.in_(flt.intents))
    if flt.search:
        statement = statement.where(search if search is not None else
                                    Mention.text.ilike(like_pattern(flt.search), escape="\\"))
    return statement


def _with_analysis(statement: Select) -> Select:
    return statement.outerjoin(Analysis, Analysis.mention_id == Mention.id)


def what_are_the_headline_figures(session: Session, flt: MentionFilter) -> dict[str, float]:
    """Volume, net sentiment (positive minus negative share), complaint rate, analysed count."""
    if rollups_answer(session, flt):
        return headline_from_rollups(session, flt)
    statement = _filtered_in(session, _with_analysis(select(
        func.count(Mention.id),
        func.count(Analysis.sentiment),
        func.sum(case((Analysis.sentiment == "positive", 1), else_=0)),
        func.sum(case((Analysis.sentiment == "negative", 1), else_=0)),
        func.sum(case((Analysis.complaint.is_(True), 1), else_=0)),
    ).select_from(Mention)), flt)
    volume, scored, positive, negative, complaints = session.execute(statement).one()
    scored = scored or 0
    return {"volume": volume or 0, "analysed": scored,
            "net_sentiment": ((positive or 0) - (negative or 0)) / scored if scored else 0.0,
            "complaint_rate": (complaints or 0) / scored if scored else 0.0}


def how_many_mentions_per_day(session: Session, flt: MentionFilter) -> list[dict[str, Any]]:
    """Daily counts split by sentiment ('unscored' where no sentiment was given)."""
    if rollups_answer(session, flt):
        return daily_from_rollups(session, flt)
    day = time_bucket(session, Mention.created_at, "day")
    sentiment = func.coalesce(Analysis.sentiment, "unscored")
    statement = _filtered_in(session, _with_analysis(select(day, sentiment, func.count(Mention.id))
                                         .select_from(Mention)), flt).group_by(day, sentiment)
    return [{"day": d, "sentiment": s, "mentions": n} for d, s, n in session.execute(statement)]


def what_is_the_share_of_voice(session: Session, brand_ids: tuple[int, ...],
                               flt: MentionFilter) -> list[dict[str, Any]]:
    """Mentions per brand (a brand and its rivals) under the other filters; a silent brand has 0."""
    scoped = MentionFilter(since=flt.since, until=flt.until, networks=flt.networks,
                           languages=flt.languages, sentiments=flt.sentiments, intents=flt.intents)
    if rollups_answer(session, scoped):
        rows = share_from_rollups(session, brand_ids, scoped)
    else:
        statement = _filtered_in(session, _with_analysis(
            select(Brand.name, func.count(Mention.id)).select_from(Mention)
            .join(MentionBrand, MentionBrand.mention_id == Mention.id)
            .join(Brand, Brand.id == MentionBrand.brand_id)), scoped)
        statement = statement.where(MentionBrand.brand_id.in_(brand_ids)).group_by(Brand.name)
        rows = [{"brand": name, "mentions": count} for name, count in session.execute(statement)]
    names = session.execute(select(Brand.name).where(Brand.id.in_(brand_ids))).scalars()
    counted = {r["brand"] for r in rows}
    rows += [{"brand": name, "mentions": 0} for name in names if name not in counted]  # silent: 0%
    total = sum(r["mentions"] for r in rows) or 1
    return [{**r, "share": r["mentions"] / total} for r in sorted(rows, key=lambda r: (-r["mentions"], r["brand"]))]


def which_mentions_match(session: Session, flt: MentionFilter, limit: int = 200) -> list[dict[str, Any]]:
    """Newest mentions under the filters, with author and analysis summary."""
    statement = _filtered_in(session, _with_analysis(
        select(Mention.id, Mention.created_at, Mention.network, Author.handle, Author.followers,
               Mention.text, Analysis.sentiment, Analysis.primary_intent, Analysis.complaint_score,
               Mention.likes + Mention.replies + Mention.reposts)
        .select_from(Mention).outerjoin(Author, Author.id == Mention.author_id)), flt)
    statement = statement.order_by(Mention.created_at.desc(), Mention.id.desc()).limit(limit)
    keys = ("id", "created_at", "network", "author", "followers", "text", "sentiment", "intent",
            "complaint_score", "engagement")
    return [dict(zip(keys, row)) for row in session.execute(statement)]


def what_do_we_know_about_mention(session: Session, mention_id: int) -> dict[str, Any] | None:
    """A mention with its author, analysis (and the model that made it), brands and ticket."""
    mention = session.get(Mention, mention_id)
    if mention is None:
        return None
    analysis = session.execute(select(Analysis).where(Analysis.mention_id == mention_id)).scalar()
    author = session.get(Author, mention.author_id) if mention.author_id else None
    brands = list(session.execute(select(Brand.name).join(MentionBrand, and_(
        MentionBrand.brand_id == Brand.id, MentionBrand.mention_id == mention_id))).scalars())
    ticket = session.execute(select(Ticket).where(Ticket.mention_id == mention_id)).scalar()
    return {"mention": mention, "analysis": analysis, "author": author, "brands": brands,
            "ticket": ticket}


def which_networks_and_languages_appear(session: Session) -> tuple[list[str], list[str]]:
    """Distinct networks and analysed languages, for filter choices."""
    if session.get(RollupState, "daily") is not None:  # the small rollup table knows them all
        networks = sorted(session.execute(select(MentionRollup.network).distinct()).scalars())
        languages = sorted(l for l in session.execute(select(MentionRollup.language).distinct()).scalars() if l)
        return networks, languages
    networks = sorted(session.execute(select(Mention.network).distinct()).scalars())
    languages = sorted(l for l in session.execute(select(Analysis.language).distinct()).scalars() if l)
    return networks, languages


def how_many_tickets_are_open(session: Session, brand_ids: tuple[int, ...] = ()) -> int:
    """Open tickets across all teams, of ``brand_ids`` only when given."""
    statement = select(func.count(Ticket.id)).where(Ticket.status.in_(OPEN_STATUSES))
    if brand_ids:
        statement = statement.where(Ticket.brand_id.in_(brand_ids))
    return session.execute(statement).scalar_one()


def which_authors_wrote_about(session: Session, brand_id: int, since: datetime | None,
                              until: datetime | None) -> set[int]:
    """Ids of the authors of a brand's mentions in [since, until)."""
    statement = (select(Mention.author_id).distinct()
                 .join(MentionBrand, and_(MentionBrand.mention_id == Mention.id, MentionBrand.brand_id == brand_id))
                 .where(Mention.author_id.is_not(None)))
    if since is not None:
        statement = statement.where(Mention.created_at >= since)
    if until is not None:
        statement = statement.where(Mention.created_at < until)
    return set(session.execute(statement).scalars())
