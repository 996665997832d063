"""/v1/mentions: what was heard, filtered as on the Mentions page, and one mention in full."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Optional

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from api.deps import Moment, RowId, needs, settings_of
from api.pagination import Page, decode_cursor, encode_cursor
from brandpulse.core.settings import Settings
from brandpulse.services import mentions as service
from brandpulse.services.access import Actor
from store.queries import MentionFilter

router = APIRouter(tags=["mentions"])
Sentiment = Literal["negative", "neutral", "positive"]


class MentionSummary(BaseModel):
    id: int
    created_at: datetime
    network: str
    native_id: str
    url: Optional[str] = None
    text: str
    language: Optional[str] = None
    author_id: Optional[int] = None
    author: Optional[str] = None
    followers: Optional[int] = None
    likes: int = 0
    replies: int = 0
    reposts: int = 0
    quotes: int = 0
    brands: list[str] = []
    sentiment: Optional[str] = None
    intent: Optional[str] = None
    complaint_score: Optional[float] = None
    emotion: Optional[str] = None
    model_version: Optional[str] = None


class MentionDetail(BaseModel):
    id: int
    network: str
    native_id: str
    url: Optional[str] = None
    text: str
    language: Optional[str] = None
    created_at: datetime
    collected_at: datetime
    likes: int
    replies: int
    reposts: int
    quotes: int
    views: Optional[int] = None
    in_reply_to_id: Optional[str] = None
    brands: list[str]
    author: Optional[dict[str, Any]] = None
    analysis: Optional[dict[str, Any]] = None
    analysis_status: str
    ticket_id: Optional[int] = Field(default=None, description="its care ticket, when you may reach it")


@router.get("/mentions", response_model=Page[MentionSummary], summary="List mentions, newest first")
def list_mentions(
    actor: Annotated[Actor, Depends(needs("mentions:read"))],
    settings: Annotated[Settings, Depends(settings_of)],
    brand: Annotated[list[str], Query(description="brand name (own or rival); repeat for several")] = [],
    since: Annotated[Optional[Moment], Query(description="posted at or after (ISO 8601)")] = None,
    until: Annotated[Optional[Moment], Query(description="posted before (ISO 8601)")] = None,
    network: Annotated[list[str], Query(description="x, reddit, mastodon, bluesky, rss, file")] = [],
    language: Annotated[list[str], Query(description="ISO 639-1 code, e.g. en")] = [],
    sentiment: Annotated[list[Sentiment], Query()] = [],
    intent: Annotated[list[str], Query(description="complaint, question, suggestion, praise, ...")] = [],
    q: Annotated[str, Query(max_length=200, description="full-text search")] = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    cursor: Annotated[Optional[str], Query(description="next_cursor of the previous page")] = None,
) -> Page[MentionSummary]:
    """Mentions under the same filters as the dashboard's Mentions page, newest first.

    Page with `cursor`: pages never skip or repeat a mention, even while new ones arrive.
    """
    flt = MentionFilter(brand_ids=service.brand_filter_ids(settings, brand), since=since, until=until,
                        networks=tuple(network), languages=tuple(language), sentiments=tuple(sentiment),
                        intents=tuple(intent), search=q.strip())
    limit = min(limit, settings.api.max_page_size)
    rows = service.mentions_after(settings, actor, flt, decode_cursor(cursor, datetime, int), limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(items=[MentionSummary(**r) for r in rows],
                next_cursor=encode_cursor(rows[-1]["created_at"], rows[-1]["id"]) if more else None)


@router.get("/mentions/{mention_id}", response_model=MentionDetail, summary="One mention with its analysis")
def get_mention(mention_id: RowId,
                actor: Annotated[Actor, Depends(needs("mentions:read"))],
                settings: Annotated[Settings, Depends(settings_of)]) -> MentionDetail:
    """The mention, its author, brands, the full analysis with the model version, and its ticket."""
    return MentionDetail(**service.mention(settings, actor, mention_id))
