"""Omni-channel customers over real HTTP: identities with evidence, events in batches, one timeline
that keeps care reach, and the ticket page showing the same events (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from dashboard_session import signed_in

from brandpulse.core.errors import BrandpulseError
from brandpulse.services.access import scopes_for
from brandpulse.services.pipeline import analyze_pending
from brandpulse.services.triage import triage_new
from store.engine import session_scope
from store.models import Mention, Ticket, User
from store.models_api import WebhookEvent, WebhookSubscription
from store.replies import enqueue_reply
from tests.api_client import api_server, client, token_for  # noqa: F401
from tests.test_care import NOW, post

EVIDENCE = "customer confirmed handle in CRM case 881"
IDENTITIES = [{"kind": "email", "value": " Dana@Example.COM ", "evidence": "order confirmation mail"},
              {"kind": "x", "value": "@Dana", "evidence": EVIDENCE},
              {"kind": "reddit", "value": "u/dana_r", "evidence": EVIDENCE}]


def _iso(moment) -> str:
    return moment.isoformat()


class Tokens(dict):
    """A token per reader, made when first asked for (each user costs an argon2 hash)."""
    PEOPLE = {"lead": ("lee", "care_lead", ["customers:read", "customers:write"], "care"),
              "ana": ("ana", "care_agent", ["customers:read"], "care"),
              "vic": ("vic", "care_agent", ["customers:read"], "vip")}

    def __init__(self, settings) -> None:
        super().__init__()
        self.settings = settings

    def __missing__(self, reader: str) -> str:
        name, role, scopes, team = self.PEOPLE[reader]
        self[reader] = token_for(self.settings, name, role, scopes, team=team)
        return self[reader]


@pytest.fixture
def shop(settings, database_url, api_server):
    """Dana's posts on x (team care) and reddit (150k followers: team vip), tickets for both,
    a queued reply, a lead with a read/write token, agents of both teams, and the server."""
    post(database_url, "x1", "Nimbus Mobile charged me twice, I want a refund now", handle="Dana", minutes_ago=300)
    post(database_url, "x2", "Nimbus Mobile support was great, thanks!", handle="Dana", minutes_ago=200)
    post(database_url, "r1", "Nimbus Mobile billing is broken, charged twice again", handle="dana_r",
         network="reddit", followers=150_000, minutes_ago=100)
    post(database_url, "o1", "Nimbus Mobile is terrible, no signal", handle="dana", network="bluesky", minutes_ago=50)
    analyze_pending(settings)
    triage_new(settings, now=NOW)
    tokens = Tokens(settings)
    tokens["lead"]  # the reply below is the lead's
    with session_scope(database_url) as session:
        session.add(WebhookSubscription(url="https://crm.example/hook", event_types=["customer.updated"],
                                        secret="whsec_test"))
        tickets = {network: (tid, mid) for tid, mid, network in session.execute(
            select(Ticket.id, Ticket.mention_id, Mention.network).join(Mention, Mention.id == Ticket.mention_id))}
        lee = session.execute(select(User.id).where(User.username == "lee")).scalar_one()
        enqueue_reply(session, ticket_id=tickets["x"][0], mention_id=tickets["x"][1], network="x",
                      account="nimbus_x", body="Sorry Dana, refund is on its way", written_by=lee)
    return {"base": api_server(settings), "tokens": tokens, "tickets": tickets}


def _keys(items: list[dict]) -> list[tuple]:
    """The timeline's sort key of each item: (time, kind, id)."""
    return [(datetime.fromisoformat(i["at"]), i["kind"], i["id"]) for i in items]


def _put(http, external_id="crm-1", identities=IDENTITIES, name="Dana Example"):
    return http.put(f"/customers/{external_id}", json={"display_name": name, "identities": identities})


def test_put_creates_then_updates_links_accounts_into_one_timeline_and_refuses_bad_identities(shop, database_url):
    with client(shop["base"], shop["tokens"]["lead"]) as http:
        created = _put(http)
        assert created.status_code == 201, created.text
        body = created.json()
        assert {(i["kind"], i["value"]) for i in body["identities"]} == {
            ("email", "dana@example.com"), ("x", "dana"), ("reddit", "dana_r")}
        assert {(a["network"], a["handle"]) for a in body["authors"]} == {("x", "Dana"), ("reddit", "dana_r")}
        again = _put(http)  # idempotent: nothing changes, no second webhook event
        assert again.status_code == 200 and again.json() == body
        renamed = _put(http, identities=[], name="Dana E.")
        assert renamed.status_code == 200 and renamed.json()["display_name"] == "Dana E."
        assert len(renamed.json()["identities"]) == 3  # identities are added, never dropped by a PUT
        phone = _put(http, identities=[{"kind": "phone", "value": "0049 (151) 234-5678", "evidence": "CRM"}],
                     name="Dana E.")
        assert ("phone", "+491512345678") in {(i["kind"], i["value"]) for i in phone.json()["identities"]}
        with session_scope(database_url) as session:
            events = session.execute(select(WebhookEvent.type, WebhookEvent.subject)).all()
        assert events == [("customer.updated", f"customer:{body['id']}")] * 3  # made, renamed, phone added

        items, page = [], {"next_cursor": None}
        while True:
            page = http.get("/customers/crm-1/timeline",
                            params={"limit": 2, **({"cursor": page["next_cursor"]} if page["next_cursor"] else {})}
                            ).json()
            items += page["items"]
            if not page["next_cursor"]:
                break
        kinds = [(i["kind"], i.get("network")) for i in items]
        assert sorted(kinds, key=str) == sorted([("post", "x"), ("post", "x"), ("post", "reddit"), ("ticket", "x"),
                                                 ("ticket", "reddit"), ("reply", "x")], key=str)
        keys = _keys(items)
        assert keys == sorted(keys, reverse=True) and len(set(keys)) == len(keys)  # newest first, no repeats
        assert all(i["network"] != "bluesky" for i in items)  # another network's "dana" is not guessed

        bare = _put(http, identities=[{"kind": "x", "value": "dana"}])
        assert bare.status_code == 422
        assert [e["field"] for e in bare.json()["errors"]] == ["body.identities.0.evidence"]
        blank = _put(http, identities=[{"kind": "email", "value": "a@b.example", "evidence": "   "}])
        assert blank.status_code == 422 and blank.json()["errors"][0]["field"] == "body.identities.0.evidence"
        phone = _put(http, identities=[{"kind": "phone", "value": "0151 234", "evidence": EVIDENCE}])
        assert phone.status_code == 422 and "country code" in phone.json()["detail"]
        clash = _put(http, "crm-2", identities=[{"kind": "email", "value": "DANA@example.com", "evidence": "shop"}])
        assert clash.status_code == 409
        assert "crm-1" in clash.json()["detail"] and "crm-2" in clash.json()["detail"]
        assert http.get("/customers/crm-2").status_code == 404  # nothing was changed


def test_delete_identity_unlinks_its_account_and_leaves_the_rest(shop, database_url):
    with client(shop["base"], shop["tokens"]["lead"]) as http:
        assert _put(http).status_code == 201
        gone = http.delete("/customers/crm-1/identities/reddit/u%2FDana_R")  # normalised like PUT
        assert gone.status_code == 200, gone.text
        body = gone.json()
        assert {(i["kind"], i["value"]) for i in body["identities"]} == {("email", "dana@example.com"), ("x", "dana")}
        assert {(a["network"], a["handle"]) for a in body["authors"]} == {("x", "Dana")}
        timeline = http.get("/customers/crm-1/timeline", params={"limit": 100}).json()["items"]
        assert all(i.get("network") != "reddit" for i in timeline)  # the unlinked account's posts left
        again = http.delete("/customers/crm-1/identities/reddit/dana_r")
        assert again.status_code == 404 and "GET /v1/customers/crm-1" in again.json()["detail"]
        assert http.delete("/customers/crm-9/identities/email/a@b.example").status_code == 404
        assert http.delete("/customers/crm-1/identities/fax/123").status_code == 422
        # an agent with read scope only may not remove identities
    with client(shop["base"], shop["tokens"]["ana"]) as http:
        assert http.delete("/customers/crm-1/identities/x/dana").status_code == 403
    with session_scope(database_url) as session:
        events = session.execute(select(WebhookEvent.payload).where(WebhookEvent.type == "customer.updated")
                                 .order_by(WebhookEvent.id)).scalars().all()
    assert events[-1]["removed_identity"] == {"kind": "reddit", "value": "dana_r"} and events[-1]["unlinked_authors"]


def test_events_batch_keeps_good_items_reports_bad_ones_and_never_duplicates(shop):
    with client(shop["base"], shop["tokens"]["lead"]) as http:
        assert _put(http).status_code == 201
        batch = [{"customer": "crm-1", "type": "order_placed", "time": _iso(NOW - timedelta(minutes=250)),
                  "properties": {"order": "A-1009", "total": 59.9}, "id": "ord-1"},
                 {"customer": "crm-1", "type": "Order Placed", "time": _iso(NOW)},
                 {"customer": "nobody", "type": "store_visit", "time": _iso(NOW)},
                 {"customer": "crm-1", "type": "web_chat", "time": _iso(NOW + timedelta(days=3))},
                 "not an object",
                 {"customer": "crm-1", "type": "crm_case", "time": (NOW - timedelta(minutes=30)).replace(
                     tzinfo=None).isoformat(), "properties": {"case": 881}}]
        answer = http.post("/events", json={"events": batch})
        assert answer.status_code == 200, answer.text
        report = answer.json()
        assert (report["accepted"], report["duplicates"], report["rejected"]) == (2, 0, 4)
        status = {r["index"]: r for r in report["results"]}
        assert status[0]["status"] == status[5]["status"] == "accepted" and status[0]["id"] == "ord-1"
        assert status[1]["reason"].startswith("type:") and "customer" in status[2]["reason"]
        assert "future" in status[3]["reason"] and status[4]["status"] == "rejected"
        resent = http.post("/events", json={"events": batch[:1]}).json()
        assert resent["results"][0]["status"] == "duplicate" and resent["accepted"] == 0
        events = [i for i in http.get("/customers/crm-1/timeline", params={"limit": 100}).json()["items"]
                  if i["kind"] == "event"]
        assert [(e["type"], e["source"]) for e in events] == [("crm_case", "lee-token"), ("order_placed", "lee-token")]
        assert events[0]["at"].startswith((NOW - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M"))  # naive = UTC
        assert http.post("/events", json={"events": batch * 200}).status_code == 422  # over 1000 in one batch


def test_context_and_care_reach_of_each_reader(shop, settings):
    with client(shop["base"], shop["tokens"]["lead"]) as http:
        assert _put(http).status_code == 201
        http.post("/events", json={"events": [{"customer": "crm-1", "type": f"visit_{n}", "id": f"v{n}",
                                               "time": _iso(NOW - timedelta(hours=n))} for n in range(1, 8)]})
        context = http.get("/customers/crm-1/context").json()
    assert len(context["sentiment_trend"]) == 8
    assert sum(w["posts"] for w in context["sentiment_trend"]) == 3  # x1, x2, r1; bluesky's dana is not hers
    assert context["influence_tier"] == "mid" and context["max_followers"] == 150_000
    assert len(context["open_tickets"]) == 2 and context["open_tickets_elsewhere"] == 0
    assert [e["type"] for e in context["last_events"]] == [f"visit_{n}" for n in range(1, 6)]
    vip_ticket, care_ticket = shop["tickets"]["reddit"][0], shop["tickets"]["x"][0]
    for reader, visible, hidden in (("ana", care_ticket, vip_ticket), ("vic", vip_ticket, care_ticket)):
        with client(shop["base"], shop["tokens"][reader]) as http:
            items = http.get("/customers/crm-1/timeline", params={"limit": 100}).json()["items"]
            tickets = {i["id"] for i in items if i["kind"] == "ticket"}
            assert tickets == {visible}, (reader, items)
            assert all(i["ticket_id"] != hidden for i in items if i["kind"] == "reply")
            assert {i["kind"] for i in items} >= {"post", "event"} and _keys(items) == sorted(_keys(items), reverse=True)
            context = http.get("/customers/crm-1/context").json()
            assert [t["id"] for t in context["open_tickets"]] == [visible]
            assert context["open_tickets_elsewhere"] == 1
            refused = http.put("/customers/crm-1", json={"display_name": "x"})
            assert refused.status_code == 403 and "customers:write" in refused.json()["detail"]
    with pytest.raises(BrandpulseError, match="customers:read"):
        token_for(settings, "mia", "marketing", ["customers:read"])
    assert "customers:write" not in scopes_for("care_agent") and "customers:read" in scopes_for("care_agent")


def test_the_ticket_page_lists_the_customers_events_as_text(shop):
    with client(shop["base"], shop["tokens"]["lead"]) as http:
        assert _put(http).status_code == 201
        http.post("/events", json={"events": [{"customer": "crm-1", "type": "order_placed",
                                               "time": _iso(NOW - timedelta(minutes=10)),
                                               "properties": {"order": "**A-1009**", "total": 59.9}}]})
    app = signed_in("lee", "secret-pass-1", {"page": "Care inbox", "ticket": str(shop["tickets"]["x"][0])})
    assert not app.exception, app.exception
    frames = [d.value for d in app.dataframe if "what" in d.value.columns]
    assert frames, "the ticket page shows no customer timeline"
    events = frames[0][frames[0]["what"] == "event · order_placed"]
    assert len(events) == 1 and list(events["text"]) == ["order: **A-1009**, total: 59.9"]
    assert list(events["who"]) == ["from lee-token"]
