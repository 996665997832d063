"""Influencers: who moves the conversation about a brand, why (score components), and the report."""

from __future__ import annotations

from datetime import datetime, time, timezone

import altair as alt
import pandas as pd
import streamlit as st

from brandpulse.services.access import Actor, may, require
from brandpulse.services.influence import WEIGHTS, explain_score
from brandpulse.core.tiers import TIERS
from dashboard import data
from dashboard.filters import brand_and_period, period_bounds

COLUMNS = ["handle", "network", "profile_url", "tier", "score", "followers", *WEIGHTS, "bot_likelihood",
           "sentiment", "posts_about_brand", "vip"]


def render(actor: Actor) -> None:
    st.header("Influencers")
    brand, start, end = brand_and_period()
    if brand is None:
        st.info("No brands yet.")
        return
    tiers = st.multiselect("Tiers", [name for name, _ in TIERS], key="influencer_tiers")
    board = data.influencers(brand["id"], tuple(tiers), *period_bounds(start, end))
    if not board:
        st.info("No influence scores for authors who wrote about the brand in this period: the scheduler "
                "computes them hourly (or run `brandpulse influence`); widen the period.")
    else:
        frame = pd.DataFrame(board)
        st.dataframe(frame[COLUMNS], hide_index=True, width="stretch", column_config={
            "score": st.column_config.ProgressColumn("score", min_value=0, max_value=100, format="%.1f"),
            "bot_likelihood": st.column_config.NumberColumn("bot likelihood", format="%.2f"),
            "profile_url": st.column_config.LinkColumn("profile"),
            "followers": st.column_config.NumberColumn("followers", format="localized"),
            "sentiment": st.column_config.NumberColumn(
                "sentiment (-1..1)", format="%+.2f",
                help="(positive - negative) / (positive + negative) posts about the brand; neutral posts "
                     "do not count; blank when none is opinionated")})
        with st.expander("How the score is computed"):
            for what, how in explain_score(data.settings().influence.recency_days):
                st.text(f"{what}: {how}")
        st.subheader("What makes the top 15")
        top = frame.head(15).assign(author=lambda f: "@" + f["handle"] + " (" + f["network"] + ")")
        parts = top.melt(id_vars=["author"], value_vars=list(WEIGHTS), var_name="component")
        parts["points"] = parts.apply(lambda r: 100 * WEIGHTS[r["component"]] * r["value"], axis=1)
        chart = alt.Chart(parts).mark_bar().encode(
            x=alt.X("sum(points):Q", title="points before the bot discount"),
            y=alt.Y("author:N", sort="-x", title=None), color="component:N",
            tooltip=["author", "component", alt.Tooltip("value:Q", format=".2f"), alt.Tooltip("points:Q", format=".1f")])
        st.altair_chart(chart, width="stretch")
        suspicious = frame[frame["bot_likelihood"] >= 0.5]
        if not suspicious.empty:
            st.caption(f"{len(suspicious)} authors look automated (bot likelihood ≥ 0.5); their scores are lowered.")
            st.dataframe(suspicious[["handle", "network", "bot_likelihood", "bot_signals"]], hide_index=True)
    if may(actor, "report.export"):
        _report(actor, brand, start)


def _report(actor: Actor, brand: dict, start) -> None:
    require(actor, "report.export")
    st.subheader("Influencer report")
    fmt = st.selectbox("Format", ["xlsx", "pdf", "csv"], key="report_format")
    if st.button("Prepare report", key="report_prepare"):
        since = datetime.combine(start, time.min, timezone.utc)
        with st.spinner("Scoring every author of the period and writing the report…"):
            st.session_state["report_file"] = (fmt, data.influencer_report(actor, brand["name"], since, fmt))
    prepared = st.session_state.get("report_file")
    if prepared:
        kind, payload = prepared
        st.download_button(f"Download {kind.upper()}", payload, key="report_download",
                           file_name=f"influencers-{brand['name'].lower().replace(' ', '-')}.{kind}")
