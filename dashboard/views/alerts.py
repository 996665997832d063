"""Alerts with their evidence, acknowledged by the people who saw them."""

from __future__ import annotations

import streamlit as st

from brandpulse.access import Actor, may
from brandpulse.alerting import acknowledge
from dashboard import data
from dashboard.safe import md


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
            top = evidence.pop("top_mentions", [])
            st.json(evidence)
            for mention in top:
                st.text(f"[{mention['network']}] {mention['text']}")
            if alert["acknowledged_at"] is None and may(actor, "alert.acknowledge"):
                if st.button("Acknowledge", key=f"ack_{alert['id']}"):
                    acknowledge(data.settings(), actor, alert["id"])
                    data.alerts.clear()
                    st.rerun()
