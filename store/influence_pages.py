"""The stored influencer leaderboard of a brand, a page at a time: keyset on (score desc, author id) in SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import and_, or_, select
from sqlmodel import Session

from store.models import Author, AuthorInfluence, Mention, MentionBrand


def which_influencers_come_after(session: Session, brand_id: int, tiers: Sequence[str], since: datetime | None,
                                 until: datetime | None, after: tuple[float, int] | None,
                                 limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` stored influence rows of a brand with the author's profile, highest score first
    (then author id), after the key (score, author id); only authors who wrote about the brand in
    [since, until) when either is given. The (brand, score) index walks the board; nothing is read
    past the page."""
    statement = (select(AuthorInfluence, Author.handle, Author.network, Author.followers, Author.name,
                        Author.profile_url)
                 .join(Author, Author.id == AuthorInfluence.author_id)
                 .where(AuthorInfluence.brand_id == brand_id)
                 .order_by(AuthorInfluence.score.desc(), AuthorInfluence.author_id).limit(limit))
    if tiers:
        statement = statement.where(AuthorInfluence.tier.in_(list(tiers)))
    if after is not None:
        score, author_id = after
        statement = statement.where(or_(AuthorInfluence.score < score,
                                        and_(AuthorInfluence.score == score, AuthorInfluence.author_id > author_id)))
    if since is not None or until is not None:
        wrote = (select(Mention.id)
                 .join(MentionBrand, and_(MentionBrand.mention_id == Mention.id, MentionBrand.brand_id == brand_id))
                 .where(Mention.author_id == AuthorInfluence.author_id))
        if since is not None:
            wrote = wrote.where(Mention.created_at >= since)
        if until is not None:
            wrote = wrote.where(Mention.created_at < until)
        statement = statement.where(wrote.exists())
    return [{**influence.model_dump(), "handle": handle, "network": network, "followers": followers,
             "name": name, "profile_url": url}
            for influence, handle, network, followers, name, url in session.execute(statement)]
