"""Alerts with their evidence (a chart of what the rule measured against its baseline and thresholds),
acknowledged by the people who saw them."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from brandpulse.services.access import Actor, may
from brandpulse.services.alerting import acknowledge
from dashboard import data
from dashboard.safe import md

MEASURES = {"volume_spike": "mentions in the window", "negative_share": "negative share of the window",
            "influencer_complaint": "mentions per hour", "crisis_keywords": "mentions per hour"}
SHOWN_FIGURES = ("observed", "baseline", "z", "ratio", "negative", "analysed", "baseline_basis", "baseline_days",
                 "keywords", "min_tier")


def evidence_chart(rule: str, evidence: dict[str, Any]) -> alt.Chart | None:
    """The rule's series up to the alert, its baseline and the thresholds it is judged against."""
    points = pd.DataFrame(evidence.get("series") or [])
    if points.empty:
        return None
    points["end"] = pd.to_datetime(points["end"], utc=True)
    measure = MEASURES.get(rule, "value")
    share = rule == "negative_share"
    axis = alt.Axis(format="%") if share else alt.Axis()
    y = alt.Y("value:Q", title=measure, axis=axis, scale=alt.Scale(zero=True))
    line = alt.Chart(points).mark_line(point=True).encode(
        x=alt.X("end:T", title="window end (UTC)"), y=y,
        tooltip=[alt.Tooltip("end:T", title="window end", format="%Y-%m-%d %H:%M"),
                 alt.Tooltip("value:Q", title=measure, format=".1%" if share else ",")])
    levels = [("baseline", evidence.get("baseline"))] if rule in ("volume_spike", "negative_share") else []
    levels += [(f"{name} threshold", value) for name, value in (evidence.get("thresholds") or {}).items()]
    levels = pd.DataFrame([{"level": name, "value": value} for name, value in levels if value is not None])
    if levels.empty:
        return line
    rules = alt.Chart(levels).mark_rule(strokeDash=[6, 3]).encode(
        y="value:Q", color=alt.Color("level:N", legend=alt.Legend(orient="bottom", title=None)),
        tooltip=["level", alt.Tooltip("value:Q", format=".1%" if share else ",.1f")])
    return alt.layer(line, rules)


def figures(evidence: dict[str, Any]) -> pd.DataFrame:
    """The evidence's numbers as a two-column table (text, never Markdown)."""
    rows = [(name.replace("_", " "), ", ".join(map(str, value)) if isinstance(value, list) else str(value))
            for name, value in evidence.items() if name in SHOWN_FIGURES]
    window = evidence.get("window")
    if window:
        rows.append(("window (UTC)", f"{window[0][:16]} → {window[1][:16]}".replace("T", " ")))
    return pd.DataFrame(rows, columns=["figure", "value"])


def render(actor: Actor) -> None:
    st.header("Alerts")
    alerts = data.alerts()
    if not alerts:
        st.info("No alert has fired.")
        return
    show = st.radio("Show", ["unacknowledged", "all"], horizontal=True, key="alerts_show")
    if show == "unacknowledged":
        alerts = [a for a in alerts if a["acknowledged_at"] is None]
    st.caption(f"{len(alerts)} alerts")
    for alert in alerts:
        seen = "" if alert["acknowledged_at"] is None else " · acknowledged"
        with st.expander(f"{md(alert['severity'].upper())} · {md(alert['title'])} · "
                         f"{alert['window_end']:%Y-%m-%d %H:%M} UTC{seen}"):
            evidence = dict(alert["evidence"])
            chart = evidence_chart(alert["rule"], evidence)
            if chart is not None:
                st.altair_chart(chart, width="stretch")
            st.dataframe(figures(evidence), hide_index=True, width="stretch")
            top = evidence.get("top_mentions", [])
            if top:
                st.text("Top posts")
                for mention in top:
                    st.text(f"[{mention['network']}] {mention['text']}")
            if alert["acknowledged_at"] is None and may(actor, "alert.acknowledge"):
                if st.button("Acknowledge", key=f"ack_{alert['id']}"):
                    acknowledge(data.settings(), actor, alert["id"])
                    data.alerts.clear()
                    st.rerun()
