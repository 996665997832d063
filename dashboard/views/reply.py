"""The reply panel of a ticket: answer the customer as the brand, see each reply's fate, approve.

Who else has the ticket open is shown first; a send made against a ticket someone else changed
since the agent looked is refused by the service (the version the agent saw travels with it).
"""

from __future__ import annotations

import streamlit as st

from brandpulse.services import care, publishing, replying
from brandpulse.services.access import Actor
from brandpulse.core.errors import BrandpulseError
from dashboard import data, flash
from dashboard.safe import md, web_url

STATE_LABELS = {"awaiting_approval": "waiting for a lead's approval", "queued": "queued",
                "sending": "sending", "published": "published", "failed": "FAILED", "declined": "declined"}


def _seen_version(actor: Actor, ticket_id: int, options: dict, history: list[dict]) -> int:
    """The ticket version the agent has seen: it follows the agent's own changes, not other people's."""
    key = f"reply_seen_{ticket_id}"
    seen = st.session_state.get(key)
    if seen is None or options["version"] == seen[0]:
        st.session_state[key] = (options["version"], len(history))
        return options["version"]
    newer = history[seen[1]:]
    by_others = [event for event in newer if event["user"] != actor.username]
    if not by_others:
        st.session_state[key] = (options["version"], len(history))
        return options["version"]
    st.warning("This ticket changed since you opened it: " + "; ".join(
        f"{md(e['user'])}: {md(e['kind'])} {md(e['to'] or '')}".strip() for e in by_others[-3:])
        + ". Read the history, then confirm to reply.")
    if st.button("I have seen the changes", key=f"reply_seen_ack_{ticket_id}"):
        st.session_state[key] = (options["version"], len(history))
        st.rerun()
    return seen[0]


def _run(label: str, action, *args) -> None:
    flash.act(flash.TICKET, label, action, *args)


def _replies(actor: Actor, options: dict) -> None:
    for reply in options["replies"]:
        state = STATE_LABELS.get(reply["status"], reply["status"])
        st.caption(f"Reply #{reply['id']} by {md(reply['written_by_name'])} · {state}"
                   + (f" · approved by {md(reply['approved_by_name'])}" if reply["approved_by_name"] else ""))
        st.text(reply["body"])
        if reply["published_url"] and web_url(reply["published_url"]):
            st.link_button("View on the network", web_url(reply["published_url"]))
        if reply["error"] and reply["status"] in ("failed", "queued"):
            (st.error if reply["status"] == "failed" else st.info)(f"{options['network']} said: {md(reply['error'])}")
        if reply["status"] == "failed" and st.button("Retry", key=f"reply_retry_{reply['id']}"):
            _run(f"reply #{reply['id']} queued again", replying.retry_reply, actor, reply["id"])
        if reply["status"] == "awaiting_approval" and options["may_approve"]:
            left, right = st.columns(2)
            if left.button("Approve and send", key=f"reply_approve_{reply['id']}"):
                _approve_and_send(actor, reply["id"])
            if right.button("Decline", key=f"reply_decline_{reply['id']}"):
                _run(f"reply #{reply['id']} declined", replying.decline_reply, actor, reply["id"], "declined")


def _approve_and_send(actor: Actor, reply_id: int) -> None:
    try:
        replying.approve_reply(data.settings(), actor, reply_id)
        outcome = publishing.publish_due(data.settings(), reply_id=reply_id)
        st.session_state[flash.TICKET] = ("success", f"reply #{reply_id} approved: {_said(outcome)}")
    except BrandpulseError as exc:
        st.session_state[flash.TICKET] = ("error", md(exc))
    data.clear_ticket_caches()
    st.rerun()


def _said(outcome) -> str:
    if outcome.get("published"):
        return "published"
    if outcome.get("failed"):
        return "the network refused it (see below)"
    return "queued; the publisher sends it shortly"


def render(actor: Actor, context: dict) -> None:
    """The reply area of ``context`` (care.ticket_context) for ``actor``."""
    settings, tid = data.settings(), context["ticket"]["id"]
    replying.viewing(settings, actor, tid)
    options = replying.reply_options(settings, actor, tid)
    if options["viewers"]:
        st.warning("Also open by " + ", ".join(md(v["username"]) for v in options["viewers"]))
    seen = _seen_version(actor, tid, options, context["history"])
    st.markdown("#### Reply to the customer")
    _replies(actor, options)
    if context["ticket"]["status"] in ("resolved", "dismissed"):
        st.caption("The ticket is closed; reopen it to reply.")
        return
    if options["blocked"]:
        st.info(md(options["blocked"]))
        _answered_elsewhere(actor, tid)
        return
    canned = context["canned_replies"]
    name = st.selectbox("Canned reply", ["(none)"] + list(canned), key=f"canned_{tid}")
    start = "" if name == "(none)" else care.render_canned(canned[name], care.canned_values(context, actor))
    with st.form(f"reply_form_{tid}_{name}", clear_on_submit=True):
        body = st.text_area(f"Reply as @{options['account']} on {options['network']}", value=start,
                            max_chars=options["max_chars"], height=110, key=f"reply_body_{tid}_{name}")
        label = "Send for approval" if options["approval_needed"] else "Send reply"
        send = st.form_submit_button(label, key=f"reply_send_{tid}")
        save = st.form_submit_button("Save as draft", key=f"reply_draft_{tid}")
    if send:
        _send(actor, tid, body, seen)
    elif save:
        _run("draft saved to the history", care.draft_reply, actor, tid, body)
    _answered_elsewhere(actor, tid)


def _send(actor: Actor, tid: int, body: str, seen: int) -> None:
    try:
        queued = replying.send_reply(data.settings(), actor, tid, body, seen)
        if queued["status"] == "queued":
            said = _said(publishing.publish_due(data.settings(), reply_id=queued["id"]))
        else:
            said = "waiting for a lead's approval"
        st.session_state[flash.TICKET] = ("success", f"reply #{queued['id']}: {said}")
    except BrandpulseError as exc:
        st.session_state[flash.TICKET] = ("error", md(exc))
    data.clear_ticket_caches()
    st.rerun()


def _answered_elsewhere(actor: Actor, tid: int) -> None:
    with st.expander("Answered outside brandpulse?"):
        with st.form(f"elsewhere_form_{tid}", clear_on_submit=True):
            how = st.text_input("How (e.g. DM on x.com, phone call)", key=f"elsewhere_how_{tid}")
            if st.form_submit_button("Record the first response", key=f"elsewhere_{tid}"):
                _run("first response recorded", replying.mark_answered_elsewhere, actor, tid, how)
