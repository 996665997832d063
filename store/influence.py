"""What influence is computed from (authors, posts, the interaction graph) and where it is kept."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterator, Sequence

from sqlalchemy import and_, case, delete, distinct, func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from store.buckets import time_bucket
from store.bulk import upsert_rows
from store.influence_pages import which_influencers_come_after
from store.models import Analysis, Author, AuthorInfluence, Mention, MentionBrand


def _before(statement, until: datetime | None):
    """The statement limited to posts before ``until`` (None: no end)."""
    return statement if until is None else statement.where(Mention.created_at < until)


def how_did_authors_post(session: Session, since: datetime,
                         until: datetime | None = None) -> dict[int, dict[str, Any]]:
    """Per author with posts since ``since`` (and before ``until``): profile (with its link), post count,
    mean engagement, distinct texts."""
    engagement = Mention.likes + Mention.replies + Mention.reposts + Mention.quotes
    rows = session.execute(_before(
        select(Author.id, Author.network, Author.handle, Author.followers, Author.following,
               Author.post_count, Author.created_at, Author.profile_url, func.count(Mention.id), func.avg(engagement),
               func.count(distinct(Mention.text)), func.min(Mention.created_at), func.max(Mention.created_at))
        .join(Mention, Mention.author_id == Author.id).where(Mention.created_at >= since).group_by(Author.id),
        until))
    keys = ("network", "handle", "followers", "following", "post_count", "created_at", "profile_url", "posts",
            "mean_engagement", "distinct_texts", "first_post", "last_post")
    return {row[0]: dict(zip(keys, row[1:])) for row in rows}


def how_did_authors_talk_about_brands(session: Session, since: datetime, brand_ids: Sequence[int] | None = None,
                                      until: datetime | None = None) -> list[dict[str, Any]]:
    """Per (author, brand): posts about the brand, the last one, and how many were positive / negative."""
    def count(label: str):
        return func.sum(case((Analysis.sentiment == label, 1), else_=0))

    statement = (select(Mention.author_id, MentionBrand.brand_id, func.count(Mention.id),
                        func.max(Mention.created_at), count("positive"), count("negative"))
                 .join(MentionBrand, MentionBrand.mention_id == Mention.id)
                 .outerjoin(Analysis, Analysis.mention_id == Mention.id)
                 .where(Mention.created_at >= since, Mention.author_id.is_not(None))
                 .group_by(Mention.author_id, MentionBrand.brand_id))
    statement = _before(statement, until)
    if brand_ids:
        statement = statement.where(MentionBrand.brand_id.in_(list(brand_ids)))
    keys = ("author_id", "brand_id", "posts", "last_post", "positive_posts", "negative_posts")
    return [{**dict(zip(keys, row[:4])), "positive_posts": int(row[4] or 0), "negative_posts": int(row[5] or 0)}
            for row in session.execute(statement)]


def who_answered_quoted_or_reposted_whom(session: Session, since: datetime,
                                         until: datetime | None = None) -> list[tuple[int, int, int]]:
    """(from author, to author, times) for replies, quotes and reposts among collected posts."""
    target = aliased(Mention)
    edges: dict[tuple[int, int], int] = {}
    for column in (Mention.in_reply_to_id, Mention.quoted_id, Mention.reposted_id):
        rows = session.execute(_before(
            select(Mention.author_id, target.author_id, func.count())
            .join(target, and_(target.network == Mention.network, target.native_id == column))
            .where(Mention.created_at >= since, column.is_not(None), Mention.author_id.is_not(None),
                   target.author_id.is_not(None), Mention.author_id != target.author_id)
            .group_by(Mention.author_id, target.author_id), until))
        for source, destination, times in rows:
            edges[(source, destination)] = edges.get((source, destination), 0) + times
    return [(a, b, n) for (a, b), n in edges.items()]


def which_texts_may_mention_someone(session: Session, since: datetime, batch: int = 20_000,
                                    until: datetime | None = None) -> Iterator[tuple[int, str, str]]:
    """(author id, network, text) of posts holding an '@', streamed."""
    statement = _before(select(Mention.author_id, Mention.network, Mention.text)
                        .where(Mention.created_at >= since, Mention.author_id.is_not(None),
                               Mention.text.contains("@")), until).execution_options(yield_per=batch)
    yield from session.execute(statement)


def save_influence(session: Session, brand_id: int, rows: list[dict[str, Any]]) -> None:
    """Replace a brand's influence scores with ``rows`` (COPY on PostgreSQL)."""
    session.execute(delete(AuthorInfluence).where(AuthorInfluence.brand_id == brand_id))
    columns = set(AuthorInfluence.__table__.columns.keys())
    upsert_rows(session, AuthorInfluence, [{k: v for k, v in row.items() if k in columns} for row in rows],
                ("author_id", "brand_id"))


def who_leads_the_conversation(session: Session, brand_id: int, limit: int = 50,
                               tiers: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Stored influence for a brand, highest score first, with the author's profile."""
    return which_influencers_come_after(session, brand_id, tiers, None, None, None, limit)


def which_posts_of_authors_stand_out(session: Session, brand_id: int, author_ids: Sequence[int],
                                     since: datetime, limit: int = 20,
                                     until: datetime | None = None) -> list[dict[str, Any]]:
    """The most engaged posts about a brand by the given authors since a time.

    A repost (``reposted_id`` set) carries ``repost_of``, the original's author handle, and
    ``original_url`` when the original was collected (else None: still a repost by ``reposted_id``).
    """
    engagement = Mention.likes + Mention.replies + Mention.reposts + Mention.quotes
    original, original_author = aliased(Mention), aliased(Author)
    rows = session.execute(_before(
        select(Mention.id, Author.handle, Mention.network, Mention.created_at, Mention.text, Mention.url,
               engagement, Analysis.sentiment, Mention.reposted_id, original_author.handle, original.url)
        .join(MentionBrand, and_(MentionBrand.mention_id == Mention.id, MentionBrand.brand_id == brand_id))
        .join(Author, Author.id == Mention.author_id)
        .outerjoin(Analysis, Analysis.mention_id == Mention.id)
        .outerjoin(original, and_(original.network == Mention.network, original.native_id == Mention.reposted_id))
        .outerjoin(original_author, original_author.id == original.author_id)
        .where(Mention.author_id.in_(list(author_ids)), Mention.created_at >= since)
        .order_by(engagement.desc(), Mention.id).limit(limit), until))
    keys = ("mention_id", "author", "network", "created_at", "text", "url", "engagement", "sentiment")
    return [{**dict(zip(keys, row[:8])), "reposted_id": row[8], "repost_of": row[9], "original_url": row[10]}
            for row in rows]


def how_often_did_authors_post_about(session: Session, brand_id: int, author_ids: Sequence[int],
                                     since: datetime, until: datetime | None = None) -> list[tuple[int, str, int]]:
    """(author id, day 'YYYY-MM-DD', posts about the brand) for the given authors since a time."""
    day = time_bucket(session, Mention.created_at, "day")
    rows = session.execute(_before(
        select(Mention.author_id, day, func.count(Mention.id))
        .join(MentionBrand, and_(MentionBrand.mention_id == Mention.id, MentionBrand.brand_id == brand_id))
        .where(Mention.author_id.in_(list(author_ids)), Mention.created_at >= since)
        .group_by(Mention.author_id, day), until))
    return [(author_id, label, count) for author_id, label, count in rows]
