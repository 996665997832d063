"""Care inbox: the queue by priority with SLA time left, bulk actions, and one ticket opened below."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from brandpulse import care
from brandpulse.access import Actor, may
from dashboard import data
from dashboard.safe import md
from dashboard.views import ticket

BULK_STATUSES = ("in_progress", "waiting_customer", "resolved", "dismissed")


def render(actor: Actor) -> None:
    st.header("Care inbox")
    settings = data.settings()
    default_view = care.VIEWS.index("my team" if actor.team else "all teams")
    view = st.radio("Show", care.VIEWS, index=default_view, horizontal=True, key="inbox_view")
    rows = care.inbox(settings, actor, view)
    counts = data.tickets_by_status()
    breached = sum(1 for r in rows if r["breached"])
    st.caption(" · ".join(f"{status}: {count}" for status, count in sorted(counts.items()))
               + f" · SLA breached in this view: {breached}")
    if not rows:
        st.info("No tickets in this view.")
        return
    frame = pd.DataFrame(rows)[["id", "priority", "sla", "status", "assignee", "team", "intent", "brand",
                                "network", "author", "text"]]
    st.dataframe(frame, hide_index=True, width="stretch", column_config={
        "id": st.column_config.NumberColumn("ticket", format="#%d"),
        "priority": st.column_config.ProgressColumn("priority", min_value=0, max_value=100, format="%.0f"),
        "text": st.column_config.TextColumn(width="large")})
    if may(actor, "ticket.bulk"):
        _bulk_actions(actor, [r["id"] for r in rows])
    ids = [r["id"] for r in rows]
    wanted = st.query_params.get("ticket")
    if wanted and wanted.isdigit() and int(wanted) in ids and "open_ticket" not in st.session_state:
        st.session_state["open_ticket"] = int(wanted)
    # no SLA countdown in the labels: Streamlit knows a choice by its label, and a label that
    # changes when the minute ticks made the next action fail (the SLA stays in the table above)
    labels = {r["id"]: f"#{r['id']} · {r['priority']:.0f} · {r['text'][:70]}" for r in rows}
    working = st.session_state.get("open_ticket")
    if working is not None and working not in labels:  # keep the ticket at hand open after it leaves the view
        ids.insert(0, working)
        labels[working] = f"#{working} · (no longer in this view)"
    chosen = st.selectbox("Open ticket", ids, key="open_ticket", format_func=labels.get)
    st.divider()
    ticket.render(actor, int(chosen))


def _bulk_actions(actor: Actor, ids: list[int]) -> None:
    with st.expander("Bulk actions"):
        chosen = st.multiselect("Tickets", ids, key="bulk_tickets", format_func=lambda i: f"#{i}")
        action = st.selectbox("Action", ["set status", "assign to"], key="bulk_action")
        if action == "set status":
            value = st.selectbox("Status", BULK_STATUSES, key="bulk_status")
        else:
            members = {m["id"]: m["username"] for m in data.care_members()}
            value = st.selectbox("Agent", list(members), key="bulk_assignee", format_func=members.get)
        if st.button("Apply to selected", key="bulk_apply", disabled=not chosen):
            outcome = care.bulk(data.settings(), actor, chosen, "status" if action == "set status"
                                else "assign", value)
            done = [i for i, result in outcome.items() if result == "ok"]
            st.success(f"{len(done)} of {len(chosen)} tickets updated")
            for ticket_id, result in outcome.items():
                if result != "ok":
                    st.warning(f"#{ticket_id}: {md(result)}")
            data.clear_ticket_caches()
