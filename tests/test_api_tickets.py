"""/v1/tickets and /v1/alerts over real HTTP: inbox views by key, care reach, If-Match, retries, acknowledging."""

from __future__ import annotations

from datetime import timedelta

import pytest

from brandpulse.core.errors import BrandpulseError
from brandpulse.services.pipeline import analyze_pending
from brandpulse.services.triage import triage_new
from store.alerts import save_alert
from store.brands import sync_brands
from store.engine import session_scope
from tests.api_client import api_server, client, token_for  # noqa: F401
from tests.test_care import NOW, post

CARE = {"ticket_intents": ["complaint", "question"], "default_team": "care",
        "teams": [{"name": "care", "first_response_minutes": 60, "auto_assign": False},
                  {"name": "vip", "first_response_minutes": 15, "auto_assign": False}],
        "routing": [{"team": "vip", "min_followers": 100000}]}
GRIEVANCES = ["charged me twice this month, terrible", "my signal keeps dropping at home, awful",
              "support never answered my email, useless", "roaming fees are a scam, angry",
              "the app crashes on login every time, broken", "lost my number after the port, horrible"]


def _tickets(settings, database_url, texts, *, start=0) -> None:
    """A ticket for each text, from customers cust<start>, cust<start+1>, ...; the sixth one's author is big
    enough for the VIP team."""
    for i, text in enumerate(texts, start):
        post(database_url, f"p{i}", f"Nimbus Mobile {text}", handle=f"cust{i}",
             followers=500_000 if i == 5 else 50, minutes_ago=60 - i)
    analyze_pending(settings)
    triage_new(settings, now=NOW)


@pytest.fixture
def desk(write_config, database_url, api_server):
    """Five care tickets and one VIP ticket; the API's base URL and token(name): the token of ana (care
    agent), vic (VIP agent) or lee (care lead), made when first asked for."""
    settings = write_config(care=CARE)
    _tickets(settings, database_url, GRIEVANCES)
    people = {"ana": ("care_agent", "care"), "vic": ("care_agent", "vip"), "lee": ("care_lead", "care")}

    def token(name: str) -> str:
        role, team = people[name]
        return token_for(settings, name, role, ["tickets:read", "tickets:write"], team=team)
    return settings, api_server(settings), token


def _all(http, **params) -> list[dict]:
    page = http.get("/tickets", params=params).json()
    items = page["items"]
    while page["next_cursor"]:
        page = http.get("/tickets", params={**params, "cursor": page["next_cursor"]}).json()
        items += page["items"]
    return items


def test_a_view_pages_by_key_within_the_agents_reach_while_tickets_arrive(desk, database_url):
    settings, base, token = desk
    with client(base, token("ana")) as ana, client(base, token("vic")) as vic:
        first = ana.get("/tickets", params={"view": "my_team", "limit": 2})
        assert first.status_code == 200, first.text
        page = first.json()
        seen = page["items"]
        _tickets(settings, database_url, ["my bill doubled without warning, terrible"], start=9)  # arrives now
        while page["next_cursor"]:
            page = ana.get("/tickets", params={"view": "my team", "limit": 2, "cursor": page["next_cursor"]}).json()
            seen += page["items"]
        ids = [t["id"] for t in seen]
        assert len(ids) == 5 and ids == sorted(set(ids), reverse=True)
        row = seen[0]
        assert row["team"] == "care" and row["status"] == "new" and row["assignee"] is None
        assert row["brand"] == "Nimbus Mobile" and row["author"] == "cust4" and row["version"] >= 0
        assert row["sla"] and isinstance(row["breached"], bool) and row["network"] == "x"

        everything = _all(ana, view="all_teams", limit=50)
        assert {t["team"] for t in everything} == {"care"} and len(everything) == 6  # never the VIP ticket
        assert everything[0]["author"] == "cust9" and everything[0]["id"] not in ids
        [vip_ticket] = _all(vic, view="all teams")
        assert vip_ticket["team"] == "vip"
        refused = vic.get(f"/tickets/{ids[0]}")
        assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
        assert "may reach only their team's tickets" in refused.json()["detail"]
        assert ana.get(f"/tickets/{vip_ticket['id']}").status_code == 403
        assert ana.get("/tickets/999999").status_code == 404
        found = _all(ana, view="all_teams", q="ROAMING")
        assert [t["author"] for t in found] == ["cust3"]
        late = _all(ana, view="unassigned", status="new", breached="true")
        assert {t["id"] for t in late} == {t["id"] for t in everything if t["breached"]}
    with pytest.raises(BrandpulseError, match="does not allow tickets:read"):
        token_for(settings, "mia", "marketing", ["tickets:read"])


def test_writes_honour_if_match_and_keep_the_dashboards_rules(desk):
    settings, base, token = desk
    lead = token("lee")
    with client(base, token("ana")) as ana:
        tid = ana.get("/tickets", params={"view": "my_team", "limit": 1}).json()["items"][0]["id"]
        one = ana.get(f"/tickets/{tid}")
        assert one.status_code == 200, one.text
        etag, detail = one.headers["ETag"], one.json()
        assert etag == f'"{detail["version"]}"' and detail["mentions"][0]["author"] == "cust4"
        assert detail["sla"]["first_response_left_s"] is not None and detail["history"][0]["kind"] == "created"
        assert "replies" in detail["customer"] and "ana" in [m["username"] for m in detail["team_members"]]

        claimed = ana.post(f"/tickets/{tid}/assign", json={"assignee": "me"}, headers={"If-Match": etag})
        assert claimed.status_code == 200, claimed.text
        assert claimed.json()["assignee"] == "ana" and claimed.json()["status"] == "assigned"
        assert claimed.headers["ETag"] != etag

        stale = ana.post(f"/tickets/{tid}/status", json={"status": "resolved", "note": "done"},
                         headers={"If-Match": etag})
        assert stale.status_code == 412 and stale.headers["content-type"] == "application/problem+json"
        now_at = claimed.json()["version"]
        assert f"now at version {now_at}" in stale.json()["detail"]
        after = ana.get(f"/tickets/{tid}").json()
        assert after["status"] == "assigned" and after["version"] == now_at
        assert [e["kind"] for e in after["history"]] == ["created", "assigned"]

        bad = ana.post(f"/tickets/{tid}/status", json={"status": "closed"})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.status"
        wrong_tag = ana.post(f"/tickets/{tid}/notes", json={"body": "x"}, headers={"If-Match": "yesterday"})
        assert wrong_tag.status_code == 422 and wrong_tag.json()["errors"][0]["field"] == "header.If-Match"
        waiting = ana.post(f"/tickets/{tid}/status", json={"status": "waiting_customer"})
        assert waiting.status_code == 200  # no If-Match: whatever the version
        reopen = ana.post(f"/tickets/{tid}/status", json={"status": "new"})
        assert reopen.status_code == 409 and "may go to" in reopen.json()["detail"]
        others = ana.post(f"/tickets/{tid}/assign", json={"assignee": "lee"})
        assert others.status_code == 403 and "care_lead" in others.json()["detail"]
        nobody = ana.post(f"/tickets/{tid}/assign", json={"assignee": "ghost"})
        assert nobody.status_code == 404 and "ghost" in nobody.json()["detail"]
    with client(base, lead) as lee:
        moved = lee.post(f"/tickets/{tid}/assign", json={"assignee": None}, headers={"If-Match": f'W/"{now_at + 1}"'})
        assert moved.status_code == 200 and moved.json()["assignee"] is None


def test_a_retried_note_is_added_once_and_a_reused_key_is_refused(desk):
    settings, base, token = desk
    with client(base, token("ana")) as ana:
        tid = ana.get("/tickets", params={"view": "my_team", "limit": 1}).json()["items"][0]["id"]
        key = {"Idempotency-Key": "note-7f3a"}
        first = ana.post(f"/tickets/{tid}/notes", json={"body": "customer called too"}, headers=key)
        again = ana.post(f"/tickets/{tid}/notes", json={"body": "customer called too"}, headers=key)
        assert first.status_code == again.status_code == 200, first.text
        assert again.headers["Idempotent-Replayed"] == "true" and again.json() == first.json()
        assert again.headers["ETag"] == first.headers["ETag"]
        notes = [e for e in ana.get(f"/tickets/{tid}").json()["history"] if e["kind"] == "note"]
        assert [n["body"] for n in notes] == ["customer called too"] and notes[0]["user"] == "ana"
        clash = ana.post(f"/tickets/{tid}/notes", json={"body": "something else"}, headers=key)
        assert clash.status_code == 422 and "different request" in clash.json()["detail"]


def _alert(brand_id: int, rule: str, hours_ago: int) -> dict:
    end = NOW - timedelta(hours=hours_ago)
    return {"brand_id": brand_id, "rule": rule, "severity": "warning", "title": f"{rule} {hours_ago}h ago",
            "evidence": {"observed": hours_ago}, "window_start": end - timedelta(hours=1), "window_end": end,
            "dedupe_key": f"{rule}:{hours_ago}", "fired_at": end}


def test_alerts_list_by_key_and_are_acknowledged_by_allowed_tokens(settings, database_url, api_server):
    with session_scope(database_url) as session:
        brand_id = sync_brands(session, settings.brands)["Nimbus Mobile"]
        for rule, hours in [("volume_spike", 5), ("negative_share", 4), ("volume_spike", 3)]:
            save_alert(session, _alert(brand_id, rule, hours))
    writer = token_for(settings, "mia", "marketing", ["alerts:read", "alerts:write"])
    reader = token_for(settings, "bo", "brand_manager", ["alerts:read"])
    base = api_server(settings)
    with client(base, writer) as mia, client(base, reader) as bo:
        page = mia.get("/alerts", params={"limit": 2}).json()
        assert [a["title"] for a in page["items"]] == ["volume_spike 3h ago", "negative_share 4h ago"]
        rest = mia.get("/alerts", params={"limit": 2, "cursor": page["next_cursor"]}).json()
        assert [a["title"] for a in rest["items"]] == ["volume_spike 5h ago"] and rest["next_cursor"] is None
        assert page["items"][0]["brand"] == "Nimbus Mobile" and page["items"][0]["evidence"] == {"observed": 3}
        spikes = mia.get("/alerts", params={"rule": "volume_spike", "brand": "Nimbus Mobile"}).json()["items"]
        assert len(spikes) == 2
        target = spikes[0]["id"]
        assert bo.post(f"/alerts/{target}/acknowledge").status_code == 403
        done = mia.post(f"/alerts/{target}/acknowledge")
        assert done.status_code == 200, done.text
        assert done.json()["acknowledged_by"] == "mia" and done.json()["acknowledged_at"]
        seen = bo.get("/alerts", params={"acknowledged": "true"}).json()["items"]
        assert [a["id"] for a in seen] == [target]
        assert len(bo.get("/alerts", params={"acknowledged": "false"}).json()["items"]) == 2
        since = (NOW - timedelta(hours=4, minutes=30)).isoformat()
        assert len(bo.get("/alerts", params={"since": since}).json()["items"]) == 2
        assert mia.post("/alerts/999999/acknowledge").status_code == 404
        assert bo.get("/alerts", params={"brand": "Nobody"}).status_code == 404


def test_two_writes_sent_at_once_with_one_version_apply_once(desk):
    from concurrent.futures import ThreadPoolExecutor

    settings, base, token = desk
    lee = token("lee")
    with client(base, lee) as http:
        ticket = http.get("/tickets", params={"view": "all_teams"}).json()["items"][0]
        etag = http.get(f"/tickets/{ticket['id']}").headers["ETag"]

    def note(i: int) -> int:
        with client(base, lee) as http:
            return http.post(f"/tickets/{ticket['id']}/notes", json={"body": f"note {i}"},
                             headers={"If-Match": etag}).status_code
    with ThreadPoolExecutor(4) as pool:
        codes = sorted(pool.map(note, range(4)))
    assert codes == [200, 412, 412, 412], codes
    with client(base, lee) as http:
        history = http.get(f"/tickets/{ticket['id']}").json()["history"]
    assert sum(e["kind"] == "note" for e in history) == 1
