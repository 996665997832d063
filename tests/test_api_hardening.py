"""The API under hostile or careless input, over real HTTP: every refusal is a problem+json that says
what to fix, nothing becomes a 500 or a 503, bodies are capped, replays need a valid token, a key
left by a dead process is usable again, and a mention never names a ticket its reader may not reach."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

import httpx

from brandpulse.services.accounts import change_user, list_users
from brandpulse.services.pipeline import analyze_pending
from brandpulse.services.accounts import token_digest
from brandpulse.services.triage import triage_new
from store.engine import session_scope
from store.idempotency import begin_request
from tests.api_client import api_server, client, token_for  # noqa: F401
from tests.test_care import CARE, NOW, post

PROBLEM = "application/problem+json"


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _problem(answer: httpx.Response, status: int, *words: str) -> dict:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    body = answer.json()
    assert "Traceback" not in body["detail"] and "bp_" not in body["detail"]
    for word in words:
        assert word in body["detail"], body["detail"]
    return body


def test_odd_input_gets_a_problem_that_names_it_never_a_server_error(settings, database_url, api_server):
    post(database_url, "m1", "Nimbus Mobile works fine today", minutes_ago=30)
    token = token_for(settings, "mia", "marketing", ["mentions:read", "alerts:read", "analyze"])
    admin = token_for(settings, "root", "admin", ["customers:write"])
    base = api_server(settings)
    with client(base, token) as http:
        for since in ("2026-11-01", "2026-11-01T00:00:00"):  # no offset: taken as UTC (was a 503)
            answer = http.get("/mentions", params={"since": since})
            assert answer.status_code == 200 and answer.json()["items"], answer.text
        assert http.get("/alerts", params={"since": "2026-01-01"}).status_code == 200
        _problem(http.get("/mentions", params={"since": "0001-01-01T00:00:00+01:00"}), 422, "query.since")
        _problem(http.get("/mentions", params={"since": "2026-13-45"}), 422, "query.since")
        _problem(http.get(f"/mentions/{2**63}"), 422, "path.mention_id")
        for raw in ('["2026-01-01T00:00:00+00:00",1e400]', '["2026-01-01T00:00:00+00:00",1e30]',
                    '["2026-01-01T00:00:00+00:00",true]', '["2026-01-01T00:00:00+00:00",99999999999999999999999]'):
            _problem(http.get("/mentions", params={"cursor": _cursor(raw)}), 422, "cursor", "next_cursor")
        naive = http.get("/mentions", params={"cursor": _cursor('["2999-01-01T00:00:00",1]')})
        assert naive.status_code == 200 and naive.json()["items"], naive.text
        follow = http.get("/mentions", params={"limit": 1})  # the same connection still answers
        assert follow.status_code == 200
        _problem(http.post("/analyze", content=b"texts=hello", headers={"content-type": "text/plain"}),
                 422, "Content-Type: application/json")
        _problem(http.post("/analyze", content=b'{"texts":["\xff"]}', headers={"content-type": "application/json"}),
                 400, "JSON")
        _problem(http.get("/analyze"), 405, "use POST")
    with client(base, admin) as http:
        event = {"customer": "crm-1", "type": "order_placed", "time": "0001-01-01T00:00:00+01:00", "id": "e1"}
        answer = http.post("/events", json={"events": [event]})
        assert answer.status_code == 200 and answer.json()["results"][0]["status"] == "rejected", answer.text
    for header, words in [("Basic eDp5", ("'Basic' scheme", "Bearer")), (token, ("lacks the word Bearer",))]:
        _problem(httpx.get(base + "/v1/mentions", headers={"Authorization": header}), 401, *words)


def test_bodies_over_the_cap_are_refused_with_413(settings, database_url, api_server):
    token = token_for(settings, "root", "admin", ["customers:write"])
    big = b'{"events":[{"x":"' + b"a" * (17 * 1024 * 1024) + b'"}]}'

    def chunks():
        for start in range(0, len(big), 1024 * 1024):
            yield big[start:start + 1024 * 1024]

    with client(api_server(settings), token) as http:
        for headers, content in [({}, big), ({}, chunks()), ({"Idempotency-Key": "big"}, chunks())]:
            _problem(http.post("/events", content=content, headers={"content-type": "application/json", **headers}),
                     413, "16 MiB", "smaller requests")


def test_an_idempotent_replay_needs_a_valid_token_and_a_dead_requests_key_is_usable_again(
        settings, database_url, api_server):
    token = token_for(settings, "mia", "marketing", ["analyze"], rate=100)
    base = api_server(settings)
    body = b'{"texts": ["Nimbus Mobile support is great"]}'
    with client(base, token) as http:
        def send(key: str, content: bytes = body) -> httpx.Response:
            return http.post("/analyze", content=content,
                             headers={"Idempotency-Key": key, "content-type": "application/json"})

        assert send("k1").status_code == 200
        again = send("k1")
        assert again.headers["Idempotent-Replayed"] == "true" and "RateLimit-Remaining" in again.headers
        clash = send("k1", b'{"texts": ["another text"]}')
        _problem(clash, 422, "different request")
        assert "RateLimit-Limit" in clash.headers
        fingerprint = hashlib.sha256(b"\n".join([b"POST", b"/v1/analyze", body])).hexdigest()
        with session_scope(settings.database.url) as session:  # the claim of a request killed with -9
            assert begin_request(session, token_digest(token), "k2", fingerprint, NOW - timedelta(minutes=5))[0] == "new"
        retried = send("k2")
        assert retried.status_code == 200 and "Idempotent-Replayed" not in retried.headers, retried.text
        mia = next(u for u in list_users(settings, None) if u["username"] == "mia")
        change_user(settings, None, mia["id"], active=False)
        _problem(send("k1"), 401, "no longer an active user")


def test_a_mention_names_its_ticket_only_to_those_who_may_reach_it(database_url, api_server, write_config):
    settings = write_config(care=CARE)
    post(database_url, "t1", "@NimbusMobile my phone has had no signal for three days, fix it now!")
    analyze_pending(settings)
    assert triage_new(settings, now=NOW) == 1
    tokens = {name: token_for(settings, name, role, ["mentions:read"], team=team)
              for name, role, team in [("ana", "care_agent", "care"), ("vic", "care_agent", "vip"),
                                       ("mia", "marketing", None)]}
    base = api_server(settings)
    with client(base, tokens["ana"]) as http:
        mention_id = http.get("/mentions").json()["items"][0]["id"]
        assert http.get(f"/mentions/{mention_id}").json()["ticket_id"] is not None
    for name in ("vic", "mia"):
        with client(base, tokens[name]) as http:
            assert http.get(f"/mentions/{mention_id}").json()["ticket_id"] is None
