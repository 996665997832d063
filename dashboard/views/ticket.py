"""One ticket: the grievance (as text), priority explained, SLA, actions, history, customer timeline."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from brandpulse.services import care, customers
from brandpulse.services.access import Actor, may
from dashboard import data, flash
from dashboard.erased import marked
from dashboard.safe import md, web_url
from dashboard.views import reply
from store.ticket_actions import TRANSITIONS
from store.tickets import CLOSED_STATUSES



def _act(label: str, action, *args) -> None:
    """Run a care action and show its outcome on the redrawn ticket (see dashboard.flash)."""
    flash.act(flash.TICKET, label, action, *args)


def render(actor: Actor, ticket_id: int) -> None:
    context = care.ticket_context(data.settings(), actor, ticket_id)
    context["mentions"] = marked(context["mentions"])  # erased posts read [erased]
    context["customer"]["mentions"] = marked(context["customer"]["mentions"])
    ticket, sla = context["ticket"], context["sla"]
    flash.show(flash.TICKET)
    st.subheader(f"Ticket #{ticket['id']} · {ticket['status'].replace('_', ' ')}")
    cols = st.columns([1, 3, 1.5, 1.5])  # the SLA reading ("BREACHED: reply 1d 2h 5m late") needs room
    cols[0].metric("Priority", f"{ticket['priority']:.0f}")
    cols[1].metric("SLA", sla.summary())
    cols[2].metric("Team", md(ticket["team"]))
    cols[3].metric("Assignee", md(context["assignee"] or "unassigned"))
    for mention in context["mentions"]:
        st.text(f"{mention['network']} · @{mention['author'] or '?'} · {mention['created_at']:%Y-%m-%d %H:%M} "
                   f"UTC · {mention['sentiment'] or 'unscored'}"
                   + ("" if mention["reason"] == "opened" else f" · merged: {mention['reason']}"))
        st.text(mention["text"])  # literal: never Markdown or HTML
        _post_link("Open original post", mention["url"])
    with st.expander("Why this priority?"):
        explanation = pd.DataFrame(sorted(ticket["priority_explanation"].items(), key=lambda kv: -kv[1]),
                                   columns=["signal", "points"])
        st.bar_chart(explanation, x="signal", y="points")
    _actions(actor, context)
    st.markdown("#### History")
    st.dataframe(pd.DataFrame(context["history"]), hide_index=True, width="stretch")
    _customer(actor, context)


def _post_link(label: str, url: str | None) -> None:
    """A button to a post's web address; any other link (javascript:, data:...) is shown as text."""
    if web_url(url):
        st.link_button(label, web_url(url))
    elif url:
        st.text(f"link (not a web address, not opened): {url}")


def _actions(actor: Actor, context: dict) -> None:
    ticket = context["ticket"]
    tid = ticket["id"]
    left, right = st.columns(2)
    with left:
        if ticket["assignee_id"] != actor.id and ticket["status"] not in ("resolved", "dismissed"):
            if st.button("Assign to me", key="claim"):
                _act(f"ticket #{tid} assigned to you", care.claim, actor, tid)
        if may(actor, "ticket.assign_others") and context["team_members"]:
            members = {m["id"]: m["username"] for m in context["team_members"]}
            who = st.selectbox("Assign to", list(members), key="assign_to", format_func=members.get)
            if st.button("Assign", key="assign"):
                _act(f"ticket #{tid} assigned to {md(members[who])}", care.assign, actor, tid, who)
        with st.form("status_form", clear_on_submit=True):
            status = st.selectbox("Move to", _next_statuses(ticket["status"]), index=None,
                                  placeholder="choose a status", key="status_to")
            why = st.text_input("Reason (optional)", key="status_note")
            if st.form_submit_button("Update status", key="status_apply"):
                if status is None:
                    st.warning("Choose a status to move the ticket to; nothing was changed.")
                else:
                    _act(f"ticket #{tid} is now {md(status)}", care.set_status, actor, tid, status, why)
        _move_team(actor, context)
    with right:
        with st.form("note_form", clear_on_submit=True):
            note = st.text_area("Internal note", key="note_body", height=80)
            if st.form_submit_button("Add note", key="note_add"):
                _act("note added", care.add_note, actor, tid, note)
        reply.render(actor, context)


def _next_statuses(status: str) -> list[str]:
    """Where a ticket may go from ``status``: the closing moves (resolved, dismissed) last."""
    return sorted(TRANSITIONS.get(status, ()), key=lambda s: (s in CLOSED_STATUSES, s))


def _move_team(actor: Actor, context: dict) -> None:
    """Leads and admins: give the ticket to another team (its SLA restarts with that team's targets)."""
    ticket = context["ticket"]
    others = [t.name for t in data.settings().care.teams if t.name != ticket["team"]]
    if not may(actor, "ticket.move_team") or not others or ticket["status"] in CLOSED_STATUSES:
        return
    with st.form("team_form", clear_on_submit=True):
        team = st.selectbox("Move to team", others, index=None, placeholder="choose a team", key="team_to")
        if st.form_submit_button("Move team", key="team_apply"):
            if team is None:
                st.warning("Choose a team to move the ticket to; nothing was changed.")
            else:
                _act(f"ticket #{ticket['id']} moved to team {md(team)}", care.move_team, actor, ticket["id"], team)


def _properties(properties: dict) -> str:
    """An event's key facts as one line of plain text (the first few scalar properties)."""
    facts = [f"{k}: {v}" for k, v in properties.items() if isinstance(v, (str, int, float, bool))][:5]
    return ", ".join(facts)[:300]


def _events(actor: Actor, ticket_id: int) -> list[dict]:
    """The customer's events from other systems (orders, visits, chats, CRM cases), as timeline rows."""
    return [{"when": e["at"], "who": f"from {e['source'] or 'another system'}", "network": "",
             "what": f"event · {e['type']}", "text": _properties(e["properties"] or {})}
            for e in customers.timeline_for_ticket(data.settings(), actor, ticket_id, kinds=("event",))]


def _timeline(context: dict, events: list[dict] = ()) -> list[dict]:
    """The customer's posts (this ticket's and earlier ones), the brand's replies and the events
    other systems sent about them, newest first."""
    posts = [{"when": m["created_at"], "who": f"@{m['author'] or '?'}", "network": m["network"],
              "what": "post" if m in context["mentions"] else f"post · {m.get('sentiment') or 'unscored'}",
              "text": m["text"]} for m in context["mentions"] + context["customer"]["mentions"]]
    replies = [{"when": r["at"], "who": f"brand ({r['account']})", "network": r["network"],
                "what": f"reply · {r['status']}" + (f" on #{r['ticket_id']}" if r["ticket_id"] != context["ticket"]["id"]
                                                   else ""), "text": r["body"]}
               for r in context["customer"].get("replies", [])]
    return sorted(posts + replies + list(events), key=lambda row: row["when"], reverse=True)


def _customer(actor: Actor, context: dict) -> None:
    customer = context["customer"]
    st.markdown("#### Customer timeline")
    authors = customer["authors"]
    st.text("Known as: " + (", ".join(f"@{a['handle']} on {a['network']}" for a in authors) or "unknown"))
    timeline = _timeline(context, _events(actor, context["ticket"]["id"]))
    if timeline:
        st.dataframe(pd.DataFrame(timeline), hide_index=True, width="stretch",
                     column_config={"text": st.column_config.TextColumn(width="large")})
    if not customer["mentions"]:
        st.caption("No earlier posts from this customer.")
    if customer["tickets"]:
        st.dataframe(pd.DataFrame(customer["tickets"])[["id", "created_at", "network", "status", "resolved_at",
                                                        "last_note", "text"]],
                     hide_index=True, width="stretch")
    else:
        st.caption("No other tickets from this customer.")
    if customer.get("tickets_elsewhere"):
        st.caption(f"{customer['tickets_elsewhere']:d} more tickets of this customer belong to other teams.")
    if not may(actor, "customer.link") or not context["ticket"]["author_id"]:
        return
    with st.expander("Link another account of this customer"):
        handle = st.text_input("Handle or name", key="link_search")
        found = [a for a in care.find_authors(data.settings(), actor, handle)
                 if a["id"] not in {x["id"] for x in authors}]
        if found:
            labels = {a["id"]: f"@{a['handle']} on {a['network']} ({a['followers'] or 0:,} followers)"
                      for a in found}
            other = st.selectbox("Same person as", list(labels), key="link_author", format_func=labels.get)
            if st.button("Link as the same customer", key="link_apply"):
                _act(f"linked {md(labels[other])}", care.link_customer, actor, context["ticket"]["id"], other)
        elif handle:
            st.caption("No other author matches.")
