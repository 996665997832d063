"""Topics: what a brand's recent mentions are about, each with its trend; emerging ones first."""

from __future__ import annotations

from datetime import date

import altair as alt
import pandas as pd
import streamlit as st

from brandpulse.services.access import Actor
from dashboard import data
from dashboard.filters import SENTIMENTS, brand_and_period, period_bounds
from dashboard.safe import md


def in_period(topics: list[dict], start: date, end: date) -> list[dict]:
    """Topics with their trend cut to [start, end] and ``size`` counted there; topics silent in it go."""
    kept = []
    for topic in topics:
        trend = {day: n for day, n in topic["trend"].items() if start.isoformat() <= day[:10] <= end.isoformat()}
        if sum(trend.values()):
            kept.append({**topic, "trend": trend, "size": sum(trend.values())})
    return kept


def shares(counts: dict[str, int]) -> str:
    """"negative 40% · neutral 35% · positive 25%" of a topic's analysed mentions (unscored ones apart)."""
    scored = sum(counts.get(s, 0) for s in SENTIMENTS)
    if not scored:
        return "no analysed mentions in the period"
    text = " · ".join(f"{s} {counts.get(s, 0) / scored:.0%}" for s in SENTIMENTS)
    return text + (f" · {counts['unscored']} not analysed" if counts.get("unscored") else "")


def _sentiment_chart(topics: list[dict], split: dict[int, dict[str, int]]) -> None:
    """Each topic's negative/neutral/positive share of its mentions in the period, as stacked bars."""
    names = {}
    for topic in topics:  # two topics may share a label: each keeps its own bar
        label = topic["label"]
        names[topic["id"]] = label if label not in names.values() else f"{label} ({topic['id']})"
    rows = pd.DataFrame([{"topic": names[t["id"]], "sentiment": s, "mentions": n}
                         for t in topics for s, n in split.get(t["id"], {}).items() if s in SENTIMENTS])
    st.subheader("Sentiment per topic")
    if rows.empty:
        st.caption("No analysed mentions of these topics in the period.")
        return
    st.altair_chart(alt.Chart(rows).mark_bar().encode(
        x=alt.X("mentions:Q", stack="normalize", axis=alt.Axis(format="%"), title="share of the topic's mentions"),
        y=alt.Y("topic:N", sort=list(names.values()), title=None),
        color=alt.Color("sentiment:N", scale=alt.Scale(domain=list(SENTIMENTS), range=["#d62728", "#9e9e9e", "#2ca02c"]),
                        legend=alt.Legend(orient="bottom", title=None)),
        tooltip=["topic", "sentiment", "mentions"]).properties(title="sentiment per topic"), width="stretch")


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
    ordered = sorted(topics, key=lambda t: (not t["emerging"], -t["size"]))
    split = data.topic_sentiment(tuple(t["id"] for t in ordered), *period_bounds(start, end))
    _sentiment_chart(ordered, split)
    for topic in ordered:
        flag = "EMERGING · " if topic["emerging"] else ""
        with st.expander(f"{flag}{md(topic['label'])} · {topic['size']} posts in the period · "
                         f"growth ×{topic['growth']:g}", expanded=topic["emerging"]):
            st.text("sentiment: " + shares(split.get(topic["id"], {})))
            st.text("terms: " + ", ".join(topic["terms"]))
            for post in topic["representative"]:
                st.text(f"[{post['network']}] {post['text']}")
