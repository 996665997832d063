"""Incidents (care leads and admins): suggested groups of complaints with one cause, open incidents, one below."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from brandpulse.services import incidents
from brandpulse.services.access import Actor
from brandpulse.core.errors import BrandpulseError
from dashboard import data, flash
from dashboard.safe import md
from dashboard.views import incident as incident_view

OPEN = "incidents_page_open"  # not the inbox's "open_incident": session state outlives a page


def _span(suggestion: dict) -> str:
    first, last = suggestion["first_posted_at"], suggestion["last_posted_at"]
    return f"{first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC"


def _create(actor: Actor, title: str, ticket_ids: list[int], cause: str) -> None:
    try:
        made = incidents.create_incident(data.settings(), actor, title, ticket_ids, cause)
    except BrandpulseError as exc:
        st.session_state[flash.INCIDENT] = ("error", md(exc))
    else:
        skipped = f", {len(made['skipped'])} skipped (already in an incident or closed)" if made["skipped"] else ""
        st.session_state[flash.INCIDENT] = ("success", f"incident #{made['id']} opened with "
                                                            f"{len(made['added'])} tickets{skipped}")
        st.session_state[OPEN] = made["id"]
    data.clear_ticket_caches()
    st.rerun()


def render(actor: Actor) -> None:
    st.header("Incidents")
    settings = data.settings()
    flash.show(flash.INCIDENT)
    own = [b["name"] for b in data.brands() if not b["is_competitor"]]
    left, right = st.columns([3, 1])
    brand = left.selectbox("Brand", ["all brands"] + own, key="incidents_brand")
    min_size = right.number_input("Tickets a group needs", min_value=2, max_value=10_000, value=incidents.MIN_GROUP,
                                  step=1, key="incidents_min")
    suggestions = incidents.suggest_incidents(settings, actor, None if brand == "all brands" else brand,
                                              int(min_size))
    st.markdown("#### Suggested")
    st.caption(f"Open complaints of the last {incidents.LOOKBACK_HOURS} hours, in no incident, that share a cause "
               f"in a burst: an alert's window, a topic, or near-identical text across authors.")
    if not suggestions:
        st.info("No group of complaints shares a cause right now.")
    for suggestion in suggestions:
        _suggestion(actor, suggestion)
    _open_incidents(actor)


def _suggestion(actor: Actor, s: dict) -> None:
    label = (f"{s['count']} tickets · {s['authors']} authors · {md(s['brand'] or '?')} · {md(s['cause'])} · "
             f"{_span(s)}")
    with st.expander(label, expanded=s["number"] == 1):
        for also in s["also"]:
            st.text(f"also found by {also}")
        st.text("Samples:")
        for sample in s["samples"]:
            st.text(sample)  # literal: never Markdown or HTML
        title = st.text_input("Title", value=s["title"], key=f"suggestion_title_{s['key']}")
        if st.button("Create incident", key=f"suggestion_create_{s['key']}"):
            _create(actor, title, s["ticket_ids"], s["cause"])


def _open_incidents(actor: Actor) -> None:
    st.markdown("#### Open incidents")
    rows = incidents.list_incidents(data.settings(), actor, include_resolved=st.toggle(
        "Show resolved incidents too", key="incidents_resolved"))
    with st.expander("Create an incident from ticket ids"):
        title = st.text_input("Title", key="incident_new_title")
        ids = st.text_input("Ticket ids, e.g. 12, 15, 31", key="incident_new_ids")
        if st.button("Create incident", key="incident_new_create"):
            numbers = [part.strip() for part in ids.split(",") if part.strip()]
            if not all(n.isdigit() for n in numbers):
                st.error("Ticket ids are numbers separated by commas, e.g. 12, 15, 31.")
            else:
                _create(actor, title, [int(n) for n in numbers], "")
    if not rows:
        st.info("No open incidents.")
        return
    frame = pd.DataFrame(rows)[["id", "status", "tickets", "max_priority", "brand", "first_posted_at", "title",
                                "cause"]]
    st.dataframe(frame, hide_index=True, width="stretch", column_config={
        "id": st.column_config.NumberColumn("incident", format="#%d"),
        "tickets": st.column_config.NumberColumn("open tickets"),
        "max_priority": st.column_config.NumberColumn("max priority", format="%.0f")})
    ids = [r["id"] for r in rows]
    if st.session_state.get(OPEN) not in ids:
        st.session_state.pop(OPEN, None)
    labels = {r["id"]: f"#{r['id']} · {r['title'][:70]}" for r in rows}  # stable: Streamlit knows a choice by its label
    chosen = st.selectbox("Open incident", ids, key=OPEN, format_func=labels.get)
    st.divider()
    incident_view.render(actor, int(chosen))
