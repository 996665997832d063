"""Mentions page by page for the API: newest first, each page strictly after the last key seen."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlmodel import Session

from store.models import Analysis, Author, Brand, Mention, MentionBrand
from store.queries import MentionFilter, _filtered, _with_analysis, search_clause
from store.search import which_mentions_contain

COLUMNS = (Mention.id, Mention.created_at, Mention.network, Mention.native_id, Mention.url, Mention.text,
           Mention.language, Author.id, Author.handle, Author.followers, Mention.likes, Mention.replies,
           Mention.reposts, Mention.quotes, Analysis.sentiment, Analysis.primary_intent,
           Analysis.complaint_score, Analysis.emotion, Analysis.model_version)
FEW_MATCHES = 5000  # search hits below which sorting them beats walking the time index
KEYS = ("id", "created_at", "network", "native_id", "url", "text", "language", "author_id", "author",
        "followers", "likes", "replies", "reposts", "quotes", "sentiment", "intent", "complaint_score",
        "emotion", "model_version")


def which_mentions_come_after(session: Session, flt: MentionFilter, after: tuple[datetime, int] | None,
                              limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` mentions under the filters, newest first, after the key (created_at, id)."""
    search = None
    if flt.search:
        ids, watermark = which_mentions_contain(session, flt.search)
        search = search_clause(flt.search, ids, watermark)
        if ids is not None and len(ids) <= FEW_MATCHES:  # a rare word: look its few matches up by id
            ids = ids + list(session.execute(select(Mention.id).where(Mention.id > watermark, search)).scalars())
            search = Mention.id.in_(ids)
    statement = _filtered(_with_analysis(
        select(*COLUMNS).select_from(Mention).outerjoin(Author, Author.id == Mention.author_id)), flt,
        search=search)
    if after is not None:
        moment, last_id = after
        # the first condition alone can use the created_at index; the second settles ties
        statement = statement.where(Mention.created_at <= moment,
                                    or_(Mention.created_at < moment, Mention.id < last_id))
    statement = statement.order_by(Mention.created_at.desc(), Mention.id.desc()).limit(limit)
    rows = [dict(zip(KEYS, row)) for row in session.execute(statement)]
    if rows:
        brands: dict[int, list[str]] = {}
        for mention_id, name in session.execute(
                select(MentionBrand.mention_id, Brand.name).join(Brand, Brand.id == MentionBrand.brand_id)
                .where(MentionBrand.mention_id.in_([r["id"] for r in rows]))):
            brands.setdefault(mention_id, []).append(name)
        for row in rows:
            row["brands"] = sorted(brands.get(row["id"], []))
    return rows
