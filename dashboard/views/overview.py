"""Marketing overview: headline figures, sentiment trend and share of voice."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone

import altair as alt
import pandas as pd
import streamlit as st

from brandpulse.services.access import Actor
from dashboard import data
from dashboard.erased import marked
from dashboard.filters import sidebar_filters
from store.drilldown import on_days

SENTIMENT_COLOURS = alt.Scale(domain=["negative", "neutral", "positive", "unscored"],
                              range=["#d62728", "#9e9e9e", "#2ca02c", "#dddddd"])


def change(now: int, before: int, versus: str) -> dict:
    """st.metric delta arguments for a count: the relative change ("+12%"), or the count when there was none."""
    if now == before:
        return {"delta": "no change", "delta_arrow": "off", "delta_color": "off", "delta_description": versus}
    text = f"{(now - before) / before:+.0%}" if before else f"{now - before:+,} (none before)"
    return {"delta": text, "delta_description": versus}


def points(now: float, before: float, versus: str, rising_is_bad: bool = False) -> dict:
    """st.metric delta arguments for a rate: the change in percentage points ("+3.2 pp")."""
    moved = round(100 * (now - before), 1)
    if not moved:
        return {"delta": "no change", "delta_arrow": "off", "delta_color": "off", "delta_description": versus}
    return {"delta": f"{moved:+.1f} pp", "delta_color": "inverse" if rising_is_bad else "normal",
            "delta_description": versus}


def count(now: int, before: int, versus: str) -> dict:
    """st.metric delta arguments for a stock such as open tickets: the difference ("+5"), more is worse."""
    if now == before:
        return {"delta": "no change", "delta_arrow": "off", "delta_color": "off", "delta_description": versus}
    return {"delta": f"{now - before:+,}", "delta_color": "inverse", "delta_description": versus}


def clickable(chart: alt.Chart, name: str, fields: list[str]) -> dict | None:
    """Draw ``chart`` so that clicking a bar or point selects it (Streamlit's chart selection event);
    return the clicked datum's ``fields``, or None. "Clear selection" (see :func:`show_behind`) redraws the
    chart under a new key, which empties the selection in the browser too."""
    pick = alt.selection_point(name="pick", fields=fields, toggle=False)
    chart = chart.add_params(pick).encode(opacity=alt.condition(pick, alt.value(1.0), alt.value(0.35)))
    key = f"{name}.{st.session_state.get(f'{name}.cleared', 0)}"
    event = st.altair_chart(chart, width="stretch", on_select="rerun", selection_mode="pick", key=key)
    points = (event.get("selection") or {}).get("pick") or []
    return points[0] if points and isinstance(points[0], dict) else None


def day_of(value) -> date:
    """The day of a clicked temporal value: 'YYYY-MM-DD...' text or epoch milliseconds (UTC)."""
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value / 1000, timezone.utc).date()
    return date.fromisoformat(str(value)[:10])


def _clear(name: str) -> None:
    st.session_state[f"{name}.cleared"] = st.session_state.get(f"{name}.cleared", 0) + 1


def show_behind(name: str, what: str, behind: dict) -> None:
    """The mentions behind a clicked bar or point as a plain-text table, with their count and a way back."""
    count, rows = behind["count"], marked(behind["mentions"])
    listed = f", the newest {len(rows)} listed" if count > len(rows) else ""
    st.text(f"Mentions behind {what}: {count:,}{listed}")
    if rows:
        st.dataframe(pd.DataFrame([{
            "posted": r["created_at"], "network": r["network"], "author": r["author"], "followers": r["followers"],
            "sentiment": r["sentiment"] or "unscored", "intent": r["intent"], "engagement": r["engagement"],
            "text": r["text"], "id": r["id"]} for r in rows]), hide_index=True, width="stretch",
            key=f"{name}.list")
    st.button("Clear selection", key=f"{name}.clear", on_click=_clear, args=(name,))


def render(actor: Actor) -> None:
    st.header("Overview")
    flt, brand = sidebar_filters()
    if brand is None:
        st.info("No brands yet: add brands to config.yaml and run `brandpulse init`.")
        return
    figures, before = data.headline(flt), data.headline_before(flt)
    days = (flt.until - flt.since).days
    versus = f"vs the {days} days before" if days != 1 else "vs the day before"
    cols = st.columns(4)
    cols[0].metric("Mentions", f"{figures['volume']:,}", **change(figures["volume"], before["volume"], versus),
                   help=f"mentions in the period; the change is against the {days} days just before it")
    cols[1].metric("Net sentiment", f"{figures['net_sentiment']:+.0%}",
                   **points(figures["net_sentiment"], before["net_sentiment"], versus),
                   help="share of positive minus share of negative among analysed mentions; the change is in "
                        "percentage points against the period before")
    cols[2].metric("Complaint rate", f"{figures['complaint_rate']:.0%}",
                   **points(figures["complaint_rate"], before["complaint_rate"], versus, rising_is_bad=True),
                   help="complaints among analysed mentions; the change is in percentage points")
    cols[3].metric("Open tickets", f"{figures['open_tickets']:,}",
                   **count(figures["open_tickets"], before["open_tickets"], "since the period began"),
                   help="tickets open now; the change is against those open when the period began")
    daily = pd.DataFrame(data.daily(flt))
    st.subheader("Mentions per day by sentiment")
    if daily.empty:
        st.info("No mentions match these filters.")
    else:
        daily["date"] = daily["day"].astype(str).str[:10]  # the clicked bar's day, as text
        chart = alt.Chart(daily).mark_bar().encode(
            x=alt.X("day:T", title="day"), y=alt.Y("mentions:Q", title="mentions"),
            color=alt.Color("sentiment:N", scale=SENTIMENT_COLOURS),
            tooltip=["day:T", "sentiment:N", "mentions:Q"])
        picked = clickable(chart, "overview_daily", ["date", "sentiment"])
        if picked and picked.get("date"):
            day = day_of(picked["date"])
            show_behind("overview_daily", f"{day:%Y-%m-%d} · {picked.get('sentiment') or 'any sentiment'}",
                        data.mentions_behind(on_days(flt, day, day), picked.get("sentiment")))
    st.subheader("Share of voice")
    ids = (brand["id"],) + tuple(r["id"] for r in data.rivals(brand["id"]))
    share = pd.DataFrame(data.share_of_voice(ids, flt))
    if len(ids) == 1:
        st.caption("No competitors configured for this brand (brands[].competitors in config.yaml).")
    if not share.empty:
        chart = alt.Chart(share).mark_bar().encode(
            x=alt.X("share:Q", axis=alt.Axis(format="%"), title="share of mentions"),
            y=alt.Y("brand:N", sort="-x"), tooltip=["brand", "mentions", alt.Tooltip("share", format=".1%")])
        picked = clickable(chart, "overview_share", ["brand"])
        named = {b["name"]: b["id"] for b in data.brands()}
        if picked and picked.get("brand") in named:  # the share counts no text search
            show_behind("overview_share", str(picked["brand"]),
                        data.mentions_behind(replace(flt, brand_ids=(named[picked["brand"]],), search="")))
    _aspect_sentiment(flt)
    _top_terms(flt)


def _aspect_sentiment(flt) -> None:
    st.subheader("Sentiment per aspect")
    rows = pd.DataFrame(data.aspect_sentiment(flt))
    if rows.empty:
        st.caption("No aspects yet: they appear once mentions are analysed (and with no text search).")
        return
    order = list(dict.fromkeys(rows["aspect"]))
    chart = alt.Chart(rows).mark_bar().encode(
        x=alt.X("mentions:Q", stack="normalize", axis=alt.Axis(format="%"), title="share of the aspect's mentions"),
        y=alt.Y("aspect:N", sort=order, title=None),
        color=alt.Color("sentiment:N", scale=SENTIMENT_COLOURS, legend=alt.Legend(orient="bottom", title=None)),
        tooltip=["aspect", "sentiment", "mentions"])
    picked = clickable(chart.properties(title="sentiment per aspect"), "overview_aspect", ["aspect", "sentiment"])
    if picked and picked.get("aspect"):
        show_behind("overview_aspect", f"{picked['aspect']} · {picked.get('sentiment') or 'any sentiment'}",
                    data.mentions_behind(flt, picked.get("sentiment"), str(picked["aspect"])))


def _top_terms(flt) -> None:
    left, right = st.columns(2)
    for column, title, labels in ((left, "Top aspects", ("ASPECT",)),
                                  (right, "Top entities", ("ORG", "PRODUCT", "PERSON", "GPE", "LOC", "FAC",
                                                           "COMPETITOR"))):
        with column:
            st.subheader(title)
            terms = pd.DataFrame(data.top_terms(flt, labels))
            if terms.empty:
                st.caption("Nothing yet: terms appear once mentions are analysed.")
                continue
            chart = alt.Chart(terms).mark_bar().encode(
                x=alt.X("mentions:Q"), y=alt.Y("term:N", sort="-x", title=None),
                color=alt.Color("label:N", legend=alt.Legend(orient="bottom", title=None)), tooltip=["term", "label", "mentions"])
            st.altair_chart(chart, width="stretch")
