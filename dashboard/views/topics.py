"""Topics: what a brand's recent mentions are about, each with its trend; emerging ones first."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from brandpulse.access import Actor
from dashboard import data
from dashboard.filters import brand_and_period
from dashboard.safe import md


def render(actor: Actor) -> None:
    st.header("Topics")
    brand, _, _ = brand_and_period()
    if brand is None:
        st.info("No brands yet.")
        return
    topics = data.topics(brand["id"])
    if not topics:
        st.info("No topics yet: the scheduler clusters recent mentions every few hours, or run `brandpulse topics`.")
        return
    st.caption(f"Computed {topics[0]['computed_at']:%Y-%m-%d %H:%M} UTC from the last "
               f"{data.settings().topics.days} days of mentions.")
    trend = pd.DataFrame([{"topic": t["label"], "day": day, "mentions": n}
                          for t in topics for day, n in t["trend"].items()])
    st.altair_chart(alt.Chart(trend).mark_line(point=True).encode(
        x=alt.X("day:T"), y="mentions:Q", color=alt.Color("topic:N", legend=alt.Legend(orient="bottom")),
        tooltip=["topic", "day", "mentions"]), width="stretch")
    for topic in sorted(topics, key=lambda t: (not t["emerging"], -t["size"])):
        flag = "EMERGING · " if topic["emerging"] else ""
        with st.expander(f"{flag}{md(topic['label'])} · {topic['size']} posts · {topic['share']:.0%} · "
                         f"growth ×{topic['growth']:g}", expanded=topic["emerging"]):
            st.text("terms: " + ", ".join(topic["terms"]))
            for post in topic["representative"]:
                st.text(f"[{post['network']}] {post['text']}")
