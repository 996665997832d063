"""Share of voice: a brand against its competitors over time, by network, overall and by sentiment."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from brandpulse.core.errors import BrandpulseError
from brandpulse.core.settings import Settings
from store.brands import the_brand_named, who_are_the_rivals_of
from store.engine import session_scope
from store.overview import how_did_share_of_voice_move
from store.queries import MentionFilter


def _period(row: dict, by: str) -> str:
    if by == "week":
        day = date.fromisoformat(row["day"])
        return (day - timedelta(days=day.weekday())).isoformat()
    return row[by] if by in ("day", "network") else "all"


def share_of_voice(settings: Settings, brand_name: str, since: datetime, until: datetime, *,
                   by: str = "week", sentiment: str | None = None) -> list[dict[str, Any]]:
    """Rows {period, brand, mentions, share}: each brand's share of the mentions of the brand and its
    rivals per ``by`` ('day', 'week', 'network' or 'all'), among ``sentiment`` mentions if given.

    Every compared brand has a row in every period that has mentions: a silent rival at 0 mentions, 0%."""
    if by not in ("day", "week", "network", "all"):
        raise BrandpulseError(f"share of voice by {by!r}: use day, week, network or all")
    start = datetime.combine(since.date(), time.min, timezone.utc)
    end = datetime.combine(until.date() + timedelta(days=1), time.min, timezone.utc)
    with session_scope(settings.database.url) as session:
        brand = the_brand_named(session, brand_name)
        rivals = who_are_the_rivals_of(session, brand.id)
        names = [brand.name, *(r.name for r in rivals)]
        rows = how_did_share_of_voice_move(session, (brand.id, *(r.id for r in rivals)),
                                           MentionFilter(since=start, until=end))
    totals: dict[str, int] = defaultdict(int)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for row in rows:
        if sentiment and row["sentiment"] != sentiment:
            continue
        period = _period(row, by)
        totals[period] += row["mentions"]
        counts[(period, row["brand"])] += row["mentions"]
    return [{"period": period, "brand": name, "mentions": counts.get((period, name), 0),
             "share": counts.get((period, name), 0) / totals[period]}
            for period in sorted(totals) for name in sorted(names)]
