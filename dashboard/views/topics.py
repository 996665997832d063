"""Topics: what a brand's recent mentions are about, each with its trend; emerging ones first."""

from __future__ import annotations

from datetime import date

import altair as alt
import pandas as pd
import streamlit as st

from brandpulse.services.access import Actor
from dashboard import data
from dashboard.filters import brand_and_period
from dashboard.safe import md


def in_period(topics: list[dict], start: date, end: date) -> list[dict]:
    """Topics with their trend cut to [start, end] and ``size`` counted there; topics silent in it go."""
    kept = []
    for topic in topics:
        trend = {day: n for day, n in topic["trend"].items() if start.isoformat() <= day[:10] <= end.isoformat()}
        if sum(trend.values()):
            kept.append({**topic, "trend": trend, "size": sum(trend.values())})
    return kept


def render(actor: Actor) -> None:
    st.header("Topics")
    brand, start, end = brand_and_period()
    if brand is None:
        st.info("No brands yet.")
        return
    computed = data.topics(brand["id"])
    if not computed:
        st.info("No topics yet: the scheduler clusters recent mentions every few hours, or run `brandpulse topics`.")
        return
    topics = in_period(computed, start, end)
    st.caption(f"Computed {computed[0]['computed_at']:%Y-%m-%d %H:%M} UTC from the last "
               f"{data.settings().topics.days} days of mentions; posts counted within the period "
               f"{start:%Y-%m-%d} to {end:%Y-%m-%d}.")
    if not topics:
        st.info("No topic has posts in this period: topics cover the last "
                f"{data.settings().topics.days} days; widen the period.")
        return
    trend = pd.DataFrame([{"topic": t["label"], "day": day, "mentions": n}
                          for t in topics for day, n in t["trend"].items()])
    st.altair_chart(alt.Chart(trend).mark_line(point=True).encode(
        x=alt.X("day:T"), y="mentions:Q", color=alt.Color("topic:N", legend=alt.Legend(orient="bottom")),
        tooltip=["topic", "day", "mentions"]), width="stretch")
    for topic in sorted(topics, key=lambda t: (not t["emerging"], -t["size"])):
        flag = "EMERGING · " if topic["emerging"] else ""
        with st.expander(f"{flag}{md(topic['label'])} · {topic['size']} posts in the period · "
                         f"growth ×{topic['growth']:g}", expanded=topic["emerging"]):
            st.text("terms: " + ", ".join(topic["terms"]))
            for post in topic["representative"]:
                st.text(f"[{post['network']}] {post['text']}")
