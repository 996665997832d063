"""Brands, share of voice and influencers as the dashboard's pages and the API read them, role-checked.

The numbers come from the same service and store calls as the Share of voice and Influencers
pages (``brandpulse.services.voice``, ``store.influence``, ``brandpulse.reports``); this module only
authorizes the reader, resolves the brand and shapes the answer.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timezone
from typing import Any

from brandpulse.core.errors import BrandpulseError, NotFoundError
from brandpulse.core.settings import Settings
from brandpulse.services.access import Actor, require_page
from brandpulse.services.accounts import authorize
from brandpulse.services.voice import share_of_voice
from store.brands import brand_named, which_brands_are_tracked, who_are_the_rivals_of
from store.engine import session_scope
from store.influence_pages import which_influencers_come_after

REPORT_TYPES = {"csv": "text/csv; charset=utf-8", "pdf": "application/pdf",
                "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _brand(session, name: str):
    brand = brand_named(session, name)
    if brand is None:
        known = ", ".join(b.name for b in which_brands_are_tracked(session)) or "none yet"
        raise NotFoundError(f"brand {name!r} is not tracked (tracked: {known}); use one of those names, "
                            "or add it to config.yaml")
    return brand


def tracked_brands(settings: Settings, actor: Actor) -> list[dict[str, Any]]:
    """Every tracked brand, own first: its query, handles and products (from config), rivals and owners."""
    require_page(authorize(settings, actor), "Share of voice")
    configured = {b.name: b for b in settings.brands} | {c.name: c for b in settings.brands for c in b.competitors}
    with session_scope(settings.database.url) as session:
        brands = which_brands_are_tracked(session)
        rivals = {b.id: [r.name for r in who_are_the_rivals_of(session, b.id)] for b in brands}
    owners = {name: [b.name for b in brands if name in rivals[b.id]] for name in (b.name for b in brands)}
    return [{"id": b.id, "name": b.name, "own": not b.is_competitor, "query": b.query,
             "handles": dict(getattr(configured.get(b.name), "handles", {}) or {}),
             "products": list(getattr(configured.get(b.name), "products", []) or []),
             "rivals": rivals[b.id], "rival_of": owners[b.name]} for b in brands]


def voice_of(settings: Settings, actor: Actor, brand_name: str, since: date, until: date, *,
             by: str = "week", sentiment: str | None = None) -> dict[str, Any]:
    """The Share of voice page's numbers for the brand and its rivals over the days since..until
    (both included), per ``by``; every compared brand has a row in every period, silent ones at 0."""
    require_page(authorize(settings, actor), "Share of voice")
    if since > until:
        raise BrandpulseError(f"since {since} is after until {until}; give the first day, then the last")
    with session_scope(settings.database.url) as session:
        brand = _brand(session, brand_name)
        compared = [brand.name, *(r.name for r in who_are_the_rivals_of(session, brand.id))]
    start, end = (datetime.combine(day, time.min, timezone.utc) for day in (since, until))
    rows = share_of_voice(settings, brand.name, start, end, by=by, sentiment=sentiment)  # silent ones at 0
    return {"brand": brand.name, "compared": compared, "since": since, "until": until, "by": by,
            "sentiment": sentiment, "rows": sorted(rows, key=lambda r: (r["period"], -r["mentions"], r["brand"]))}


def influencers_after(settings: Settings, actor: Actor, brand_name: str, tiers: tuple[str, ...],
                      since: datetime | None, until: datetime | None, after: tuple[float, int] | None,
                      limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` rows of the Influencers page's leaderboard (score desc, author id), after the key
    (score, author id); only authors who wrote about the brand in [since, until) when either is given."""
    require_page(authorize(settings, actor), "Influencers")
    with session_scope(settings.database.url) as session:
        brand = _brand(session, brand_name)
        return which_influencers_come_after(session, brand.id, tiers, since, until, after, limit)


def influencer_report(settings: Settings, actor: Actor, brand_name: str, since: datetime | None,
                      fmt: str) -> tuple[bytes, str, str]:
    """(the influencer report file the dashboard offers, its media type, its file name); report.export."""
    from brandpulse.reports.export import to_bytes
    from brandpulse.reports.influencers import build_influencer_report

    authorize(settings, actor, "report.export")
    if fmt not in REPORT_TYPES:
        raise BrandpulseError(f"report format {fmt!r} is not one of {', '.join(REPORT_TYPES)}")
    with session_scope(settings.database.url) as session:
        name = _brand(session, brand_name).name
    payload = to_bytes(build_influencer_report(settings, name, since), fmt)
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "brand"
    return payload, REPORT_TYPES[fmt], f"influencers-{slug}.{fmt}"
