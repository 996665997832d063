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


PERIOD_DAYS = 30  # the default period: the last 30 days
_KEPT = "shared_filters"  # widget state is dropped on pages that do not draw it; the choice is kept here


def _kept(key: str, default):
    """Seed the widget ``key`` with the value chosen on another page (or ``default``)."""
    kept = st.session_state.setdefault(_KEPT, {})
    if key not in st.session_state:
        st.session_state[key] = kept.get(key, default)
    return kept


def brand_and_period() -> tuple[dict | None, date, date]:
    """The sidebar's brand and period pickers: one choice shared by every marketing page."""
    own = own_brands()
    today = datetime.now(timezone.utc).date()
    default = (today - timedelta(days=PERIOD_DAYS), today)
    if not own:
        return None, *default
    names = [b["name"] for b in own]
    kept = _kept("filter_brand", names[0])
    if st.session_state["filter_brand"] not in names:
        st.session_state["filter_brand"] = names[0]
    chosen = st.sidebar.selectbox("Brand", names, key="filter_brand")
    _kept("filter_period", default)
    period = st.sidebar.date_input("Period", key="filter_period", max_value=today)
    complete = isinstance(period, (tuple, list)) and len(period) == 2
    start, end = period if complete else kept.get("filter_period", default)
    kept.update(filter_brand=chosen, filter_period=(start, end))
    return own[names.index(chosen)], start, end


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The period as [first midnight, midnight after the last day) in UTC."""
    return (datetime.combine(start, time.min, timezone.utc),
            datetime.combine(end + timedelta(days=1), time.min, timezone.utc))


def sidebar_filters() -> tuple[MentionFilter, dict | None]:
    """Draw the filters; return the filter and the selected own brand (None if no brands)."""
    brand, start, end = brand_and_period()
    if brand is None:
        return MentionFilter(), None
    networks, languages = data.filter_choices()
    flt = MentionFilter(
        brand_ids=(brand["id"],),
        since=period_bounds(start, end)[0], until=period_bounds(start, end)[1],
        networks=tuple(st.sidebar.multiselect("Network", networks, key="filter_network")),
        languages=tuple(st.sidebar.multiselect("Language", languages, key="filter_language")),
        sentiments=tuple(st.sidebar.multiselect("Sentiment", SENTIMENTS, key="filter_sentiment")),
        intents=tuple(st.sidebar.multiselect("Intent", INTENTS, key="filter_intent")))
    return flt, brand

