"""The care inbox in the dashboard (Streamlit AppTest): click a row to open it, the ticket stays open
while the list moves, the list refreshes alone without losing a typed note, search, filters, sort and
pages, a harmless "Move to", moving a ticket to another team, incidents as one row.

AppTest cannot click a dataframe row, but a keyed dataframe's selection is session state, which it
may set: the test writes the selection the browser sends and the app runs the same code path. The
browser's refresh timer re-runs only the list fragment; ``refresh_list`` does exactly that.
"""

from __future__ import annotations

import functools
import sys
import types
from datetime import timedelta
from unittest import mock

import pytest
import streamlit as st
import streamlit.testing.v1.local_script_runner as local_runner
from argon2 import PasswordHasher
from sqlmodel import select
from streamlit.testing.v1 import AppTest
from dashboard_session import signed_in

from brandpulse.services.accounts import change_user, create_user
from store.engine import session_scope
from store.models import Ticket, TicketEvent
from test_inbox_queries import CARE, make_incident, make_tickets

PASSWORD = "secret-pass-1"
# the store's questions run on both backends in test_inbox_queries; the UI once, on SQLite
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def desk(write_config, monkeypatch):
    monkeypatch.setattr("store.users._HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    settings = write_config(care=CARE)
    people = {name: create_user(settings, None, name, PASSWORD, role, team) for name, role, team in [
        ("ana", "care_agent", "care"), ("lee", "care_lead", "care"), ("vic", "care_agent", "vip"),
        ("root", "admin", None)]}
    st.cache_data.clear()
    st.cache_resource.clear()
    return settings, people


def inbox(username: str, **query) -> AppTest:
    """The dashboard's Care inbox, signed in as ``username`` (``query``: more of the address)."""
    app = signed_in(username, PASSWORD, {"page": "Care inbox", **query}, timeout=30)
    assert not app.exception, app.exception
    return app


def click_row(app: AppTest, index: int) -> AppTest:
    """Select one row of the inbox list, as a click in the browser does."""
    app.session_state[app.dataframe[0].key] = {"selection": {"rows": [index], "columns": []}}
    app.run()
    assert not app.exception, app.exception
    return app


def refresh_list(app: AppTest):
    """What the browser's timer does every few seconds: re-run the list fragment, nothing else.

    Returns what that run drew. The browser puts it in place of the old list and keeps the rest of
    the page (and every widget's state there): so does ``app`` for its next run.
    """
    page = app._tree
    fragments = list(app._fragment_storage._fragments)
    only_fragments = functools.partial(local_runner.RerunData, fragment_id_queue=fragments)
    with mock.patch.object(local_runner, "RerunData", only_fragments):
        app.run()
    assert not app.exception, app.exception
    drawn, app._tree = app._tree, page
    return drawn


def opened(app: AppTest) -> str:
    return next(h.value for h in app.subheader if h.value.startswith("Ticket #"))


def notices(app) -> list[str]:
    return [i.value for i in app.info if "new ticket" in i.value]


def history(url: str, ticket_id: int) -> list[tuple[str, str | None]]:
    with session_scope(url) as session:
        return [(e.kind, e.body or e.to_value) for e in session.exec(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id))]


@sqlite_only
def test_a_clicked_row_opens_its_ticket_which_stays_open_while_the_list_moves(desk, database_url):
    top, second, third = make_tickets(database_url, {"priority": 90}, {"priority": 80}, {"priority": 70})
    app = inbox("ana")
    assert app.session_state["open_ticket"] == top and opened(app).startswith(f"Ticket #{top} ")
    click_row(app, 2)
    assert app.session_state["open_ticket"] == third and app.query_params["ticket"] == str(third)
    assert opened(app).startswith(f"Ticket #{third} ")
    sla_before = list(app.dataframe[0].value["sla"])
    with session_scope(database_url) as session:  # the minute ticks, and more urgent tickets arrive
        for ticket in session.exec(select(Ticket)):
            ticket.first_response_due -= timedelta(minutes=1)
    make_tickets(database_url, {"priority": 99}, {"priority": 95})
    refresh_list(app)
    app.run()
    assert list(app.dataframe[0].value["sla"])[2:] != sla_before and len(app.dataframe[0].value) == 5
    assert opened(app).startswith(f"Ticket #{third} ")
    app.button(key="claim").click().run()
    assert f"ticket #{third} assigned to you" in app.success[0].value
    app.selectbox(key="inbox_status_open").set_value("new").run()  # the open ticket leaves the view
    assert third not in set(app.dataframe[0].value["ticket"]) and opened(app).startswith(f"Ticket #{third} ")
    app.text_area(key="note_body").set_value("called back")
    app.button(key="note_add").click().run()
    assert history(database_url, third)[-1] == ("note", "called back")
    linked = inbox("ana", ticket=str(second))  # a deep link opens that ticket
    assert linked.session_state["open_ticket"] == second and opened(linked).startswith(f"Ticket #{second} ")


@sqlite_only
def test_the_list_refreshes_alone_with_a_notice_and_a_typed_note_survives(desk, database_url):
    [first] = make_tickets(database_url, {"priority": 50})
    app = inbox("ana")
    assert not notices(app)
    app.text_area(key="note_body").set_value("half-written note")  # typed, not sent
    make_tickets(database_url, {"priority": 10}, {"priority": 20}, {"priority": 30}, {"team": "vip"})
    drawn = refresh_list(app)
    assert notices(drawn) == ["3 new tickets since you last looked (marked new in the list)"]
    assert len(drawn.dataframe) == 1 and not drawn.text_area and not drawn.subheader  # the list only
    assert list(drawn.dataframe[0].value["ticket"][1:]) == [f"#{first + n} · new" for n in (3, 2, 1)]
    # the ticket and its form were not redrawn: the typed note is still there, and goes to that ticket
    assert app.text_area(key="note_body").value == "half-written note"
    app.button(key="note_add").click().run()
    assert opened(app).startswith(f"Ticket #{first} ")
    assert history(database_url, first)[-1] == ("note", "half-written note")
    app.button(key="inbox_seen_ack").click().run()
    assert not notices(app) and "· new" not in "".join(app.dataframe[0].value["ticket"])


@sqlite_only
def test_search_filters_sort_and_pages_show_every_ticket_with_counts(desk, database_url):
    make_tickets(database_url, *({"priority": 40 + i % 50, "minutes_ago": 100 + i} for i in range(53)),
                 {"priority": 5, "text": "Nimbus Mobile 100% refund_please", "minutes_ago": 9000, "due_in": -10},
                 {"priority": 6, "network": "reddit", "handle": "carla", "intent": "question"})
    app = inbox("lee")
    pager = lambda: next(c.value for c in app.caption if c.value.startswith("showing"))  # noqa: E731
    assert pager() == "showing 1-50 of 55 (55 tickets) · page 1 of 2" and len(app.dataframe[0].value) == 50
    app.button(key="inbox_next").click().run()
    assert pager() == "showing 51-55 of 55 (55 tickets) · page 2 of 2" and len(app.dataframe[0].value) == 5
    app.text_input(key="inbox_search").set_value("100% refund_").run()
    assert pager().startswith("showing 1-1 of 1 ") and "refund_please" in app.dataframe[0].value["text"][0]
    app.text_input(key="inbox_search").set_value("@CARLA").run()
    assert list(app.dataframe[0].value["author"]) == ["carla"]
    app.text_input(key="inbox_search").set_value("").run()
    app.selectbox(key="inbox_network").set_value("reddit").run()
    assert list(app.dataframe[0].value["network"]) == ["reddit"]
    app.selectbox(key="inbox_network").set_value("all").run()
    app.checkbox(key="inbox_breached").check().run()
    assert list(app.dataframe[0].value["sla"].str[:8]) == ["BREACHED"]
    app.checkbox(key="inbox_breached").uncheck().run()
    app.selectbox(key="inbox_sort_open").set_value("oldest").run()
    posted = list(app.dataframe[0].value["posted_at"])
    assert posted == sorted(posted) and "refund_please" in app.dataframe[0].value["text"][0]


@sqlite_only
def test_move_to_starts_with_no_choice_and_submitting_it_changes_nothing(desk, database_url):
    [ticket] = make_tickets(database_url, {"status": "assigned", "assignee_id": desk[1]["ana"].id})
    app = inbox("ana")
    move = app.selectbox(key="status_to")
    assert move.value is None and move.options[-2:] == ["dismissed", "resolved"]
    assert move.options[:3] == ["in_progress", "new", "waiting_customer"]
    app.button(key="status_apply").click().run()
    assert "nothing was changed" in app.warning[0].value
    assert history(database_url, ticket) == [("created", "care")]
    assert not [s for s in app.selectbox if s.key == "team_to"]  # agents do not move tickets between teams


@sqlite_only
def test_a_lead_moves_a_ticket_to_another_team_from_its_page(desk, database_url):
    settings, people = desk
    [ticket] = make_tickets(database_url, {"status": "assigned", "assignee_id": people["ana"].id})
    app = inbox("lee")
    assert not app.warning  # every team has a member
    assert app.selectbox(key="team_to").options == ["vip"] and app.selectbox(key="team_to").value is None
    app.selectbox(key="team_to").set_value("vip")
    app.button(key="team_apply").click().run()
    assert f"ticket #{ticket} moved to team vip" in app.success[0].value
    assert history(database_url, ticket)[-2:] == [("team", "vip"), ("assigned", "ana is not in team vip")]
    change_user(settings, people["root"], people["vic"].id, active=False)
    app.run()
    assert "care.routing[0] sends tickets to team 'vip'" in app.warning[0].value.replace("\\", "")  # md-escaped


@sqlite_only
def test_an_incident_is_one_row_that_opens_the_incident_page(desk, database_url, monkeypatch):
    incident = make_incident(database_url, "Outage in the north")
    make_tickets(database_url, *({"incident_id": incident, "priority": 90} for _ in range(3)), {"priority": 20})
    page = types.ModuleType("dashboard.views.incident")
    page.render = lambda actor, incident_id: st.text(f"incident page #{incident_id} for {actor.username}")
    import dashboard.views

    monkeypatch.setitem(sys.modules, "dashboard.views.incident", page)
    monkeypatch.setattr(dashboard.views, "incident", page, raising=False)
    app = inbox("lee")
    frame = app.dataframe[0].value
    assert list(frame["ticket"])[0] == f"incident #{incident} · 3 tickets" and len(frame) == 2
    assert frame["text"][0] == "Outage in the north" and frame["status"][0] == "open"
    assert f"incident page #{incident} for lee" in [t.value for t in app.text]  # the top row opens itself
    click_row(app, 1)
    assert app.session_state["open_ticket"] and "open_incident" not in app.session_state
    click_row(app, 0)
    assert app.session_state["open_incident"] == incident and app.query_params["incident"] == str(incident)
    assert f"incident page #{incident} for lee" in [t.value for t in app.text]


def test_without_the_incident_page_an_incident_row_says_so(monkeypatch):
    import dashboard.views

    monkeypatch.setitem(sys.modules, "dashboard.views.incident", None)  # as if the module were missing
    monkeypatch.delattr(dashboard.views, "incident", raising=False)

    def script():
        from dashboard.views.inbox import _incident

        _incident(None, 7)

    app = AppTest.from_function(script).run()
    assert not app.exception and app.caption[0].value.startswith("Incident #7: the incident page is not")
