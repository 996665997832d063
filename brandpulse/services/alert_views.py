"""Alerts as the Alerts page and the API read them: filtered, paged by id, acknowledged by who saw them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence

from brandpulse.core.settings import Settings
from brandpulse.services.access import Actor, require_page
from brandpulse.services.accounts import authorize
from brandpulse.services.alerting import acknowledge
from store.alert_pages import which_alert_is, which_alerts_come_after
from store.engine import session_scope


def alerts_after(settings: Settings, actor: Actor, *, brand_ids: Sequence[int] = (), since: datetime | None = None,
                 rules: Sequence[str] = (), acknowledged: bool | None = None, after_id: int | None = None,
                 limit: int = 50) -> list[dict[str, Any]]:
    """Up to ``limit`` alerts under the filters, newest (highest id) first, below ``after_id``; for the
    roles that may open the Alerts page."""
    actor = authorize(settings, actor)
    require_page(actor, "Alerts")
    with session_scope(settings.database.url) as session:
        return which_alerts_come_after(session, brand_ids=brand_ids, since=since, rules=rules,
                                       acknowledged=acknowledged, after_id=after_id, limit=limit)


def acknowledge_alert(settings: Settings, actor: Actor, alert_id: int) -> dict[str, Any]:
    """Acknowledge an alert as the Alerts page does (the first acknowledgement is kept); the alert after."""
    acknowledge(settings, actor, alert_id)
    with session_scope(settings.database.url) as session:
        return which_alert_is(session, alert_id)
