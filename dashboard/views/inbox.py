"""Care inbox: a live list of a view's tickets (searched, filtered, sorted, paged; an incident is one
row), refreshed every few seconds, and the ticket (or incident) clicked open below it.

The open ticket is kept by its id (session state and ``?ticket=``), never by a row position or a
label, so it stays open while the list moves. The list is a fragment: its refresh never redraws
the ticket below, so nothing the agent is typing there is lost.
"""

from __future__ import annotations

import hashlib
from typing import get_args

import pandas as pd
import streamlit as st

from brandpulse.services import care
from brandpulse.services.access import Actor, may, may_reach_ticket
from brandpulse.core.errors import BrandpulseError
from brandpulse.core.settings_care import Network
from dashboard import data
from dashboard.erased import marked
from dashboard.safe import md
from dashboard.views import ticket
from store.tickets import CLOSED_STATUSES, OPEN_STATUSES

REFRESH_SECONDS = 5  # how often the list looks for new tickets
BULK_STATUSES = ("in_progress", "waiting_customer", "resolved", "dismissed")
OPEN_TICKET, OPEN_INCIDENT = "open_ticket", "open_incident"
ALL = "all"


def render(actor: Actor) -> None:
    st.header("Care inbox")
    settings = data.settings()
    if may(actor, "ticket.move_team"):
        try:
            care.check_teams_have_members(settings)
        except BrandpulseError as exc:
            st.warning(md(exc))
    default_view = care.VIEWS.index("my team" if actor.team else "all teams")
    view = st.radio("Show", care.VIEWS, index=default_view, horizontal=True, key="inbox_view")
    filters = _filters(actor, settings, view)
    _open_from_link()
    _live_list(actor, view, filters)
    st.divider()
    _open_panel(actor)


def _choice(column, label: str, options, key: str) -> str | None:
    chosen = column.selectbox(label, [ALL, *options], key=key)
    return None if chosen == ALL else chosen


def _filters(actor: Actor, settings, view: str) -> care.InboxFilters:
    """Search, filters and sort of the view (outside the refreshing list: a change redraws the page)."""
    closed = view == "recently closed"
    kind = "closed" if closed else "open"  # each kind keeps its own status and sort choice
    top = st.columns([3, 1])
    search = top[0].text_input("Search posts and handles", key="inbox_search", placeholder="text or @handle")
    top[1].number_input("Open ticket #", min_value=1, step=1, value=None, key="goto_ticket",
                        on_change=_go_to_ticket)
    cols = st.columns(7)
    status = _choice(cols[0], "Status", CLOSED_STATUSES if closed else OPEN_STATUSES, f"inbox_status_{kind}")
    brand = _choice(cols[1], "Brand", [b["name"] for b in data.brands() if not b["is_competitor"]], "inbox_brand")
    network = _choice(cols[2], "Network", get_args(Network), "inbox_network")
    intent = _choice(cols[3], "Intent", settings.care.ticket_intents, "inbox_intent")
    team = _choice(cols[4], "Team", [t.name for t in settings.care.teams], "inbox_team") \
        if may_reach_ticket(actor, None) else None
    sorts = list(care.SORTS)
    sort = cols[5].selectbox("Sort by", sorts, index=sorts.index("updated" if closed else "priority"),
                             format_func=care.SORTS.get, key=f"inbox_sort_{kind}")
    breached = cols[6].checkbox("SLA breached only", key="inbox_breached")
    return care.InboxFilters(search=search.strip(), status=status, brand=brand, network=network, intent=intent,
                             team=team, breached_only=breached, sort=sort)


def _open(kind: str, item_id: int) -> None:
    """Open a ticket or an incident below the list, and say so in the address (?ticket= / ?incident=)."""
    mine, other = (OPEN_TICKET, OPEN_INCIDENT) if kind == "ticket" else (OPEN_INCIDENT, OPEN_TICKET)
    st.session_state[mine] = item_id
    st.session_state.pop(other, None)
    st.query_params[mine.removeprefix("open_")] = str(item_id)
    st.query_params.pop(other.removeprefix("open_"), None)


def _go_to_ticket() -> None:
    wanted = st.session_state.get("goto_ticket")
    if wanted:
        _open("ticket", int(wanted))
    st.session_state["goto_ticket"] = None


def _open_from_link() -> None:
    """A deep link (?ticket=12 or ?incident=3) opens that item, once, when nothing is open yet."""
    if OPEN_TICKET in st.session_state or OPEN_INCIDENT in st.session_state:
        return
    for kind in ("ticket", "incident"):
        wanted = st.query_params.get(kind)
        if wanted and wanted.isdigit() and len(wanted) < 12:
            _open(kind, int(wanted))
            return


def _frame(rows: list[dict], seen: int | None) -> pd.DataFrame:
    rows = marked(rows, by="ticket", only=lambda row: row.get("kind") != "incident")
    def label(row: dict) -> str:
        if row["kind"] == "incident":
            return f"incident #{row['id']} · {row['tickets']} tickets"
        return f"#{row['id']}" + (" · new" if seen is not None and row["id"] > seen else "")

    frame = pd.DataFrame(rows)
    frame.insert(0, "ticket", [label(row) for row in rows])
    return frame[["ticket", "priority", "sla", "status", "assignee", "team", "intent", "brand", "network",
                  "author", "posted_at", "text"]]


@st.fragment(run_every=REFRESH_SECONDS)
def _live_list(actor: Actor, view: str, filters: care.InboxFilters) -> None:
    """The list: re-runs alone every REFRESH_SECONDS, and on its own buttons and row clicks."""
    if st.session_state.get("inbox_query") != (view, filters):  # another view or filter: back to page 1
        st.session_state["inbox_query"] = (view, filters)
        st.session_state["inbox_page"] = 1
    seen = st.session_state.get("inbox_seen")
    result = care.inbox_page(data.settings(), actor, view, filters, page=st.session_state["inbox_page"],
                             seen_up_to=seen)
    if seen is None:  # the first look: everything listed now counts as seen
        st.session_state["inbox_seen"] = seen = result["newest_id"]
    st.session_state["inbox_page"] = result["page"]
    _flash()
    counts = data.tickets_by_status()
    st.caption(" · ".join(f"{status}: {count}" for status, count in sorted(counts.items()))
               + f" · SLA breached in this view: {result['breached']}")
    if result["new"]:
        notice, ack = st.columns([5, 1])
        notice.info(f"{result['new']} new ticket{'s' * (result['new'] != 1)} since you last looked "
                    "(marked new in the list)")
        ack.button("Mark as seen", key="inbox_seen_ack", on_click=_remember, args=("inbox_seen", result["newest_id"]))
    rows = result["rows"]
    st.session_state["inbox_top"] = (rows[0]["kind"], rows[0]["id"]) if rows else None
    if not rows:
        st.info("No tickets in this view." + (" Clear a filter to see more." if filters != care.InboxFilters(
            sort=filters.sort) else ""))
        return
    items = [(row["kind"], row["id"]) for row in rows]
    # the key names exactly this list: a selected row position always means a row of this list
    key = "inbox_rows_" + hashlib.sha1(repr(items).encode()).hexdigest()[:16]
    event = st.dataframe(_frame(rows, seen), key=key, on_select="rerun", selection_mode="single-row",
                         hide_index=True, width="stretch", column_config={
                             "ticket": st.column_config.TextColumn(width="medium"),
                             "priority": st.column_config.ProgressColumn("priority", min_value=0, max_value=100,
                                                                         format="%.0f"),
                             "posted_at": st.column_config.DatetimeColumn("posted", format="YYYY-MM-DD HH:mm"),
                             "text": st.column_config.TextColumn(width="large")})
    _pick(key, items, list(event.selection.rows))
    _pager(result)
    if may(actor, "ticket.bulk"):
        _bulk_actions(actor, [row["id"] for row in rows if row["kind"] == "ticket"])


def _pick(key: str, items: list[tuple[str, int]], selected: list[int]) -> None:
    """Open the clicked row's ticket or incident (each click once) and redraw the page below."""
    if not selected:
        st.session_state.pop("inbox_picked", None)
        return
    if st.session_state.get("inbox_picked") == (key, selected[0]) or selected[0] >= len(items):
        return
    st.session_state["inbox_picked"] = (key, selected[0])
    _open(*items[selected[0]])
    st.rerun()  # the whole page: the opened ticket lives outside this fragment


def _pager(result: dict) -> None:
    left, middle, right = st.columns([1, 4, 1])
    middle.caption(f"showing {result['first']:,}-{result['last']:,} of {result['total']:,} "
                   f"({result['tickets']:,} tickets) · page {result['page']} of {result['pages']}")
    left.button("Previous", key="inbox_previous", disabled=result["page"] <= 1, on_click=_remember,
                args=("inbox_page", result["page"] - 1))
    right.button("Next", key="inbox_next", disabled=result["page"] >= result["pages"], on_click=_remember,
                 args=("inbox_page", result["page"] + 1))


def _remember(key: str, value) -> None:
    """A button's callback: runs before the list is drawn again, whichever run that is."""
    st.session_state[key] = value


def _flash() -> None:
    outcome = st.session_state.pop("bulk_flash", None)
    if outcome:
        done = [i for i, result in outcome.items() if result == "ok"]
        st.success(f"{len(done)} of {len(outcome)} tickets updated")
        for ticket_id, result in outcome.items():
            if result != "ok":
                st.warning(f"#{ticket_id}: {md(result)}")


def _bulk_actions(actor: Actor, ids: list[int]) -> None:
    with st.expander("Bulk actions"):
        picked = [i for i in st.session_state.get("bulk_tickets", []) if i not in ids]
        chosen = st.multiselect("Tickets", ids + picked, key="bulk_tickets", format_func=lambda i: f"#{i}")
        action = st.selectbox("Action", ["set status", "assign to"], key="bulk_action")
        if action == "set status":
            value = st.selectbox("Status", BULK_STATUSES, index=None, placeholder="choose a status",
                                 key="bulk_status")
        else:
            members = {m["id"]: m["username"] for m in data.care_members()}
            value = st.selectbox("Agent", list(members), index=None, placeholder="choose an agent",
                                 key="bulk_assignee", format_func=members.get)
        if st.button("Apply to selected", key="bulk_apply", disabled=not chosen or value is None):
            st.session_state["bulk_flash"] = care.bulk(data.settings(), actor, chosen, "status"
                                                       if action == "set status" else "assign", value)
            data.clear_ticket_caches()
            st.rerun()


def _open_panel(actor: Actor) -> None:
    """The open incident or ticket; with nothing open yet, the list's top row."""
    if OPEN_TICKET not in st.session_state and OPEN_INCIDENT not in st.session_state:
        top = st.session_state.get("inbox_top")
        if top is None:
            st.caption("Click a row to open its ticket.")
            return
        _open(*top)
    if OPEN_INCIDENT in st.session_state:
        _incident(actor, st.session_state[OPEN_INCIDENT])
        return
    ticket_id = st.session_state[OPEN_TICKET]
    try:
        ticket.render(actor, ticket_id)
    except BrandpulseError as exc:  # gone, or out of reach: say so, and let the next run open another
        st.error(f"Ticket #{ticket_id:d} cannot be opened: {md(exc)}")
        st.session_state.pop(OPEN_TICKET, None)
        st.query_params.pop("ticket", None)


def _incident(actor: Actor, incident_id: int) -> None:
    try:
        from dashboard.views import incident
    except ModuleNotFoundError as exc:
        if exc.name != "dashboard.views.incident":
            raise
        st.caption(f"Incident #{incident_id:d}: the incident page is not part of this version yet.")
        return
    incident.render(actor, incident_id)
