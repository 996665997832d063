"""/v1/brands: the tracked brands (own and rivals) and a brand's share of voice against its rivals."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Literal, Optional

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel

from api.deps import needs, settings_of
from api.pagination import Page
from brandpulse.core.settings import Settings
from brandpulse.services import brand_views as service
from brandpulse.services.access import Actor

router = APIRouter(tags=["brands"])
PERIOD_DAYS = 30  # the default period, as on the dashboard: the last 30 days


class TrackedBrand(BaseModel):
    id: int
    name: str
    own: bool
    query: str
    handles: dict[str, str] = {}
    products: list[str] = []
    rivals: list[str] = []
    rival_of: list[str] = []


class ShareRow(BaseModel):
    period: str
    brand: str
    mentions: int
    share: float


class ShareOfVoice(BaseModel):
    brand: str
    compared: list[str]
    since: date
    until: date
    by: str
    sentiment: Optional[str] = None
    rows: list[ShareRow]


@router.get("/brands", response_model=Page[TrackedBrand], summary="List tracked brands and rivals")
def list_brands(actor: Annotated[Actor, Depends(needs("brands:read"))],
                settings: Annotated[Settings, Depends(settings_of)]) -> Page[TrackedBrand]:
    """Every tracked brand, own brands first: its search query, handles, products, its rivals (for an
    own brand) and the own brands it is a rival of. One page: the list is never long."""
    return Page(items=[TrackedBrand(**b) for b in service.tracked_brands(settings, actor)])


@router.get("/brands/{name}/share-of-voice", response_model=ShareOfVoice,
            summary="A brand's share of voice against its rivals")
def get_share_of_voice(
    name: Annotated[str, Path(min_length=1, max_length=200, description="tracked brand name (any case)")],
    actor: Annotated[Actor, Depends(needs("brands:read"))],
    settings: Annotated[Settings, Depends(settings_of)],
    since: Annotated[Optional[date], Query(description="first day (UTC), default 30 days ago")] = None,
    until: Annotated[Optional[date], Query(description="last day, included (UTC), default today")] = None,
    by: Annotated[Literal["week", "day", "network", "all"], Query(
        description="periods: week (starting Monday), day, network, or all for the whole period")] = "week",
    sentiment: Annotated[Optional[Literal["negative", "neutral", "positive"]], Query(
        description="only mentions the model scored with this sentiment")] = None,
) -> ShareOfVoice:
    """Each compared brand's mentions and share per period, as on the Share of voice page: a rival with no
    mention in a period is listed at 0."""
    today = datetime.now(timezone.utc).date()
    until = until or today
    since = since or until - timedelta(days=PERIOD_DAYS)
    return ShareOfVoice(**service.voice_of(settings, actor, name, since, until, by=by, sentiment=sentiment))
