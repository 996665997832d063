"""Share of voice: the brand against its competitors over time, by network, and by sentiment."""

from __future__ import annotations

from datetime import datetime, time, timezone

import altair as alt
import pandas as pd
import streamlit as st

from brandpulse.services.access import Actor
from dashboard import data
from dashboard.filters import brand_and_period


def _chart(rows: list[dict], x: str, title: str, line: bool) -> None:
    """A chart of the service's rows (a silent rival is already there at 0%)."""
    st.subheader(title)
    if not rows:
        st.caption("No mentions in this period.")
        return
    frame = pd.DataFrame(rows)
    mark = alt.Chart(frame).mark_line(point=True) if line else alt.Chart(frame).mark_bar()
    encode = {"y": alt.Y("share:Q", axis=alt.Axis(format="%"), title="share of mentions"),
              "color": "brand:N", "tooltip": ["period", "brand", "mentions", alt.Tooltip("share", format=".1%")]}
    encode["x"] = alt.X("period:T", title=x) if line else alt.X("period:N", title=x)
    if not line:
        encode["xOffset"] = "brand:N"
    st.altair_chart(mark.encode(**encode), width="stretch")


def render(actor: Actor) -> None:
    st.header("Share of voice")
    brand, start, end = brand_and_period()
    if brand is None:
        st.info("No brands yet.")
        return
    since, until = (datetime.combine(day, time.min, timezone.utc) for day in (start, end))
    unit = st.radio("Over time by", ["week", "day"], horizontal=True, key="voice_unit")
    _chart(data.voice(brand["name"], since, until, unit, None), unit, "Share of all mentions over time", True)
    _chart(data.voice(brand["name"], since, until, "network", None), "network", "By network", False)
    left, right = st.columns(2)
    with left:
        _chart(data.voice(brand["name"], since, until, "all", "positive"), "", "Among positive mentions", False)
    with right:
        _chart(data.voice(brand["name"], since, until, "all", "negative"), "", "Among negative mentions", False)
