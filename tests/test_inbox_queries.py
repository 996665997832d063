"""The care inbox's questions on real SQLite and PostgreSQL: search, filters, sort, pages and their
counts, incidents as one row, what is new; moving a ticket to another team; teams without members."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlmodel import select

from brandpulse.services import care
from brandpulse.services.accounts import change_user, create_user
from brandpulse.core.errors import AccessDeniedError, ConfigError, WorkflowError
from brandpulse.services.sla import sla_deadlines
from store.engine import session_scope
from store.models import Author, Brand, Incident, Mention, Ticket, TicketEvent, TicketMention, utcnow

NOW = utcnow().replace(microsecond=0)
CARE = {"default_team": "care", "ticket_max_age_days": 30,
        "teams": [{"name": "care", "first_response_minutes": 60, "resolution_hours": 24},
                  {"name": "vip", "first_response_minutes": 15, "resolution_hours": 4}],
        "routing": [{"team": "vip", "min_followers": 100000}]}
_serial = itertools.count(1)


@pytest.fixture(autouse=True)
def quick_passwords(monkeypatch):
    """Argon2 at its cheapest: the same code signs users in, without half a second per hash."""
    monkeypatch.setattr("store.users._HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def make_tickets(url: str, *specs: dict) -> list[int]:
    """One post, author and ticket per spec, stored directly (no analysis): fast.

    Spec keys (all optional): text, handle, network, brand, team, status, priority, intent,
    minutes_ago (post time), posted (False: no Ticket.posted_at), due_in (first-response due,
    minutes from now), assignee_id, incident_id, answered (first response given).
    """
    ids = []
    with session_scope(url) as session:
        for spec in specs:
            n = next(_serial)
            name = spec.get("brand", "Nimbus Mobile")
            brand = session.exec(select(Brand).where(Brand.name == name)).first() or Brand(name=name)
            session.add(brand)
            network = spec.get("network", "x")
            author = Author(network=network, native_id=f"author-{n}", handle=spec.get("handle", f"user{n}"))
            session.add(author)
            session.flush()
            posted = NOW - timedelta(minutes=spec.get("minutes_ago", n))
            mention = Mention(network=network, native_id=f"post-{n}", text=spec.get("text", f"Nimbus Mobile issue {n}"),
                              created_at=posted, author_id=author.id, url=f"https://{network}.example/{n}")
            session.add(mention)
            session.flush()
            due = NOW + timedelta(minutes=spec.get("due_in", 60))
            ticket = Ticket(mention_id=mention.id, brand_id=brand.id, author_id=author.id,
                            intent=spec.get("intent", "complaint"), status=spec.get("status", "new"),
                            priority=spec.get("priority", 50.0), priority_explanation={"complaint": 30.0}, team=spec.get("team", "care"),
                            assignee_id=spec.get("assignee_id"), first_response_due=due,
                            resolution_due=due + timedelta(hours=23),
                            first_response_at=NOW if spec.get("answered") else None,
                            resolved_at=NOW if spec.get("status") in ("resolved", "dismissed") else None,
                            posted_at=posted if spec.get("posted", True) else None, created_at=NOW,
                            updated_at=NOW + timedelta(seconds=n), incident_id=spec.get("incident_id"))
            session.add(ticket)
            session.flush()
            session.add(TicketMention(mention_id=mention.id, ticket_id=ticket.id))
            session.add(TicketEvent(ticket_id=ticket.id, kind="created", to_value=ticket.team))
            ids.append(ticket.id)
    return ids


def make_incident(url: str, title: str = "Network outage") -> int:
    with session_scope(url) as session:
        incident = Incident(title=title)
        session.add(incident)
        session.flush()
        return incident.id


@pytest.fixture
def desk(write_config):
    """Care settings with two teams; an agent and a lead in 'care', an agent in 'vip', an admin."""
    settings = write_config(care=CARE)
    people = {name: create_user(settings, None, name, "secret-pass-1", role, team) for name, role, team in [
        ("ana", "care_agent", "care"), ("lee", "care_lead", "care"), ("vic", "care_agent", "vip"),
        ("root", "admin", None)]}
    return settings, people


def page_ids(settings, actor, view="all teams", **filters):
    result = care.inbox_page(settings, actor, view, care.InboxFilters(**filters), page_size=500)
    return [row["id"] for row in result["rows"]]


def test_search_is_literal_any_case_over_text_and_handles(desk, database_url):
    settings, people = desk
    percent, plain, underscore, dana = make_tickets(
        database_url, {"text": "Nimbus Mobile promised 50% OFF and charged full price"},
        {"text": "Nimbus Mobile 500 off-peak minutes gone on my planxb"}, {"text": "my plan_b got cancelled by Nimbus"},
        {"text": "Nimbus Mobile no signal", "handle": "Dana_Smith"})
    lee = people["lee"]
    assert page_ids(settings, lee, search="50%") == [percent]  # % is a character, not a wildcard
    assert page_ids(settings, lee, search="50% off") == [percent]
    assert page_ids(settings, lee, search="n_b") == [underscore]  # _ is a character too, not "any one"
    assert page_ids(settings, lee, search="PLAN_B") == [underscore]
    assert page_ids(settings, lee, search="@dana_smith") == [dana]
    assert sorted(page_ids(settings, lee, search="nimbus")) == sorted([percent, plain, underscore, dana])
    assert plain in page_ids(settings, lee)


def test_filters_narrow_the_view_and_agents_stay_in_their_reach(desk, database_url):
    settings, people = desk
    x_care, reddit_care, question, vip, breached, waiting = make_tickets(
        database_url, {}, {"network": "reddit"}, {"intent": "question"}, {"team": "vip"}, {"due_in": -5},
        {"status": "waiting_customer"})
    lee, ana = people["lee"], people["ana"]
    assert page_ids(settings, lee, network="reddit") == [reddit_care]
    assert page_ids(settings, lee, intent="question") == [question]
    assert page_ids(settings, lee, team="vip") == [vip]
    assert page_ids(settings, lee, breached_only=True) == [breached]
    assert page_ids(settings, lee, status="waiting_customer") == [waiting]
    assert page_ids(settings, lee, brand="Brewhaven") == []
    assert vip not in page_ids(settings, ana) and x_care in page_ids(settings, ana)
    assert page_ids(settings, ana, team="vip") == []  # a filter never widens an agent's reach
    assert page_ids(settings, ana, "my team", team="vip") == []
    with pytest.raises(WorkflowError, match="has no 'resolved' tickets"):
        page_ids(settings, lee, status="resolved")
    resolved = make_tickets(database_url, {"status": "resolved"})
    assert page_ids(settings, lee, "recently closed", sort="updated") == resolved


def test_sorts_by_priority_sla_left_and_post_time(desk, database_url):
    settings, people = desk
    urgent, old, unposted, answered = make_tickets(
        database_url, {"priority": 10, "due_in": 2, "minutes_ago": 50},
        {"priority": 90, "due_in": 50, "minutes_ago": 500},
        {"priority": 50, "due_in": 30, "minutes_ago": 300, "posted": False},  # the post's own time counts
        {"priority": 70, "due_in": 1, "minutes_ago": 5, "answered": True})  # next due: resolution, ~24h
    lee = people["lee"]
    assert page_ids(settings, lee) == [old, answered, unposted, urgent]
    assert page_ids(settings, lee, sort="sla") == [urgent, unposted, old, answered]
    assert page_ids(settings, lee, sort="oldest") == [old, unposted, urgent, answered]
    assert page_ids(settings, lee, sort="newest") == [answered, urgent, unposted, old]
    row = care.inbox_page(settings, lee, "all teams", care.InboxFilters(search="issue"))["rows"][0]
    assert row["posted_at"] is not None and "sla" in row


def test_pages_reach_every_row_and_the_count_matches(desk, database_url):
    settings, people = desk
    incident = make_incident(database_url)
    lone = make_tickets(database_url, *({"priority": i % 97, "text": f"Nimbus Mobile problem {i}"}
                                        for i in range(58)))
    make_tickets(database_url, *({"incident_id": incident, "priority": 99} for _ in range(5)))
    lee, seen = people["lee"], []
    for number in (1, 2, 3):
        result = care.inbox_page(settings, lee, "all teams", page=number, page_size=20)
        assert (result["total"], result["tickets"], result["pages"], result["page"]) == (59, 63, 3, number)
        assert (result["first"], result["last"]) == ((number - 1) * 20 + 1, min(number * 20, 59))
        seen += [(row["kind"], row["id"]) for row in result["rows"]]
    assert len(seen) == len(set(seen)) == 59
    assert set(seen) == {("ticket", i) for i in lone} | {("incident", incident)}
    assert seen[0] == ("incident", incident)  # its most urgent ticket ranks it
    assert care.inbox_page(settings, lee, "all teams", page=9, page_size=20)["page"] == 3  # past the end: the last
    narrowed = care.inbox_page(settings, lee, "all teams", care.InboxFilters(search="problem 1"), page_size=20)
    assert narrowed["total"] == len(narrowed["rows"]) == 11 and narrowed["pages"] == 1  # 1, 10-19


def test_an_incident_is_one_row_with_its_count_status_and_title(desk, database_url):
    settings, people = desk
    incident = make_incident(database_url, "Outage in the north")
    members = make_tickets(database_url, {"incident_id": incident, "priority": 20, "due_in": -3},
                           {"incident_id": incident, "priority": 80, "text": "Nimbus Mobile outage, no calls"},
                           {"incident_id": incident, "priority": 40})
    lone = make_tickets(database_url, {"priority": 60})
    rows = care.inbox_page(settings, people["lee"], "all teams")["rows"]
    assert [(r["kind"], r["id"]) for r in rows] == [("incident", incident), ("ticket", lone[0])]
    assert rows[0]["tickets"] == 3 and rows[0]["priority"] == 80 and rows[0]["status"] == "open"
    assert rows[0]["text"] == "Outage in the north" and rows[0]["breached"]
    only_one = care.inbox_page(settings, people["lee"], "all teams", care.InboxFilters(search="no calls"))
    assert only_one["rows"][0]["tickets"] == 1 and only_one["tickets"] == 1
    assert {t["id"] for t in care.inbox(settings, people["lee"], "all teams")} == set(members + lone)


def test_new_tickets_are_counted_from_what_the_agent_last_saw(desk, database_url):
    settings, people = desk
    make_tickets(database_url, {}, {})
    first = care.inbox_page(settings, people["ana"], "my team")
    assert first["new"] == 0
    arrived = make_tickets(database_url, {}, {"team": "vip"}, {})
    later = care.inbox_page(settings, people["ana"], "my team", seen_up_to=first["newest_id"])
    assert later["new"] == 2 and later["newest_id"] == arrived[2]  # the VIP ticket is not in this view
    assert care.inbox_page(settings, people["ana"], "my team", seen_up_to=later["newest_id"])["new"] == 0


def test_a_lead_moves_a_ticket_to_another_team(desk, database_url):
    settings, people = desk
    lee, ana, vic = people["lee"], people["ana"], people["vic"]
    mine, theirs = make_tickets(database_url, {"status": "assigned", "assignee_id": ana.id, "minutes_ago": 40},
                                {"status": "assigned", "assignee_id": vic.id, "team": "care"})
    with pytest.raises(AccessDeniedError, match="may not move tickets between teams"):
        care.move_team(settings, ana, mine, "vip")
    with pytest.raises(WorkflowError, match="not in care.teams"):
        care.move_team(settings, lee, mine, "billing")
    with pytest.raises(WorkflowError, match="already in team 'care'"):
        care.move_team(settings, lee, mine, "care")
    care.move_team(settings, lee, mine, "vip")
    context = care.ticket_context(settings, lee, mine)
    ticket = context["ticket"]
    assert ticket["team"] == "vip" and ticket["assignee_id"] is None and ticket["status"] == "new"
    moved = [(e["kind"], e["from"], e["to"], e["user"]) for e in context["history"][-2:]]
    assert moved == [("team", "care", "vip", "lee"), ("assigned", "ana", "team queue", "lee")]
    vip = next(t for t in settings.care.teams if t.name == "vip")
    assert (ticket["first_response_due"], ticket["resolution_due"]) == sla_deadlines(
        ticket["posted_at"], vip)  # from the post time, with the VIP targets (15 min)
    with pytest.raises(AccessDeniedError):
        care.ticket_context(settings, ana, mine)  # out of the agent's reach now
    care.move_team(settings, people["root"], theirs, "vip")
    assert care.ticket_context(settings, vic, theirs)["ticket"]["assignee_id"] == vic.id  # in the team: kept
    care.set_status(settings, vic, theirs, "resolved")
    with pytest.raises(WorkflowError, match="reopen it"):
        care.move_team(settings, lee, theirs, "care")


def test_a_team_without_members_is_refused_once_care_has_users(write_config):
    settings = write_config(care=CARE)
    care.check_teams_have_members(settings)  # a fresh install: nobody yet, nothing refused
    admin = create_user(settings, None, "root", "secret-pass-1", "admin")
    care.check_teams_have_members(settings)  # an admin is no care user
    ana = create_user(settings, None, "ana", "secret-pass-1", "care_agent", "care")
    with pytest.raises(ConfigError) as refused:
        care.check_teams_have_members(settings)
    message = str(refused.value)
    assert "care.routing[0] sends tickets to team 'vip'" in message and "default_team" not in message
    assert "brandpulse users add NAME --role care_agent --team vip" in message and "remove the rule" in message
    vic = create_user(settings, None, "vic", "secret-pass-1", "care_agent", "vip")
    care.check_teams_have_members(settings)
    change_user(settings, admin, vic.id, active=False)  # an inactive member claims nothing
    with pytest.raises(ConfigError, match=r"care.routing\[0\]"):
        care.check_teams_have_members(settings)
    change_user(settings, admin, vic.id, active=True)
    change_user(settings, admin, ana.id, team="vip")  # the default team loses its only member
    with pytest.raises(ConfigError, match="care.default_team sends tickets to team 'care'"):
        care.check_teams_have_members(settings)
