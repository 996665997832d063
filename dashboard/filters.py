"""The sidebar filters shared by the marketing pages."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import streamlit as st

from dashboard import data
from store.queries import MentionFilter

SENTIMENTS = ("negative", "neutral", "positive")
INTENTS = ("complaint", "question", "suggestion", "praise", "other")


def own_brands() -> list[dict]:
    """Own brands in config order (all brands when none is marked as own)."""
    brands = data.brands()
    order = {b.name: i for i, b in enumerate(data.settings().brands)}
    return sorted([b for b in brands if not b["is_competitor"]] or brands,
                  key=lambda b: (order.get(b["name"], len(order)), b["name"]))


def brand_and_period(days: int = 30) -> tuple[dict | None, date, date]:
    """The sidebar's brand and period pickers (shared by every marketing page)."""
    own = own_brands()
    today = datetime.now(timezone.utc).date()
    if not own:
        return None, today - timedelta(days=days), today
    names = [b["name"] for b in own]
    chosen = st.sidebar.selectbox("Brand", names, key="filter_brand")
    period = st.sidebar.date_input("Period", (today - timedelta(days=days), today), key="filter_period")
    start, end = (period if isinstance(period, (tuple, list)) and len(period) == 2
                  else (today - timedelta(days=days), today))
    return own[names.index(chosen)], start, end


def sidebar_filters() -> tuple[MentionFilter, dict | None]:
    """Draw the filters; return the filter and the selected own brand (None if no brands)."""
    brand, start, end = brand_and_period()
    if brand is None:
        return MentionFilter(), None
    networks, languages = data.filter_choices()
    flt = MentionFilter(
        brand_ids=(brand["id"],),
        since=datetime.combine(start, time.min, timezone.utc),
        until=datetime.combine(end + timedelta(days=1), time.min, timezone.utc),
        networks=tuple(st.sidebar.multiselect("Network", networks, key="filter_network")),
        languages=tuple(st.sidebar.multiselect("Language", languages, key="filter_language")),
        sentiments=tuple(st.sidebar.multiselect("Sentiment", SENTIMENTS, key="filter_sentiment")),
        intents=tuple(st.sidebar.multiselect("Intent", INTENTS, key="filter_intent")))
    return flt, brand

