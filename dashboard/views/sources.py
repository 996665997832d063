"""Connector health: each source's state, last success and error, rate limits, spend, gaps."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data


def render() -> None:
    st.header("Sources")
    health = data.source_health()
    if not health:
        st.info("No source has run yet. Enable sources in config.yaml and start `brandpulse run`.")
    else:
        st.dataframe(pd.DataFrame(health), hide_index=True, width="stretch")
    gaps = data.source_gaps()
    st.subheader("Outages and back-fills")
    if gaps:
        st.dataframe(pd.DataFrame(gaps), hide_index=True, width="stretch")
    else:
        st.caption("No source has been down longer than twice its cadence.")
    quarantined = data.quarantine_counts()
    st.subheader("Quarantined records")
    if quarantined:
        st.dataframe(pd.DataFrame(quarantined), hide_index=True, width="stretch")
    else:
        st.caption("Nothing quarantined.")
