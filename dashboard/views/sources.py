"""Connector health: each source's state, last success and error, rate limits, spend, gaps."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from brandpulse.services.access import Actor
from dashboard import data


def _table(rows: list[dict], when_empty: str) -> None:
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    else:
        st.caption(when_empty)


def render(actor: Actor) -> None:
    st.header("Sources")
    health = data.source_health()
    if health:
        _table(health, "")
    else:
        st.info("No source has run yet. Enable sources in config.yaml and start `brandpulse run`.")
    st.subheader("Outages and back-fills")
    _table(data.source_gaps(), "No source has been down longer than twice its cadence.")
    st.subheader("Quarantined records")
    _table(data.quarantine_counts(), "Nothing quarantined.")
