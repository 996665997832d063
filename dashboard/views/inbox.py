"""Care inbox: open tickets by priority, with the explanation of each priority."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data


def render() -> None:
    st.header("Care inbox")
    teams = [team.name for team in data.settings().care.teams]
    team = st.selectbox("Team", ["all teams"] + teams, key="inbox_team")
    counts = data.tickets_by_status()
    st.caption(" · ".join(f"{status}: {count}" for status, count in sorted(counts.items())) or "no tickets")
    rows = data.open_tickets(None if team == "all teams" else team)
    if not rows:
        st.info("No open tickets.")
        return
    frame = pd.DataFrame([{
        "ticket": r["ticket"]["id"], "priority": r["ticket"]["priority"], "status": r["ticket"]["status"],
        "team": r["ticket"]["team"], "intent": r["ticket"]["intent"], "brand": r["brand"],
        "network": r["network"], "author": r["author"], "text": r["text"],
        "first response due": r["ticket"]["first_response_due"]} for r in rows])
    st.dataframe(frame, hide_index=True, width="stretch")
    chosen = st.selectbox("Why this priority?", frame["ticket"].tolist(), key="inbox_ticket",
                          format_func=lambda tid: f"ticket #{tid}")
    row = next(r for r in rows if r["ticket"]["id"] == chosen)
    st.text(row["text"])
    explanation = pd.DataFrame(sorted(row["ticket"]["priority_explanation"].items(),
                                      key=lambda kv: -kv[1]), columns=["signal", "points"])
    st.bar_chart(explanation, x="signal", y="points")
