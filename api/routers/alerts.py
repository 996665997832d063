"""/v1/alerts: the alerts that fired, as on the Alerts page, and acknowledging one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Optional

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from api.deps import Moment, RowId, needs, settings_of
from api.pagination import Page, decode_cursor, encode_cursor
from brandpulse.core.settings import Settings
from brandpulse.services import alert_views
from brandpulse.services.access import Actor
from brandpulse.services.mentions import brand_filter_ids

router = APIRouter(tags=["alerts"])


class AlertOut(BaseModel):
    id: int
    brand: Optional[str] = None
    rule: str
    severity: str
    title: str
    evidence: dict[str, Any]
    window_start: datetime
    window_end: datetime
    fired_at: datetime
    acknowledged_at: Optional[datetime] = None
    acknowledged_by: Optional[str] = None
    delivered_at: Optional[datetime] = None


@router.get("/alerts", response_model=Page[AlertOut], summary="List alerts, newest first")
def list_alerts(
    actor: Annotated[Actor, Depends(needs("alerts:read"))],
    settings: Annotated[Settings, Depends(settings_of)],
    brand: Annotated[list[str], Query(description="brand name; repeat for several")] = [],
    since: Annotated[Optional[Moment], Query(description="fired at or after (ISO 8601)")] = None,
    rule: Annotated[list[str], Query(description="volume_spike, negative_share, influencer_complaint, "
                                                 "crisis_keywords, ...; repeat for several")] = [],
    acknowledged: Annotated[Optional[bool], Query(description="true: only acknowledged; false: only not")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    cursor: Annotated[Optional[str], Query(description="next_cursor of the previous page")] = None,
) -> Page[AlertOut]:
    """The alerts that fired, each with its evidence, newest first; page with `cursor`."""
    after = decode_cursor(cursor, int)
    limit = min(limit, settings.api.max_page_size)
    rows = alert_views.alerts_after(settings, actor, brand_ids=brand_filter_ids(settings, brand), since=since,
                                    rules=rule, acknowledged=acknowledged, after_id=after[0] if after else None,
                                    limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(items=[AlertOut(**r) for r in rows], next_cursor=encode_cursor(rows[-1]["id"]) if more else None)


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertOut, summary="Acknowledge an alert")
def acknowledge(alert_id: RowId,
                actor: Annotated[Actor, Depends(needs("alerts:write"))],
                settings: Annotated[Settings, Depends(settings_of)]) -> AlertOut:
    """Mark the alert as seen by this token's user; acknowledging it again keeps the first acknowledgement."""
    return AlertOut(**alert_views.acknowledge_alert(settings, actor, alert_id))
