"""Care reach (brandpulse.services.access.may_reach_ticket), enforced alike by every care service, and the
literal author search used to link accounts; on SQLite and PostgreSQL."""

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import update

from brandpulse.services import care
from brandpulse.services.access import Actor, may_reach_ticket
from brandpulse.services.accounts import change_user, create_user
from brandpulse.core.errors import AccessDeniedError
from brandpulse.services.pipeline import analyze_pending
from brandpulse.core.records import AuthorRecord, MentionRecord
from brandpulse.services.triage import triage_new
from store.engine import session_scope
from store.mentions import save_mentions
from store.models import User
from store.ticket_detail import which_authors_match

NOW = datetime.now(timezone.utc).replace(microsecond=0)
CARE = {"ticket_intents": ["complaint", "question"], "default_team": "care",
        "teams": [{"name": "care", "auto_assign": False}, {"name": "vip", "auto_assign": False}],
        "routing": [{"team": "vip", "influence_tier": "mid"}]}


def post(url, native_id, text, handle, followers=50, network="x"):
    record = MentionRecord(network=network, native_id=native_id, text=text, brands=["Nimbus Mobile"],
                           created_at=NOW - timedelta(minutes=5), url=f"https://{network}.example/{native_id}",
                           author=AuthorRecord(network, f"{network}-{handle}", handle=handle, name=handle,
                                               followers=followers))
    with session_scope(url) as session:
        save_mentions(session, [record])


@pytest.fixture
def desk(write_config, database_url):
    """Two teams with one open ticket each: 'care' (from dana) and 'vip' (from star)."""
    settings = write_config(care=CARE)
    people = {name: create_user(settings, None, name, "secret-pass-1", role, team) for name, role, team in [
        ("ana", "care_agent", "care"), ("vic", "care_agent", "vip"), ("lee", "care_lead", "care"),
        ("mia", "marketing", None), ("root", "admin", None)]}
    post(database_url, "1", "Nimbus Mobile billing is broken, charged twice, want my money back", "dana")
    post(database_url, "2", "Nimbus Mobile outage again, cannot call anyone, terrible", "star", 200_000)
    post(database_url, "3", "I like turtles and Nimbus Mobile sometimes", "loner", network="reddit")
    analyze_pending(settings)
    assert triage_new(settings, now=NOW) == 2
    tickets = {t["author"]: t for t in care.inbox(settings, people["root"], "all teams")}
    assert (tickets["dana"]["team"], tickets["star"]["team"]) == ("care", "vip")
    return settings, people, tickets["dana"]["id"], tickets["star"]["id"]


def _author(settings, handle: str) -> int:
    with session_scope(settings.database.url) as session:
        return next(a.id for a in which_authors_match(session, handle) if a.handle == handle)


ENTRY_POINTS = {
    "ticket detail and customer timeline": lambda s, a, t: care.ticket_context(s, a, t),
    "claim": lambda s, a, t: care.claim(s, a, t),
    "assign to self": lambda s, a, t: care.assign(s, a, t, a.id),
    "status": lambda s, a, t: care.set_status(s, a, t, "in_progress"),
    "note": lambda s, a, t: care.add_note(s, a, t, "I had a look"),
    "draft": lambda s, a, t: care.draft_reply(s, a, t, "Sorry, we are on it"),
    "link customer": lambda s, a, t: care.link_customer(s, a, t, _author(s, "loner")),
}


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_every_care_service_refuses_an_agent_of_another_team(desk, entry):
    settings, people, care_ticket, vip_ticket = desk
    with pytest.raises(AccessDeniedError, match=rf"ticket #{vip_ticket} belongs to team 'vip'; ana "
                                                r"\(care_agent, team 'care'\) may reach only"):
        ENTRY_POINTS[entry](settings, people["ana"], vip_ticket)
    ENTRY_POINTS[entry](settings, people["ana"], care_ticket)  # the own team's ticket works
    ENTRY_POINTS[entry](settings, people["lee"], vip_ticket)  # a lead reaches every team


def test_bulk_needs_a_lead_and_marketing_reaches_no_ticket(desk):
    settings, people, care_ticket, vip_ticket = desk
    with pytest.raises(AccessDeniedError, match="may not ticket bulk"):
        care.bulk(settings, people["ana"], [care_ticket, vip_ticket], "status", "dismissed")
    assert care.bulk(settings, people["lee"], [care_ticket, vip_ticket], "status", "dismissed") == \
        {care_ticket: "ok", vip_ticket: "ok"}
    for entry in ENTRY_POINTS.values():
        with pytest.raises(AccessDeniedError):
            entry(settings, people["mia"], care_ticket)


def test_the_inbox_lists_only_what_the_agent_may_reach_in_every_view(desk):
    settings, people, care_ticket, vip_ticket = desk
    for view in care.VIEWS:
        assert vip_ticket not in {t["id"] for t in care.inbox(settings, people["ana"], view)}, view
    assert {t["id"] for t in care.inbox(settings, people["ana"], "all teams")} == {care_ticket}
    assert {t["id"] for t in care.inbox(settings, people["vic"], "all teams")} == {vip_ticket}
    assert {t["id"] for t in care.inbox(settings, people["lee"], "all teams")} == {care_ticket, vip_ticket}
    care.set_status(settings, people["lee"], vip_ticket, "dismissed")
    assert care.inbox(settings, people["ana"], "recently closed") == []


def test_a_ticket_assigned_to_an_agent_of_another_team_is_theirs_to_work(desk):
    settings, people, _, vip_ticket = desk
    care.assign(settings, people["lee"], vip_ticket, people["ana"].id)
    assert vip_ticket in {t["id"] for t in care.inbox(settings, people["ana"], "my tickets")}
    care.add_note(settings, people["ana"], vip_ticket, "taking this one")
    assert may_reach_ticket(people["ana"], "vip", people["ana"].id)
    assert not may_reach_ticket(people["ana"], "vip", people["vic"].id)


def test_an_agent_without_a_team_reaches_only_tickets_assigned_to_them(desk):
    settings, people, care_ticket, _ = desk
    with session_scope(settings.database.url) as session:  # a legacy row: agents need a team today
        session.execute(update(User).where(User.id == people["ana"].id).values(team=None))
    teamless = Actor(people["ana"].id, "ana", "care_agent", None)
    assert care.inbox(settings, teamless, "all teams") == []
    with pytest.raises(AccessDeniedError, match="ana \\(care_agent, no team\\)"):
        care.ticket_context(settings, teamless, care_ticket)


def test_the_timeline_hides_other_teams_tickets_and_links_stay_within_reach(desk):
    settings, people, care_ticket, vip_ticket = desk
    dana, star = _author(settings, "dana"), _author(settings, "star")
    with pytest.raises(AccessDeniedError, match=rf"author #{star} is the customer of ticket #{vip_ticket}, "
                                                r"which belongs to team 'vip'"):
        care.link_customer(settings, people["ana"], care_ticket, star)
    care.link_customer(settings, people["lee"], care_ticket, star)  # a lead may: both are in reach
    mine = care.ticket_context(settings, people["ana"], care_ticket)["customer"]
    assert {a["handle"] for a in mine["authors"]} == {"dana", "star"}
    assert mine["tickets"] == [] and mine["tickets_elsewhere"] == 1  # vip's ticket and its notes stay hidden
    theirs = care.ticket_context(settings, people["lee"], care_ticket)["customer"]
    assert [t["id"] for t in theirs["tickets"]] == [vip_ticket] and theirs["tickets_elsewhere"] == 0
    assert dana != star


def test_a_demoted_agent_loses_reach_at_the_next_call(desk):
    settings, people, care_ticket, _ = desk
    stale = people["ana"]
    change_user(settings, people["root"], stale.id, role="marketing")
    with pytest.raises(AccessDeniedError):
        care.ticket_context(settings, stale, care_ticket)
    with pytest.raises(AccessDeniedError):
        care.inbox(settings, stale, "my team")


def test_author_search_takes_percent_and_underscore_literally(write_config, database_url):
    settings = write_config()
    for native, handle in enumerate(["a_b", "axb", "100%", "1000", "back\\slash", "backxslash"]):
        post(database_url, str(native), f"Nimbus Mobile hello {native}", handle)
    agent = create_user(settings, None, "ana", "secret-pass-1", "care_agent", "care")

    def found(needle: str) -> set[str]:
        with session_scope(database_url) as session:
            return {a.handle for a in which_authors_match(session, needle)}

    assert found("a_b") == {"a_b"} and found("_") == {"a_b"}
    assert found("%") == {"100%"} and found("0%") == {"100%"}
    assert found("k\\s") == {"back\\slash"}
    assert found("A_B") == {"a_b"}  # still case-insensitive
    assert {a["handle"] for a in care.find_authors(settings, agent, "@a_b")} == {"a_b"}
    assert {a["handle"] for a in care.find_authors(settings, agent, "%%")} == set()
