"""Share of voice: the brand against its competitors over time, by network, and by sentiment."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta, timezone

import altair as alt
import pandas as pd
import streamlit as st

from brandpulse.services.access import Actor
from dashboard import data
from dashboard.filters import brand_and_period, period_bounds
from dashboard.views.overview import clickable, day_of, show_behind
from store.drilldown import on_days
from store.queries import MentionFilter


def _chart(rows: list[dict], x: str, title: str, line: bool, name: str) -> dict | None:
    """A chart of the service's rows (a silent rival is already there at 0%); the clicked bar or point's
    period and brand, or None."""
    st.subheader(title)
    if not rows:
        st.caption("No mentions in this period.")
        return None
    frame = pd.DataFrame(rows)
    frame["bucket"] = frame["period"].astype(str)  # the clicked period as text (``period`` may be parsed as a date)
    mark = alt.Chart(frame).mark_line(point=True) if line else alt.Chart(frame).mark_bar()
    encode = {"y": alt.Y("share:Q", axis=alt.Axis(format="%"), title="share of mentions"),
              "color": "brand:N", "tooltip": ["period", "brand", "mentions", alt.Tooltip("share", format=".1%")]}
    encode["x"] = alt.X("period:T", title=x) if line else alt.X("period:N", title=x)
    if not line:
        encode["xOffset"] = "brand:N"
    return clickable(mark.encode(**encode), name, ["bucket", "brand"])


def _behind(name: str, picked: dict | None, flt: MentionFilter, by: str, sentiment: str | None) -> None:
    """List the mentions of the clicked brand in the clicked period (week, day or network)."""
    named = {b["name"]: b["id"] for b in data.brands()}
    if not picked or picked.get("brand") not in named:
        return
    bucket, flt = str(picked.get("bucket") or ""), replace(flt, brand_ids=(named[picked["brand"]],))
    if by in ("week", "day") and bucket:
        first = day_of(bucket)
        flt = on_days(flt, first, first + timedelta(days=6 if by == "week" else 0))
    elif by == "network" and bucket:
        flt = replace(flt, networks=(bucket,))
    what = " · ".join(part for part in (str(picked["brand"]), f"{by} {bucket}" if by != "all" else "",
                                        sentiment or "") if part)
    show_behind(name, what, data.mentions_behind(flt, sentiment))


def render(actor: Actor) -> None:
    st.header("Share of voice")
    brand, start, end = brand_and_period()
    if brand is None:
        st.info("No brands yet.")
        return
    since, until = (datetime.combine(day, time.min, timezone.utc) for day in (start, end))
    flt = MentionFilter(since=period_bounds(start, end)[0], until=period_bounds(start, end)[1])
    unit = st.radio("Over time by", ["week", "day"], horizontal=True, key="voice_unit")
    over_time = f"voice_{unit}"  # a week clicked is not a day: each unit keeps its own selection
    picked = _chart(data.voice(brand["name"], since, until, unit, None), unit, "Share of all mentions over time",
                    True, over_time)
    _behind(over_time, picked, flt, unit, None)
    picked = _chart(data.voice(brand["name"], since, until, "network", None), "network", "By network", False,
                    "voice_network")
    _behind("voice_network", picked, flt, "network", None)
    left, right = st.columns(2)
    for column, sentiment in ((left, "positive"), (right, "negative")):
        with column:
            picked = _chart(data.voice(brand["name"], since, until, "all", sentiment), "",
                            f"Among {sentiment} mentions", False, f"voice_{sentiment}")
            _behind(f"voice_{sentiment}", picked, flt, "all", sentiment)
