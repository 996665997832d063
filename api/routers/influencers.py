"""/v1/influencers: the leaderboard of the Influencers page, and its report file (CSV, XLSX or PDF)."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from typing import Annotated, Literal, Optional
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel

from api.deps import Moment, needs, settings_of
from api.pagination import Page, decode_cursor, encode_cursor
from brandpulse.core.settings import Settings
from brandpulse.core.tiers import Tier
from brandpulse.services import brand_views as service
from brandpulse.services.access import Actor

router = APIRouter(tags=["influencers"])
Brand = Annotated[str, Query(min_length=1, max_length=200, description="tracked brand name (any case)")]


class Influencer(BaseModel):
    author_id: int
    handle: Optional[str] = None
    name: Optional[str] = None
    network: str
    profile_url: Optional[str] = None
    followers: Optional[int] = None
    tier: str
    score: float
    reach: float
    engagement: float
    authority: float
    relevance: float
    recency: float
    bot_likelihood: float
    bot_signals: dict[str, float] = {}
    posts_about_brand: int
    posts_total: int
    sentiment: Optional[float] = None
    vip: bool
    computed_at: datetime


@router.get("/influencers", response_model=Page[Influencer], summary="The influencer leaderboard of a brand")
def list_influencers(
    brand: Brand,
    actor: Annotated[Actor, Depends(needs("influencers:read"))],
    settings: Annotated[Settings, Depends(settings_of)],
    tier: Annotated[list[Tier], Query(description="nano, micro, mid, macro, mega; repeat for several")] = [],
    since: Annotated[Optional[Moment], Query(description="only authors who wrote about the brand at or "
                                                           "after this time (ISO 8601)")] = None,
    until: Annotated[Optional[Moment], Query(description="... and before this time")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    cursor: Annotated[Optional[str], Query(description="next_cursor of the previous page")] = None,
) -> Page[Influencer]:
    """Stored influence scores (0-100, with every component and bot signal), highest first, as on the
    Influencers page; page with `cursor` (keyset on score, then author id: no skips, no repeats)."""
    limit = min(limit, settings.api.max_page_size)
    rows = service.influencers_after(settings, actor, brand, tuple(tier), since, until,
                                     decode_cursor(cursor, float, int), limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(items=[Influencer(**r) for r in rows],
                next_cursor=encode_cursor(rows[-1]["score"], rows[-1]["author_id"]) if more else None)


@router.get("/influencers/report", summary="The influencer report file (CSV, XLSX or PDF)",
            response_class=Response, responses={200: {"content": {t: {} for t in service.REPORT_TYPES.values()},
                                                       "description": "the report file, as an attachment"}})
def influencer_report(
    brand: Brand,
    actor: Annotated[Actor, Depends(needs("reports:export"))],
    settings: Annotated[Settings, Depends(settings_of)],
    fmt: Annotated[Literal["csv", "xlsx", "pdf"], Query(alias="format")] = "xlsx",
    since: Annotated[Optional[date], Query(description="first day (UTC) of the window; default: the "
                                                       "influence window (influence.window_days)")] = None,
) -> Response:
    """The same file as the Influencers page's report: every author of the period scored and ranked,
    top posts, weekly trend and how the score is computed."""
    start = datetime.combine(since, time.min, timezone.utc) if since else None
    payload, media_type, filename = service.influencer_report(settings, actor, brand, start, fmt)
    disposition = f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}"
    return Response(payload, media_type=media_type, headers={"Content-Disposition": disposition})
