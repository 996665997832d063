"""Alerts with their evidence."""

from __future__ import annotations

import streamlit as st

from dashboard import data


def render() -> None:
    st.header("Alerts")
    alerts = data.alerts()
    if not alerts:
        st.info("No alert has fired.")
        return
    for alert in alerts:
        with st.expander(f"{alert['severity'].upper()} · {alert['title']} · "
                         f"{alert['window_end']:%Y-%m-%d %H:%M} UTC"):
            evidence = dict(alert["evidence"])
            top = evidence.pop("top_mentions", [])
            st.json(evidence)
            for mention in top:
                st.text(f"[{mention['network']}] {mention['text']}")
