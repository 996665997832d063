"""People (data rights), on the Users page: find a person, download everything held on them, or
forget them after typing a confirmation. Admins only (the services check it again)."""

from __future__ import annotations

import json
import re
from datetime import date

import pandas as pd
import streamlit as st

from brandpulse.core.errors import BrandpulseError
from brandpulse.core.records import NETWORKS
from brandpulse.core.settings import Settings
from brandpulse.services.access import Actor
from brandpulse.services.people import PersonSelector, export_person, forget_person
from dashboard.safe import md

WAYS = ("Network and handle", "Customer external id", "Customer id")
FOUND = "people_found"  # session key: (selector, export) of the person looked up
DONE = "people_done"  # session key: the last forget's message and counts, shown once after the redraw


def _selector() -> PersonSelector | None:
    way = st.selectbox("Find the person by", WAYS, key="people_way")
    if way == WAYS[0]:
        left, right = st.columns([1, 3])
        network = left.selectbox("Network", NETWORKS, key="people_network")
        handle = right.text_input("Handle", key="people_handle", max_chars=200)
        return PersonSelector(network=network, handle=handle.strip()) if handle.strip().lstrip("@") else None
    if way == WAYS[1]:
        external = st.text_input("External id (your CRM's id of the customer)", key="people_external", max_chars=200)
        return PersonSelector(external_id=external.strip()) if external.strip() else None
    number = st.number_input("Customer id", min_value=1, step=1, value=None, key="people_customer")
    return PersonSelector(customer_id=int(number)) if number else None


def export_file_name(selector: PersonSelector) -> str:
    """A download name per person and day (``person-export-x-dana_k-2026-11-30.json``), so several
    requests do not overwrite each other in one downloads folder."""
    who = selector.describe().replace("@", "")
    return f"person-export-{re.sub(r'[^A-Za-z0-9_.]+', '-', who).strip('-')[:80]}-{date.today():%Y-%m-%d}.json"


def confirmation_of(selector: PersonSelector) -> str:
    """What the admin types to confirm a forget: the handle, external id or customer id."""
    if selector.network:
        return (selector.handle or selector.native_id or "").lstrip("@")
    return selector.external_id or str(selector.customer_id)


def render(settings: Settings, actor: Actor) -> None:
    st.subheader("People (data rights)")
    st.caption("A subject access request (everything held on one person, as JSON) or an erasure "
               "(their posts' text, profile, customer record and name everywhere; counts stay).")
    selector = _selector()
    if st.button("Look up", key="people_lookup", disabled=selector is None):
        try:
            st.session_state[FOUND] = (selector, export_person(settings, actor, selector))
        except BrandpulseError as exc:
            st.session_state.pop(FOUND, None)
            st.error(md(str(exc)))
    done = st.session_state.pop(DONE, None)
    if done:
        st.success(done[0])
        st.dataframe(pd.DataFrame(done[1], columns=["table", "rows changed"]), hide_index=True, width="content")
    found = st.session_state.get(FOUND)
    if not found or found[0] != selector:
        return
    selector, exported = found
    counts = [{"table": t, "rows": n} for t, n in exported["counts"].items() if n]
    st.text(f"Held on {selector.describe()}: {sum(c['rows'] for c in counts)} rows")
    st.dataframe(pd.DataFrame(counts), hide_index=True, width="content")
    st.download_button("Download the export (JSON)", json.dumps(exported, indent=2, ensure_ascii=False, default=str),
                       file_name=export_file_name(selector), mime="application/json", key="people_download")
    _forget(settings, actor, selector, has_customer=bool(exported["person"]["customer_ids"]))


def _forget(settings: Settings, actor: Actor, selector: PersonSelector, has_customer: bool) -> None:
    with st.form("people_forget", clear_on_submit=True):
        st.markdown("**Forget this person**: cannot be undone.")
        linked = st.checkbox("Also their customer record and other linked accounts", key="people_linked",
                             disabled=not (selector.network and has_customer),
                             help=None if has_customer else "This author is not linked to a customer record.")
        typed = st.text_input(f"Type {md(confirmation_of(selector))} to confirm", key="people_confirm")
        if not st.form_submit_button("Forget"):
            return
        if typed.strip().lstrip("@").lower() != confirmation_of(selector).lower():
            st.error("The confirmation does not match; nothing was changed.")
            return
        try:
            chosen = PersonSelector(**{**selector.__dict__, "with_linked": bool(linked)})
            summary = forget_person(settings, actor, chosen)
        except BrandpulseError as exc:
            st.error(md(str(exc)))
            return
    # Redraw without what was looked up (its counts, the export to download, this form), with every
    # cached page read again, so no page keeps showing their posts or handle from its cache.
    st.session_state.pop(FOUND, None)
    st.cache_data.clear()
    st.session_state[DONE] = (
        f"Forgotten {md(selector.describe())}: erasure #{summary.erasure_id} in the audit log. "
        "Their posts now read \\[erased\\] wherever they are shown; counts stay.",
        list(summary.counts.items()))
    st.rerun()
