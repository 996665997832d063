"""Mention explorer: full-text search, a table, and one mention's analysis in detail."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from brandpulse.services.access import Actor
from dashboard import data
from dashboard.erased import marked, text_of
from dashboard.filters import sidebar_filters
from dashboard.safe import md, web_url


def render(actor: Actor) -> None:
    st.header("Mentions")
    flt, brand = sidebar_filters()
    if brand is None:
        st.info("No brands yet.")
        return
    search = st.text_input("Search text", key="mention_search")
    rows = marked(data.mentions(replace(flt, search=search.strip()), 500))
    st.caption(f"{len(rows)} newest mentions shown")
    if not rows:
        return
    frame = pd.DataFrame(rows)
    st.dataframe(frame, hide_index=True, width="stretch",
                 column_config={"text": st.column_config.TextColumn(width="large")})
    chosen = st.selectbox("Details of mention", frame["id"].tolist(), key="mention_detail",
                          format_func=lambda mid: f"#{mid}")
    detail = data.mention_detail(int(chosen))
    if detail:
        show_detail(detail)


def _pct(value) -> str:
    return "-" if value is None else f"{value:.0%}"


def show_detail(detail: dict) -> None:
    """One mention as a card: text shown literally, author, link, and the analysis with its model."""
    mention, analysis, author = detail["mention"], detail["analysis"], detail["author"]
    with st.container(border=True):
        st.text(text_of(mention.text, mention.erased_at))  # literal: never interpreted as Markdown or HTML
        st.caption(f"{md(mention.network)} · {mention.created_at:%Y-%m-%d %H:%M} UTC · "
                   f"brands: {md(', '.join(detail['brands']) or '-')}")
        if author:
            followers = "followers not known" if author.followers is None else f"{author.followers:,} followers"
            st.text(f"by @{author.handle} · {followers}")  # an erased profile's count is not known, not 0
        link = web_url(mention.url)
        if link:
            st.link_button("Open the post", link)
        elif mention.url:
            st.text(f"link (not a web address): {mention.url}")
        if analysis is None and mention.analysis_status == "erased":
            st.info("Not analysed: the post was erased before it was scored.")
            return
        if analysis is None:
            st.info(f"Not analysed yet (status: {md(mention.analysis_status)}). "
                    f"{md(mention.analysis_error or '')}")
            return
        cols = st.columns(4)
        cols[0].metric("Sentiment", md(analysis.sentiment or "-"),
                       help=f"negative {_pct(analysis.sentiment_negative)} · neutral "
                            f"{_pct(analysis.sentiment_neutral)} · positive {_pct(analysis.sentiment_positive)}")
        cols[1].metric("Complaint", _pct(analysis.complaint_score),
                       help="the model's complaint probability" + (" (a complaint)" if analysis.complaint else ""))
        cols[2].metric("Emotion", md(analysis.emotion or "-"))
        cols[3].metric("Language", md(analysis.language or "-"))
        st.text(f"sentiment: negative {_pct(analysis.sentiment_negative)} · neutral "
                f"{_pct(analysis.sentiment_neutral)} · positive {_pct(analysis.sentiment_positive)}")
        st.text("intents: " + (", ".join(analysis.intents or []) or "-")
                + (" · offensive" if analysis.offensive else ""))
        if analysis.entities:
            st.dataframe(pd.DataFrame(analysis.entities), hide_index=True)
        st.text(f"model: {analysis.model_name}@{analysis.model_version}")
