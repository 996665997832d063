"""Answering customers from a ticket: checks before the agent types, approvals, collisions, the SLA clock."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from brandpulse.services import care, replying
from brandpulse.services.accounts import create_user
from brandpulse.core.errors import AccessDeniedError, StaleTicketError, WorkflowError
from brandpulse.services.pipeline import analyze_pending
from brandpulse.services.triage import triage_new
from store.engine import session_scope
from store.models import Reply, Ticket
from tests.test_care import NOW, post

ACCOUNTS = [{"id": "nimbus_x", "brand": "Nimbus Mobile", "network": "x", "handle": "NimbusMobile"},
            {"id": "nimbus_masto", "brand": "Nimbus Mobile", "network": "mastodon", "handle": "nimbus",
             "base_url": "https://social.example"}]


def _care(approval: bool = False) -> dict:
    return {"teams": [{"name": "care", "first_response_minutes": 60, "auto_assign": False, "approval": approval}],
            "default_team": "care", "reply_accounts": ACCOUNTS}


@pytest.fixture
def team(write_config):
    def build(approval: bool = False):
        settings = write_config(care=_care(approval))
        people = {name: create_user(settings, None, name, "secret-pass-1", role, "care")
                  for name, role in [("ana", "care_agent"), ("lee", "care_lead"), ("bob", "care_agent")]}
        return settings, people
    return build


def _ticket(settings, database_url, text, *, network="x", minutes_ago=5, native="1") -> int:
    post(database_url, native, text, network=network, minutes_ago=minutes_ago)
    analyze_pending(settings)
    triage_new(settings, now=NOW)
    with session_scope(database_url) as session:
        return session.execute(select(Ticket.id).order_by(Ticket.id.desc())).scalars().first()


def test_the_clock_starts_when_the_customer_posted(team, database_url):
    settings, people = team()
    tid = _ticket(settings, database_url, "Nimbus Mobile charged me twice, terrible", minutes_ago=3 * 24 * 60)
    with session_scope(database_url) as session:
        ticket = session.get(Ticket, tid)
        assert ticket.posted_at == NOW - timedelta(days=3)
        assert ticket.first_response_due == ticket.posted_at + timedelta(minutes=60)
    [row] = care.inbox(settings, people["ana"], "all teams")
    assert row["breached"] and row["sla"].startswith("BREACHED: reply 2d 23h")


def test_x_restriction_is_explained_before_the_agent_types(team, database_url):
    settings, people = team()
    tid = _ticket(settings, database_url, "Nimbus Mobile is down again, awful service")
    options = replying.reply_options(settings, people["ana"], tid)
    assert options["account"] == "NimbusMobile" and options["max_chars"] == 280
    assert "mention @NimbusMobile" in options["blocked"]
    with pytest.raises(WorkflowError, match="X lets the API reply only"):
        replying.send_reply(settings, people["ana"], tid, "Sorry!", options["version"])
    with session_scope(database_url) as session:
        assert session.execute(select(Reply)).first() is None


def test_no_account_on_a_network_says_what_to_configure(team, database_url):
    settings, people = team()
    tid = _ticket(settings, database_url, "Nimbus Mobile refund never came, awful", network="reddit")
    assert "no reply account on reddit" in replying.reply_options(settings, people["ana"], tid)["blocked"]


def test_a_reply_goes_to_the_outbox_with_its_history_and_stale_sends_are_refused(team, database_url):
    settings, people = team()
    ana, bob = people["ana"], people["bob"]
    tid = _ticket(settings, database_url, "@NimbusMobile my bill doubled, this is awful")
    opened = replying.reply_options(settings, ana, tid)["version"]
    assert opened == replying.reply_options(settings, bob, tid)["version"]
    replying.viewing(settings, bob, tid)
    assert [v["username"] for v in replying.reply_options(settings, ana, tid)["viewers"]] == ["bob"]
    care.add_note(settings, bob, tid, "I am on it")  # bob changes the ticket after ana opened it
    with pytest.raises(StaleTicketError, match="changed since you opened it"):
        replying.send_reply(settings, ana, tid, "Sorry about that, we are on it", opened)
    with pytest.raises(WorkflowError, match="allows 280"):
        replying.send_reply(settings, ana, tid, "x" * 281, opened + 1)
    sent = replying.send_reply(settings, ana, tid, "  Sorry about that, we are on it  ", opened + 1)
    assert sent["status"] == "queued"
    with session_scope(database_url) as session:
        reply = session.get(Reply, sent["id"])
        assert (reply.body, reply.account, reply.network, reply.attempts) == (
            "Sorry about that, we are on it", "nimbus_x", "x", 0)
        assert len(reply.idempotency_key) == 32
        assert session.get(Ticket, tid).first_response_at is None  # queued is not answered
    kinds = [(e["kind"], e["user"], e["to"]) for e in care.ticket_context(settings, ana, tid)["history"]]
    assert kinds[-1] == ("reply", "ana", "queued")


def test_a_team_with_approval_holds_agent_replies_for_a_lead(team, database_url):
    settings, people = team(approval=True)
    ana, lee = people["ana"], people["lee"]
    tid = _ticket(settings, database_url, "@NimbusMobile no signal since Monday, awful")
    options = replying.reply_options(settings, ana, tid)
    assert options["approval_needed"] and not options["may_approve"]
    held = replying.send_reply(settings, ana, tid, "We are sorry, a fix is coming", options["version"])
    assert held["status"] == "awaiting_approval"
    with pytest.raises(AccessDeniedError):
        replying.approve_reply(settings, ana, held["id"])
    assert not replying.reply_options(settings, lee, tid)["approval_needed"]  # a lead's own reply goes out
    replying.approve_reply(settings, lee, held["id"])
    with pytest.raises(WorkflowError, match="not awaiting approval"):
        replying.decline_reply(settings, lee, held["id"], "too late")
    second = replying.send_reply(settings, ana, tid, "Another one",
                                 replying.reply_options(settings, ana, tid)["version"])
    replying.decline_reply(settings, lee, second["id"], "we promised no dates")
    with session_scope(database_url) as session:
        states = {r.id: (r.status, r.approved_by) for r in session.execute(select(Reply)).scalars()}
    assert states == {held["id"]: ("queued", lee.id), second["id"]: ("declined", lee.id)}
    history = care.ticket_context(settings, ana, tid)["history"]
    assert ("declined", "lee", "we promised no dates") in [(e["kind"], e["user"], e["body"]) for e in history]


def test_closing_without_a_reply_shows_as_such_and_an_outside_answer_stops_the_clock(team, database_url):
    settings, people = team()
    ana = people["ana"]
    first = _ticket(settings, database_url, "Nimbus Mobile charged me twice, awful", native="1")
    second = _ticket(settings, database_url, "Nimbus Mobile dropped my calls, awful", native="2")
    care.set_status(settings, ana, first, "in_progress")
    care.set_status(settings, ana, first, "resolved", "fixed on our side")
    assert care.ticket_context(settings, ana, first)["sla"].summary() == "closed without a reply"
    with pytest.raises(WorkflowError, match="say how"):
        replying.mark_answered_elsewhere(settings, ana, second, "  ")
    replying.mark_answered_elsewhere(settings, ana, second, "phone call")
    context = care.ticket_context(settings, ana, second)
    assert context["ticket"]["first_response_at"] is not None
    assert context["sla"].summary().startswith("resolve in")
