"""One incident: its status and cause, its tickets with their reply state, one public answer, one resolution."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import streamlit as st

from brandpulse.services import incidents
from brandpulse.services.access import Actor
from brandpulse.core.errors import BrandpulseError
from dashboard import data, flash
from dashboard.erased import marked
from dashboard.safe import md

FLASH = flash.INCIDENT
ANSWERED = "incident_answered"


def _act(label, action, *args) -> None:
    """Run an incident action and show its outcome on the redrawn page (see dashboard.flash)."""
    flash.act(FLASH, label, action, *args)


def render(actor: Actor, incident_id: int) -> None:
    """The incident page (any care user who may reach its tickets reads it; leads and admins act)."""
    detail = incidents.incident_detail(data.settings(), actor, incident_id)
    incident = detail["incident"]
    flash.show(FLASH)
    st.subheader(f"Incident #{incident['id']} · {incident['status']}")
    st.text(incident["title"])  # literal: titles are typed by people
    st.text(f"Cause: {incident['cause'] or 'set by hand'} · brand: {incident['brand'] or 'several'} · "
            f"opened {incident['created_at']:%Y-%m-%d %H:%M} UTC"
            + (f" · resolved {incident['resolved_at']:%Y-%m-%d %H:%M} UTC" if incident["resolved_at"] else ""))
    cols = st.columns(4)
    cols[0].metric("Open tickets", detail["open"])
    cols[1].metric("Tickets", detail["total"])
    cols[2].metric("Replies queued", sum(n for s, n in detail["replies"].items() if s in ("queued", "sending")))
    cols[3].metric("Replies published", detail["replies"].get("published", 0))
    active = incident["status"] != "resolved"
    if detail["may_manage"] and active:
        _status(actor, incident)
        _answer(actor, detail)
        _resolve(actor, incident)
    elif incident["public_answer"]:
        st.text(f"Public answer: {incident['public_answer']}")
    _tickets(actor, detail, active)


def _status(actor: Actor, incident: dict) -> None:
    left, right = st.columns([3, 1])
    options = [s for s in incidents.SETTABLE if s != incident["status"]]
    chosen = left.selectbox("Move incident to", options, key="incident_status_to")
    if right.button("Update status", key="incident_status_apply"):
        _act(f"incident #{incident['id']} is now {md(chosen)}", incidents.set_incident_status, actor,
             incident["id"], chosen)


def _answer(actor: Actor, detail: dict) -> None:
    st.markdown("#### Public answer")
    incident, canned = detail["incident"], detail["canned_replies"]
    if incident["public_answer"]:
        st.text(f"Sent before: {incident['public_answer']}")
    name = st.selectbox("Canned reply", ["(none)"] + list(canned), key="incident_canned")
    start = canned.get(name, "")
    body = st.text_area("One answer to each author", value=start, key=f"incident_answer_{name}", height=100)
    st.caption("{author}, {brand}, {agent}, {ticket}, {link} and {network} are filled per post. Each author gets "
               "one reply, on their latest post; the outbox publishes at most each account's per-minute rate.")
    if st.button("Send to each author", key="incident_answer_send"):
        try:
            st.session_state[ANSWERED] = {incident["id"]: incidents.answer_incident(data.settings(), actor,
                                                                                    incident["id"], body)}
        except BrandpulseError as exc:
            st.session_state[FLASH] = ("error", md(exc))
        st.rerun()
    result = st.session_state.get(ANSWERED, {}).get(incident["id"])  # the last answer sent on this page
    if result is not None:
        st.success(f"{result['queued']} replies queued, {len(result['skipped'])} skipped")
        for pace in result["accounts"]:
            st.text(f"@{pace['handle']} on {pace['network']}: {pace['queued']} replies, at most "
                    f"{pace['per_minute']} a minute: about {pace['minutes']} min to publish")
        if result["skipped"]:
            reasons = Counter(s["reason"] for s in result["skipped"])
            st.dataframe(pd.DataFrame([{"tickets": n, "why skipped": why} for why, n in reasons.most_common()]),
                         hide_index=True, width="stretch")


def _resolve(actor: Actor, incident: dict) -> None:
    with st.form("incident_resolve_form", clear_on_submit=True):
        note = st.text_input("Resolution note (goes to every ticket's history)", key="incident_resolve_note")
        if st.form_submit_button("Resolve all", key="incident_resolve_apply"):
            _act(lambda closed: f"incident #{incident['id']} resolved: {closed} tickets closed",
                 incidents.resolve_incident, actor, incident["id"], note)


def _tickets(actor: Actor, detail: dict, active: bool) -> None:
    st.markdown("#### Tickets")
    rows = marked(detail["tickets"], by="ticket")
    if detail["hidden"]:
        st.caption(f"{detail['hidden']} more tickets of this incident belong to other teams.")
    if not rows:
        st.info("No tickets in this incident.")
        return
    answered = st.session_state.get(ANSWERED, {}).get(detail["incident"]["id"])
    if answered:  # why the last answer skipped a ticket, until the page is left
        why = {s["ticket_id"]: f"skipped: {s['reason']}" for s in answered["skipped"]}
        rows = [{**r, "reply": r["reply"] or why.get(r["id"], "")} for r in rows]
    frame = pd.DataFrame(rows)[["id", "status", "reply", "author", "network", "posted_at", "priority", "team",
                                "assignee", "text"]]
    st.dataframe(frame, hide_index=True, width="stretch", column_config={
        "id": st.column_config.NumberColumn("ticket", format="#%d"),
        "priority": st.column_config.NumberColumn(format="%.0f"),
        "text": st.column_config.TextColumn(width="large")})
    if detail["may_manage"] and active:
        with st.expander("Take a ticket out of the incident"):
            ids = [r["id"] for r in rows]
            chosen = st.selectbox("Ticket", ids, key="incident_remove_ticket", format_func=lambda i: f"#{i}")
            if st.button("Take out", key="incident_remove_apply"):
                _act(f"ticket #{chosen} taken out", incidents.remove_ticket, actor, detail["incident"]["id"], chosen)
