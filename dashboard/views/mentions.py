"""Mention explorer: full-text search, a table, and one mention's analysis in detail."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from brandpulse.access import Actor
from dashboard import data
from dashboard.filters import sidebar_filters
from dashboard.safe import md


def render(actor: Actor) -> None:
    st.header("Mentions")
    flt, brand = sidebar_filters()
    if brand is None:
        st.info("No brands yet.")
        return
    search = st.text_input("Search text", key="mention_search")
    rows = data.mentions(replace(flt, search=search.strip()), 500)
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


def show_detail(detail: dict) -> None:
    """One mention: text shown literally, its author, and the analysis with its model."""
    mention, analysis, author = detail["mention"], detail["analysis"], detail["author"]
    st.text(mention.text)  # literal: never interpreted as Markdown or HTML
    st.caption(f"{md(mention.network)} · {mention.created_at:%Y-%m-%d %H:%M} UTC · "
               f"brands: {md(', '.join(detail['brands']) or '-')}")
    if mention.url:
        st.text(f"link: {mention.url}")
    if author:
        st.text(f"author: @{author.handle} · followers {author.followers or 0:,}")
    if analysis is None:
        st.info(f"Not analysed yet (status: {md(mention.analysis_status)}). {md(mention.analysis_error or '')}")
        return
    st.json({"model": f"{analysis.model_name}@{analysis.model_version}",
             "language": analysis.language, "sentiment": analysis.sentiment,
             "sentiment_scores": {"negative": analysis.sentiment_negative,
                                  "neutral": analysis.sentiment_neutral,
                                  "positive": analysis.sentiment_positive},
             "emotion": analysis.emotion, "complaint": analysis.complaint,
             "complaint_score": analysis.complaint_score, "intents": analysis.intents,
             "offensive": analysis.offensive, "entities": analysis.entities})
