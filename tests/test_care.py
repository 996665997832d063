"""Care workflow on real databases: routing, SLA clocks, merging, role checks, history, timeline."""

from datetime import datetime, timedelta, timezone

import pytest

from brandpulse.services import care
from brandpulse.services.access import Actor, pages_for, require
from brandpulse.services.accounts import change_user, create_user, log_in
from brandpulse.core.errors import AccessDeniedError, BrandpulseError, WorkflowError
from brandpulse.services.pipeline import analyze_pending
from brandpulse.core.records import AuthorRecord, MentionRecord
from brandpulse.core.settings_care import BusinessHours, CareSettings, RoutingRule, TeamSettings
from brandpulse.services.sla import add_working_time, sla_status
from brandpulse.services.triage import route, triage_new
from store.engine import session_scope
from store.mentions import save_mentions
from store.tickets import TicketCandidate

NOW = datetime.now(timezone.utc).replace(microsecond=0)
CARE = {"ticket_intents": ["complaint", "question"], "default_team": "care",
        "teams": [{"name": "care", "first_response_minutes": 60, "resolution_hours": 24, "auto_assign": False},
                  {"name": "vip", "first_response_minutes": 15, "resolution_hours": 4}],
        "routing": [{"team": "vip", "influence_tier": "mid"}],
        "canned_replies": {"sorry": "Hi @{author}, sorry! {brand} will fix it. ^{agent} (#{ticket})"}}


def post(url, native_id, text, *, handle="dana", network="x", followers=50, conversation=None,
         minutes_ago=5):
    record = MentionRecord(network=network, native_id=native_id, text=text, brands=["Nimbus Mobile"],
                           created_at=NOW - timedelta(minutes=minutes_ago), conversation_id=conversation,
                           url=f"https://{network}.example/{native_id}",
                           author=AuthorRecord(network, f"{network}-{handle}", handle=handle,
                                               followers=followers))
    with session_scope(url) as session:
        save_mentions(session, [record])


@pytest.fixture
def desk(write_config, database_url):
    """Settings with two teams, and an agent, a lead, a VIP agent, marketing and an admin."""
    settings = write_config(care=CARE)
    people = {name: create_user(settings, None, name, "secret-pass-1", role, team) for name, role, team in [
        ("ana", "care_agent", "care"), ("lee", "care_lead", "care"), ("vic", "care_agent", "vip"),
        ("mia", "marketing", None), ("root", "admin", None)]}
    return settings, people


def candidate(**changes):
    fields = dict(mention_id=1, brand_id=1, brand="Nimbus Mobile", author_id=1, followers=10, network="x",
                  language="en", created_at=NOW, likes=0, replies=0, reposts=0, complaint=True,
                  complaint_score=0.9, sentiment_negative=0.8, severity=None, primary_intent="complaint",
                  entities=[{"text": "billing", "label": "ASPECT"}])
    return TicketCandidate(**{**fields, **changes})


def test_routing_matches_every_given_field_first_rule_wins():
    settings = CareSettings(teams=[TeamSettings(name=n) for n in ("care", "billing", "vip", "es")],
                            routing=[RoutingRule(team="vip", influence_tier="macro"),
                                     RoutingRule(team="billing", aspect="billing", network="x"),
                                     RoutingRule(team="es", language="es")])
    assert route(settings, candidate()) == "billing"
    assert route(settings, candidate(network="reddit")) == "care"
    assert route(settings, candidate(followers=600_000)) == "vip"  # macro and above
    assert route(settings, candidate(followers=400_000)) == "billing"  # mid is below macro
    assert route(settings, candidate(entities=[], language="es")) == "es"


def test_sla_clock_only_runs_in_business_hours():
    hours = BusinessHours(days=["mon", "tue", "wed", "thu", "fri"], start="09:00", end="17:00",
                          timezone="Europe/Berlin")
    friday_evening = datetime(2026, 11, 20, 15, 30, tzinfo=timezone.utc)  # 16:30 in Berlin
    due = add_working_time(friday_evening, 60, hours)  # 30 min on Friday, 30 on Monday
    assert due == datetime(2026, 11, 23, 8, 30, tzinfo=timezone.utc)
    assert add_working_time(friday_evening, 60, None) == friday_evening + timedelta(hours=1)
    status = sla_status(now=due + timedelta(minutes=5), first_response_due=due, first_response_at=None,
                        resolution_due=due + timedelta(days=1), resolved_at=None)
    assert status.first_response_breached and status.summary() == "BREACHED: reply 5m late"


def test_pages_and_actions_follow_roles():
    assert pages_for("care_agent") == ["Mentions", "Care inbox"]
    assert "Users" in pages_for("admin") and "Users" not in pages_for("care_lead")
    assert "Care inbox" not in pages_for("marketing")
    with pytest.raises(AccessDeniedError, match="may not users manage"):
        require(Actor(1, "ana", "care_agent"), "users.manage")
    with pytest.raises(AccessDeniedError):
        require(Actor(1, "bob", "care_agent"), "report.export")


def test_login_checks_hash_and_active_flag(desk):
    settings, people = desk
    assert log_in(settings, "ana", "secret-pass-1").role == "care_agent"
    assert log_in(settings, "ana", "wrong-password") is None
    change_user(settings, people["root"], people["ana"].id, active=False)
    assert log_in(settings, "ana", "secret-pass-1") is None
    with pytest.raises(AccessDeniedError):
        create_user(settings, people["mia"], "eve", "secret-pass-1", "admin")
    with pytest.raises(BrandpulseError, match="cannot deactivate or demote yourself"):
        change_user(settings, people["root"], people["root"].id, role="marketing")
    with pytest.raises(BrandpulseError, match="needs a team"):
        create_user(settings, None, "tom", "secret-pass-1", "care_agent")


def test_same_grievance_is_merged_other_people_are_not(desk, database_url):
    settings, _ = desk
    text = "Nimbus Mobile charged me twice for my plan this month and nobody answers"
    post(database_url, "1", text, conversation="c1", minutes_ago=30)
    post(database_url, "2", "Nimbus Mobile still waiting on that refund, terrible", conversation="c1")
    post(database_url, "3", text + "!!", network="reddit")  # same handle on another network
    post(database_url, "4", text, handle="someone_else")  # same words, another person
    analyze_pending(settings)
    assert triage_new(settings, now=NOW) == 2
    root = desk[1]["root"]
    tickets = care.inbox(settings, root, "all teams")
    by_author = {t["author"]: t for t in tickets}
    context = care.ticket_context(settings, root, by_author["dana"]["id"])
    reasons = sorted(m["reason"] for m in context["mentions"])
    assert reasons[0] == "near-identical text (word overlap 100%)" and reasons[1:] == \
        ["opened", "same author and thread"]
    assert [e["kind"] for e in context["history"]].count("merged") == 2


def test_agent_works_a_ticket_and_every_step_is_in_the_history(desk, database_url):
    settings, people = desk
    post(database_url, "1", "Nimbus Mobile billing is broken, charged twice, want my money back")
    analyze_pending(settings)
    assert triage_new(settings, now=NOW) == 1
    ana, mia = people["ana"], people["mia"]
    [row] = care.inbox(settings, ana, "unassigned")
    assert row["status"] == "new" and row["sla"].startswith("reply in")
    tid = row["id"]
    with pytest.raises(AccessDeniedError):
        care.set_status(settings, mia, tid, "resolved")
    with pytest.raises(AccessDeniedError):
        care.assign(settings, ana, tid, people["lee"].id)  # agents only take tickets themselves
    care.claim(settings, ana, tid)
    care.set_status(settings, ana, tid, "in_progress")
    care.add_note(settings, ana, tid, "customer is on the family plan")
    context = care.ticket_context(settings, ana, tid)
    reply = care.render_canned(context["canned_replies"]["sorry"], care.canned_values(context, ana))
    assert reply == f"Hi @dana, sorry! Nimbus Mobile will fix it. ^ana (#{tid})"
    saved = care.draft_reply(settings, ana, tid, reply)
    assert saved["link"] == "https://x.example/1"
    with pytest.raises(WorkflowError, match="cannot go from 'in_progress' to 'new'"):
        care.set_status(settings, ana, tid, "new")
    care.set_status(settings, ana, tid, "resolved", "refund issued")
    history = care.ticket_context(settings, ana, tid)["history"]
    assert [(e["kind"], e["user"]) for e in history] == [
        ("created", "system"), ("assigned", "ana"), ("status", "ana"), ("note", "ana"), ("draft", "ana"),
        ("status", "ana")]
    assert history[-1]["to"] == "resolved" and history[-1]["body"] == "refund issued"
    assert all(e["at"] is not None for e in history)
    assert care.inbox(settings, ana, "my tickets") == []


def test_agents_stay_in_their_team_and_leads_bulk_update(desk, database_url):
    settings, people = desk
    post(database_url, "1", "Nimbus Mobile outage again, cannot call anyone", handle="star", followers=200_000)
    post(database_url, "2", "Nimbus Mobile dropped my calls all day, terrible service, awful", handle="bo")
    analyze_pending(settings)
    triage_new(settings, now=NOW)
    tickets = {t["author"]: t for t in care.inbox(settings, people["root"], "all teams")}
    vip = tickets["star"]
    assert vip["team"] == "vip" and vip["assignee"] == "vic"  # auto-assigned in the VIP team
    with pytest.raises(AccessDeniedError, match="belongs to team 'vip'"):
        care.claim(settings, people["ana"], vip["id"])
    with pytest.raises(AccessDeniedError):
        care.bulk(settings, people["ana"], [vip["id"]], "status", "dismissed")
    outcome = care.bulk(settings, people["lee"], [vip["id"], tickets["bo"]["id"], 999], "status", "dismissed")
    assert outcome[vip["id"]] == "ok" and outcome[tickets["bo"]["id"]] == "ok"
    assert "does not exist" in outcome[999]


def test_linking_authors_joins_the_customer_timeline(desk, database_url):
    settings, people = desk
    post(database_url, "1", "Nimbus Mobile my bill doubled, why?", handle="dana", minutes_ago=60 * 24)
    post(database_url, "2", "Nimbus Mobile charged me twice and support hung up", handle="d_smith",
         network="reddit")
    analyze_pending(settings)
    triage_new(settings, now=NOW)
    ana = people["ana"]
    reddit = next(t for t in care.inbox(settings, ana, "all teams") if t["network"] == "reddit")
    assert care.ticket_context(settings, ana, reddit["id"])["customer"]["tickets"] == []
    [dana] = [a for a in care.find_authors(settings, ana, "@dana") if a["network"] == "x"]
    care.link_customer(settings, ana, reddit["id"], dana["id"])
    customer = care.ticket_context(settings, ana, reddit["id"])["customer"]
    assert {a["network"] for a in customer["authors"]} == {"x", "reddit"}
    assert [m["text"] for m in customer["mentions"]] == ["Nimbus Mobile my bill doubled, why?"]
    assert [t["network"] for t in customer["tickets"]] == ["x"]
    with pytest.raises(AccessDeniedError):
        care.link_customer(settings, people["mia"], reddit["id"], dana["id"])
