"""Incidents on real databases: suggestions from an alert, a topic and similar text; one incident
created, answered once per author through the outbox (rate-limited per account) and resolved at once;
the CLI; and the demo's outage found, grouped and closed with one resolution (service and dashboard)."""

import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select
from dashboard_session import signed_in
from typer.testing import CliRunner

from brandpulse.services import incidents
from brandpulse.services.accounts import actor_of
from brandpulse.cli.incidents import incidents_app
from brandpulse.core.errors import AccessDeniedError, WorkflowError
from brandpulse.services.pipeline import analyze_pending
from brandpulse.services.publishing import publish_due
from brandpulse.core.records import AuthorRecord, MentionRecord
from brandpulse.core.settings import load_settings
from brandpulse.services.triage import triage_new
from publishers.base import Published
from store.alerts import save_alert
from store.engine import get_engine, session_scope
from store.incidents import which_incidents_are_open
from store.mentions import save_mentions
from store.models import Author, Incident, Mention, Reply, Ticket, User
from store.ticket_actions import change_ticket_status, ticket_history
from store.topics import save_topics

NOW = datetime.now(timezone.utc).replace(microsecond=0)
CARE = {"default_team": "care", "teams": [{"name": "care", "auto_assign": False}, {"name": "vip"}],
        "routing": [{"team": "vip", "min_followers": 100000}],
        "canned_replies": {"outage": "Hi @{author}, {brand} is fixing the outage. ^{agent}"},
        "reply_accounts": [{"id": "nimbus_x", "brand": "Nimbus Mobile", "network": "x", "handle": "NimbusMobile",
                            "per_minute": 2},
                           {"id": "nimbus_masto", "brand": "Nimbus Mobile", "network": "mastodon",
                            "handle": "nimbus@masto.example"}]}
VARIED = ["Nimbus Mobile charged me twice and support never answered, awful",
          "Nimbus Mobile dropped every single call today, terrible service",
          "My Nimbus Mobile bill is wrong again, this is a disgrace",
          "Nimbus Mobile app keeps crashing when I pay, horrible experience",
          "Waited two hours in the Nimbus Mobile store, awful and rude staff",
          "Nimbus Mobile roaming fees are a scam and I am really angry"]


def post(url, native_id, text, *, handle, network="x", minutes_ago=30, followers=50):
    record = MentionRecord(network=network, native_id=native_id, text=text, brands=["Nimbus Mobile"],
                           created_at=NOW - timedelta(minutes=minutes_ago),
                           url=f"https://{network}.example/{native_id}",
                           author=AuthorRecord(network, f"{network}-{handle}", handle=handle, followers=followers))
    with session_scope(url) as session:
        save_mentions(session, [record])


def tickets_by_handle(url) -> dict[str, list[int]]:
    """Each author's ticket ids, oldest post first (complaints only)."""
    with session_scope(url) as session:
        rows = session.execute(select(Ticket.id, Author.handle).join(Mention, Mention.id == Ticket.mention_id)
                               .join(Author, Author.id == Ticket.author_id)
                               .order_by(Mention.created_at, Ticket.id)).all()
    out: dict[str, list[int]] = {}
    for ticket_id, handle in rows:
        out.setdefault(handle, []).append(ticket_id)
    return out


@pytest.fixture
def desk(write_config, database_url):
    """Settings with a reply account on X (2 a minute) and Mastodon, and an agent, a lead and an admin
    (stored without a password: nobody signs in here, and argon2 would cost half a second each)."""
    settings = write_config(care=CARE)
    with session_scope(database_url) as session:
        users = [User(username=name, role=role, team=team) for name, role, team in [
            ("ana", "care_agent", "care"), ("lee", "care_lead", "care"), ("root", "admin", None)]]
        session.add_all(users)
        session.flush()
        people = {user.username: actor_of(user) for user in users}
    return settings, people


def triage(settings):
    analyze_pending(settings)
    return triage_new(settings, now=NOW)


def test_a_volume_alert_window_suggests_the_brands_complaints_inside_it(desk, database_url):
    settings, people = desk
    for i, text in enumerate(VARIED):
        post(database_url, f"in{i}", text, handle=f"in{i}", minutes_ago=60 + 20 * i)
    post(database_url, "out", "Nimbus Mobile lost my parcel and nobody cares, furious", handle="late",
         minutes_ago=60 * 20)
    assert triage(settings) == 7
    with session_scope(database_url) as session:
        save_alert(session, {"brand_id": 1, "rule": "volume_spike", "severity": "warning", "title": "spike",
                             "evidence": {}, "window_start": NOW - timedelta(hours=6), "window_end": NOW,
                             "dedupe_key": "spike-1"})
    [found] = incidents.suggest_incidents(settings, people["lee"])
    inside = {t for handle, ids in tickets_by_handle(database_url).items() if handle.startswith("in") for t in ids}
    assert found["source"] == "alert" and found["cause"] == "alert #1: volume spike 6 h"
    assert set(found["ticket_ids"]) == inside and found["count"] == 6 and found["brand"] == "Nimbus Mobile"
    assert found["first_posted_at"] < found["last_posted_at"] and len(found["samples"]) == 3
    assert incidents.suggest_incidents(settings, people["lee"], min_size=7) == []
    with pytest.raises(AccessDeniedError, match="may not incident manage"):
        incidents.suggest_incidents(settings, people["ana"])


def test_a_topic_burst_is_suggested_and_its_quiet_days_are_not(desk, database_url):
    settings, people = desk
    texts = ["No signal anywhere in Leeds, Nimbus Mobile outage is awful",
             "Nimbus Mobile outage again, my phone is useless, terrible",
             "Is the Nimbus Mobile network down? no signal since lunch, horrible",
             "Total outage for Nimbus Mobile customers downtown, worst day",
             "My parents have no signal either, Nimbus Mobile please fix this disaster",
             "Nimbus Mobile outage on a Monday morning, I am so angry"]
    for i, text in enumerate(texts):
        post(database_url, f"t{i}", text, handle=f"t{i}", minutes_ago=40 + 15 * i)
    post(database_url, "old", "Nimbus Mobile outage last week was awful too, bad", handle="old", minutes_ago=60 * 40)
    assert triage(settings) == 7
    with session_scope(database_url) as session:
        save_topics(session, 1, [{"label": "outage · signal", "terms": ["outage", "signal"], "size": 7,
                                  "computed_at": NOW, "representative": [], "trend": {}},
                                 {"label": "bill · refund", "terms": ["bill", "refund"], "size": 3,
                                  "computed_at": NOW, "representative": [], "trend": {}}])
    [found] = incidents.suggest_incidents(settings, people["lee"], min_size=5)
    assert found["source"] == "topic" and found["cause"] == "topic: outage · signal"
    old = tickets_by_handle(database_url)["old"]
    assert found["count"] == 6 and old[0] not in found["ticket_ids"]  # 40 hours earlier: not in the burst
    assert found["title"] == "Nimbus Mobile: outage · signal"


def test_near_identical_text_across_authors_is_suggested_but_one_author_is_not(desk, database_url):
    settings, people = desk
    cities = ["Leeds", "Austin", "Denver", "Porto", "Dublin"]
    for i, city in enumerate(cities):
        post(database_url, f"s{i}", f"Is Nimbus Mobile down? No service at all in {city}. Awful.",
             handle=f"s{i}", minutes_ago=30 + 10 * i, network="x" if i % 2 else "mastodon")
    for i, text in enumerate(VARIED[:4]):
        post(database_url, f"v{i}", text, handle=f"v{i}", minutes_ago=35 + 10 * i)
    assert triage(settings) == 9
    [found] = incidents.suggest_incidents(settings, people["lee"], min_size=5)
    similar = {t for handle, ids in tickets_by_handle(database_url).items() if handle.startswith("s") for t in ids}
    assert found["source"] == "similar text" and found["cause"] == "similar text (5 authors)"
    assert set(found["ticket_ids"]) == similar and found["authors"] == 5
    assert incidents.suggest_incidents(settings, people["lee"], min_size=5, similarity=0.95) == []


def test_create_refuses_agents_and_out_of_reach_tickets_and_skips_taken_ones(desk, database_url, monkeypatch):
    settings, people = desk
    for i, text in enumerate(VARIED[:4]):
        post(database_url, f"c{i}", text, handle=f"c{i}", followers=200_000 if i == 3 else 50)
    triage(settings)
    mine = tickets_by_handle(database_url)
    ids = [mine[f"c{i}"][0] for i in range(4)]
    vip = ids[3]  # routed to the vip team
    with session_scope(database_url) as session:
        change_ticket_status(session, ids[2], "resolved", None)
    lee = people["lee"]
    with pytest.raises(AccessDeniedError, match="may not incident manage"):
        incidents.create_incident(settings, people["ana"], "Outage", ids)
    with monkeypatch.context() as patched:  # a narrower reach rule: leads only reach their own team
        patched.setattr(incidents, "may_reach_ticket", lambda actor, team, assignee=None: team == actor.team)
        with pytest.raises(AccessDeniedError, match=f"may not reach tickets #{vip}"):
            incidents.create_incident(settings, lee, "Outage", ids)
    with session_scope(database_url) as session:
        assert session.execute(select(func.count(Incident.id))).scalar_one() == 0
    made = incidents.create_incident(settings, lee, "  Outage in   Leeds ", ids + [999], cause="by hand")
    assert made["added"] == [ids[0], ids[1], vip]
    assert made["skipped"] == {ids[2]: "is resolved; reopen it first", 999: "does not exist"}
    with pytest.raises(WorkflowError, match=f"already in incident #{made['id']} \\(Outage in Leeds\\)"):
        incidents.create_incident(settings, lee, "Again", [ids[0]])
    with session_scope(database_url) as session:
        history = ticket_history(session, ids[0])
        [row] = which_incidents_are_open(session)
        assert row["tickets"] == 3 and row["title"] == "Outage in Leeds" and row["brand"] == "Nimbus Mobile"
        assert row["max_priority"] > 0 and row["first_posted_at"] is not None
        assert which_incidents_are_open(session, team="vip")[0]["tickets"] == 1
        assert which_incidents_are_open(session, reach=("nobody", people["ana"].id)) == []
    assert (history[-1]["kind"], history[-1]["to"], history[-1]["user"]) == ("incident", f"incident #{made['id']}",
                                                                           "lee")
    incidents.remove_ticket(settings, lee, made["id"], vip)
    assert incidents.add_tickets(settings, lee, made["id"], [vip, ids[0]]) == {
        "added": [vip], "skipped": {ids[0]: f"is already in incident #{made['id']}"}}


class FakePublisher:
    """Records what the outbox worker publishes (the network side is tested in the publisher tests)."""
    sent: list[str] = []

    def __init__(self, account):
        self.network = account.network

    def publish(self, target, body, key):
        FakePublisher.sent.append(body)
        return Published(id=f"{target.native_id}-reply", url=None)

    def find_published(self, target, body):
        return None


def test_answer_queues_one_reply_per_author_and_the_outbox_keeps_the_rate(desk, database_url):
    settings, people = desk
    post(database_url, "a1", "@NimbusMobile my bill is wrong again, a disgrace", handle="amy", minutes_ago=90)
    post(database_url, "a2", "@NimbusMobile and now the app crashes when I pay, horrible", handle="amy", minutes_ago=20)
    for name in ("bo", "cy"):
        post(database_url, name, f"@NimbusMobile no signal all day, terrible service ({name})", handle=name)
    post(database_url, "nomention", "Nimbus Mobile dropped all my calls, awful", handle="dee")
    post(database_url, "red", "Nimbus Mobile outage ruined my day, terrible", handle="eve", network="reddit")
    post(database_url, "masto", "Nimbus Mobile outage here too, awful", handle="fay", network="mastodon")
    assert triage(settings) == 7
    mine = tickets_by_handle(database_url)
    incident = incidents.create_incident(settings, people["lee"], "Outage", [t for ids in mine.values() for t in ids])
    with pytest.raises(WorkflowError, match="uses unknown placeholders \\['customer'\\]"):
        incidents.answer_incident(settings, people["lee"], incident["id"], "Hi {customer}")
    result = incidents.answer_incident(settings, people["lee"], incident["id"], "Hi @{author}, {brand} is on it.")
    assert result["queued"] == 4  # amy once, bo, cy, fay
    reasons = {s["author"]: s["reason"] for s in result["skipped"]}
    assert set(reasons) == {"dee", "eve"}
    assert "X lets the API reply only to posts that mention @NimbusMobile" in reasons["dee"]
    assert "no reply account on reddit" in reasons["eve"]
    assert result["accounts"] == [
        {"account": "nimbus_masto", "network": "mastodon", "handle": "nimbus@masto.example", "queued": 1,
         "per_minute": 10, "minutes": 1},
        {"account": "nimbus_x", "network": "x", "handle": "NimbusMobile", "queued": 3, "per_minute": 2,
         "minutes": 2}]
    with session_scope(database_url) as session:
        replies = session.execute(select(Reply).order_by(Reply.id)).scalars().all()
        amy_history = ticket_history(session, mine["amy"][0])
    assert {r.ticket_id for r in replies} == {mine["amy"][1], mine["bo"][0], mine["cy"][0], mine["fay"][0]}
    assert all(r.incident_id == incident["id"] and r.status == "queued" for r in replies)
    assert next(r.body for r in replies if r.ticket_id == mine["amy"][1]) == "Hi @amy, Nimbus Mobile is on it."
    assert "went to their latest post" in amy_history[-1]["body"]
    seen = incidents.incident_detail(settings, people["ana"], incident["id"])  # an agent reads, may not manage
    states = {t["id"]: t["reply"] for t in seen["tickets"]}
    assert not seen["may_manage"] and seen["total"] == 7 and seen["open"] == 7
    assert states[mine["amy"][1]] == "queued" and states[mine["amy"][0]] == f"queued (on ticket #{mine['amy'][1]})"
    assert states[mine["dee"][0]] == ""
    again = incidents.answer_incident(settings, people["lee"], incident["id"], "Hi again @{author}")
    assert again["queued"] == 0 and all("already has this incident's reply" in s["reason"]
                                        for s in again["skipped"] if s["author"] not in ("dee", "eve"))
    FakePublisher.sent = []
    outcome = publish_due(settings, publisher_for=FakePublisher)  # x allows 2 a minute: the third waits
    assert outcome == {"published": 3, "waiting": 1} and len(FakePublisher.sent) == 3


def test_resolve_closes_every_open_ticket_with_one_note(desk, database_url):
    settings, people = desk
    for i, text in enumerate(VARIED[:5]):
        post(database_url, f"r{i}", text, handle=f"r{i}")
    triage(settings)
    mine = tickets_by_handle(database_url)
    ids = [mine[f"r{i}"][0] for i in range(5)]
    lee = people["lee"]
    made = incidents.create_incident(settings, lee, "Billing outage", ids)
    incidents.set_incident_status(settings, lee, made["id"], "monitoring")
    with session_scope(database_url) as session:
        change_ticket_status(session, ids[0], "dismissed", None, "spam")
    with pytest.raises(AccessDeniedError):
        incidents.resolve_incident(settings, people["ana"], made["id"], "fixed")
    with pytest.raises(WorkflowError, match="say how incident"):
        incidents.resolve_incident(settings, lee, made["id"], "  ")
    assert incidents.resolve_incident(settings, lee, made["id"], "billing system restored") == 4
    with session_scope(database_url) as session:
        tickets = [session.get(Ticket, i) for i in ids]
        incident = session.get(Incident, made["id"])
        last = [ticket_history(session, i)[-1] for i in ids[1:]]
    assert [t.status for t in tickets] == ["dismissed"] + ["resolved"] * 4
    assert all(t.resolved_at is not None for t in tickets)
    assert incident.status == "resolved" and incident.resolved_at is not None
    assert all((e["kind"], e["to"], e["user"], e["body"]) == (
        "status", "resolved", "lee", f"incident #{made['id']}: billing system restored") for e in last)
    with pytest.raises(WorkflowError, match="is resolved"):
        incidents.answer_incident(settings, lee, made["id"], "late")
    assert incidents.list_incidents(settings, lee) == []
    assert incidents.list_incidents(settings, lee, include_resolved=True)[0]["tickets"] == 0


def test_cli_suggests_creates_answers_and_resolves_as_a_named_lead(desk, database_url):
    settings, _ = desk
    for i in range(5):
        post(database_url, f"k{i}", f"@NimbusMobile is down? No service at all in Leeds {i}, awful", handle=f"k{i}")
    triage(settings)
    def run(app, args):
        return CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    shown = run(incidents_app, ["suggest", "--as", "lee"])
    assert shown.exit_code == 0 and "[1] 5 tickets, 5 authors" in shown.output
    refused = run(incidents_app, ["create", "--as", "ana", "--from-suggestion", "1"])
    assert refused.exit_code == 1 and "may not incident manage" in refused.output
    assert run(incidents_app, ["create", "--as", "nobody", "--tickets", "1"]).exit_code == 1
    made = run(incidents_app, ["create", "--as", "lee", "--from-suggestion", "1", "--title", "Leeds down"])
    assert made.exit_code == 0 and "incident #1 opened with 5 tickets" in made.output
    assert "Leeds down" in run(incidents_app, ["list", "--as", "lee"]).output
    answered = run(incidents_app, ["answer", "1", "--as", "lee", "--text", "Hi @{author}, we are on it"])
    assert "5 replies queued, 0 skipped" in answered.output and "at most 2 a minute" in answered.output
    resolved = run(incidents_app, ["resolve", "1", "--as", "root", "--note", "restored"])
    assert resolved.exit_code == 0 and "5 tickets closed" in resolved.output


# --- the demo: its outage becomes one incident and closes with one resolution -------------------

OUTAGE_MARKS = ("No service at all", "outage again", "second outage this month", "whole family has no service",
                "Can't call anyone")


@pytest.fixture
def demo_copy(demo, tmp_path, monkeypatch):
    """A private copy of the session's demo database (this test changes hundreds of tickets)."""
    target = tmp_path / "demo-copy.db"
    source = sqlite3.connect(demo.settings.database.url.split("///", 1)[1])
    with sqlite3.connect(target) as copy:
        source.backup(copy)
    source.close()
    config = yaml.safe_load(Path(demo.config_path).read_text(encoding="utf-8"))
    config["database"] = {"url": f"sqlite:///{target}"}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    monkeypatch.setenv("BRANDPULSE_CONFIG", str(path))
    yield load_settings(path), demo
    get_engine(f"sqlite:///{target}").dispose()


def lead_of(settings, demo):
    from brandpulse.services.accounts import log_in

    return log_in(settings, "lead", {n: p for n, _, _, p in demo.users}["lead"])


def test_an_incident_from_the_demos_outage_closes_all_its_tickets_with_one_resolution(demo_copy):
    settings, demo = demo_copy
    lead = lead_of(settings, demo)
    suggestions = incidents.suggest_incidents(settings, lead)
    outage = max((s for s in suggestions if s["brand"] == "Nimbus Mobile"), key=lambda s: s["count"])
    with session_scope(settings.database.url) as session:
        texts = [session.get(Mention, session.get(Ticket, t).mention_id).text for t in outage["ticket_ids"]]
    share = sum(any(mark in t for mark in OUTAGE_MARKS) for t in texts) / len(texts)
    assert outage["number"] == 1 and outage["count"] >= 300 and share >= 0.9, (outage["cause"], share)
    made = incidents.create_incident(settings, lead, "Nimbus outage", outage["ticket_ids"], outage["cause"])
    assert len(made["added"]) == outage["count"] and not made["skipped"]
    assert incidents.resolve_incident(settings, lead, made["id"], "network restored") == outage["count"]
    with session_scope(settings.database.url) as session:
        statuses = {session.get(Ticket, t).status for t in outage["ticket_ids"]}
        assert session.get(Incident, made["id"]).status == "resolved"
    assert statuses == {"resolved"}
    left = incidents.suggest_incidents(settings, lead)
    assert all(not set(s["ticket_ids"]) & set(outage["ticket_ids"]) for s in left)


def test_incidents_page_creates_from_a_suggestion_and_resolves_all(demo_copy):

    settings, demo = demo_copy
    app = signed_in("lead", {n: p for n, _, _, p in demo.users}["lead"])
    app.sidebar.radio(key="page").set_value("Incidents").run()
    assert not app.exception and app.header[0].value == "Incidents"
    first = next(b for b in app.button if b.key and b.key.startswith("suggestion_create_"))
    first.click().run()
    assert not app.exception, app.exception
    assert app.success and app.success[0].value.startswith("incident #1 opened with")
    opened = int(app.success[0].value.split(" with ")[1].split()[0])
    assert app.subheader[0].value == "Incident #1 · open"
    app.text_input(key="incident_resolve_note").set_value("network restored")
    app.button(key="incident_resolve_apply").click().run()
    assert not app.exception, app.exception
    assert app.success[0].value == f"incident #1 resolved: {opened} tickets closed"
    with session_scope(settings.database.url) as session:
        statuses = set(session.execute(select(Ticket.status).where(Ticket.incident_id == 1)).scalars())
    assert statuses == {"resolved"}
