"""Marketing overview: headline figures, sentiment trend and share of voice."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from brandpulse.services.access import Actor
from dashboard import data
from dashboard.filters import sidebar_filters

SENTIMENT_COLOURS = alt.Scale(domain=["negative", "neutral", "positive", "unscored"],
                              range=["#d62728", "#9e9e9e", "#2ca02c", "#dddddd"])


def render(actor: Actor) -> None:
    st.header("Overview")
    flt, brand = sidebar_filters()
    if brand is None:
        st.info("No brands yet: add brands to config.yaml and run `brandpulse init`.")
        return
    figures = data.headline(flt)
    cols = st.columns(4)
    cols[0].metric("Mentions", f"{figures['volume']:,}")
    cols[1].metric("Net sentiment", f"{figures['net_sentiment']:+.0%}",
                   help="share of positive minus share of negative among analysed mentions")
    cols[2].metric("Complaint rate", f"{figures['complaint_rate']:.0%}")
    cols[3].metric("Open tickets", f"{figures['open_tickets']:,}")
    daily = pd.DataFrame(data.daily(flt))
    st.subheader("Mentions per day by sentiment")
    if daily.empty:
        st.info("No mentions match these filters.")
    else:
        chart = alt.Chart(daily).mark_bar().encode(
            x=alt.X("day:T", title="day"), y=alt.Y("mentions:Q", title="mentions"),
            color=alt.Color("sentiment:N", scale=SENTIMENT_COLOURS),
            tooltip=["day:T", "sentiment:N", "mentions:Q"])
        st.altair_chart(chart, width="stretch")
    st.subheader("Share of voice")
    ids = (brand["id"],) + tuple(r["id"] for r in data.rivals(brand["id"]))
    share = pd.DataFrame(data.share_of_voice(ids, flt))
    if len(ids) == 1:
        st.caption("No competitors configured for this brand (brands[].competitors in config.yaml).")
    if not share.empty:
        chart = alt.Chart(share).mark_bar().encode(
            x=alt.X("share:Q", axis=alt.Axis(format="%"), title="share of mentions"),
            y=alt.Y("brand:N", sort="-x"), tooltip=["brand", "mentions", alt.Tooltip("share", format=".1%")])
        st.altair_chart(chart, width="stretch")
    _top_terms(flt)


def _top_terms(flt) -> None:
    left, right = st.columns(2)
    for column, title, labels in ((left, "Top aspects", ("ASPECT",)),
                                  (right, "Top entities", ("ORG", "PRODUCT", "PERSON", "GPE", "LOC", "FAC",
                                                           "COMPETITOR"))):
        with column:
            st.subheader(title)
            terms = pd.DataFrame(data.top_terms(flt, labels))
            if terms.empty:
                st.caption("Nothing yet: terms appear once mentions are analysed.")
                continue
            chart = alt.Chart(terms).mark_bar().encode(
                x=alt.X("mentions:Q"), y=alt.Y("term:N", sort="-x", title=None),
                color=alt.Color("label:N", legend=alt.Legend(orient="bottom", title=None)), tooltip=["term", "label", "mentions"])
            st.altair_chart(chart, width="stretch")
