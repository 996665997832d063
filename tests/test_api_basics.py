"""The API over real HTTP: tokens and scopes, problem+json errors, keyset pages, rate limits."""

from __future__ import annotations

import pytest

from brandpulse.services.accounts import change_user, list_users
from brandpulse.services.tokens import list_tokens, revoke_token
from tests.api_client import api_server, client, token_for  # noqa: F401
from tests.test_care import post


def test_a_token_lists_mentions_page_by_page_without_skipping_or_repeating_while_more_arrive(
        settings, database_url, api_server):
    for i in range(7):
        post(database_url, f"m{i}", f"Nimbus Mobile post number {i}", minutes_ago=100 - i)
    token = token_for(settings, "mia", "marketing", ["mentions:read"])
    with client(api_server(settings), token) as http:
        first = http.get("/mentions", params={"limit": 3})
        assert first.status_code == 200, first.text
        assert first.headers["RateLimit-Limit"] == "600" and "RateLimit-Remaining" in first.headers
        page = first.json()
        seen = [m["native_id"] for m in page["items"]]
        assert seen == ["m6", "m5", "m4"]
        post(database_url, "late", "Nimbus Mobile newer post arriving while paging", minutes_ago=1)
        while page["next_cursor"]:
            page = http.get("/mentions", params={"limit": 3, "cursor": page["next_cursor"]}).json()
            seen += [m["native_id"] for m in page["items"]]
        assert seen == [f"m{i}" for i in range(6, -1, -1)]
        one = http.get(f"/mentions/{first.json()['items'][0]['id']}").json()
        assert one["text"] == "Nimbus Mobile post number 6" and one["analysis_status"] == "pending"


def test_refusals_are_problem_details_that_say_what_to_do(settings, database_url, api_server):
    token = token_for(settings, "ana", "care_agent", ["tickets:read"], team="care")
    base = api_server(settings)
    with client(base, None) as anonymous:
        missing = anonymous.get("/mentions")
        assert missing.status_code == 401
        assert missing.headers["content-type"] == "application/problem+json"
        assert "Authorization header" in missing.json()["detail"]
    with client(base, "bp_not-a-real-token") as wrong:
        assert wrong.get("/mentions").status_code == 401
    with client(base, token) as http:
        lacking = http.get("/mentions")
        assert lacking.status_code == 403 and "mentions:read" in lacking.json()["detail"]
        bad = http.get("/mentions", params={"cursor": "garbage", "limit": 0})
        assert bad.status_code in (403, 422)
        nowhere = http.get("/no-such-thing")
        assert nowhere.status_code == 404 and nowhere.json()["instance"] == "/v1/no-such-thing"


def test_bad_input_names_the_field(settings, api_server):
    token = token_for(settings, "mia", "marketing", ["mentions:read"])
    with client(api_server(settings), token) as http:
        answer = http.get("/mentions", params={"limit": 5000, "sentiment": "angry"})
        assert answer.status_code == 422
        fields = {e["field"] for e in answer.json()["errors"]}
        assert fields == {"query.limit", "query.sentiment.0"} or {"query.limit"} <= fields
        cursor = http.get("/mentions", params={"cursor": "not-a-cursor"})
        assert cursor.status_code == 422 and cursor.json()["errors"][0]["field"] == "query.cursor"
        brand = http.get("/mentions", params={"brand": "Nobody"})
        assert brand.status_code == 404 and "Nimbus Mobile" in brand.json()["detail"]


def test_a_demoted_or_revoked_token_loses_its_rights_at_once(write_config, api_server):
    settings = write_config(care={"teams": [{"name": "care"}], "default_team": "care"})
    token = token_for(settings, "mia", "marketing", ["mentions:read", "influencers:read"])
    [info] = list_tokens(settings, None)
    mia = next(u for u in list_users(settings, None) if u["username"] == "mia")
    with client(api_server(settings), token) as http:
        assert http.get("/mentions").status_code == 200
        change_user(settings, None, mia["id"], role="care_agent", team="care")
        assert http.get("/mentions").status_code == 200  # care agents read mentions too
        demoted = http.get("/influencers", params={"brand": "Nimbus Mobile"})
        assert demoted.status_code == 403 and "care_agent" in demoted.json()["detail"]
        revoke_token(settings, None, info["id"])
        gone = http.get("/mentions")
        assert gone.status_code == 401 and "revoked" in gone.json()["detail"]
    assert list_tokens(settings, None)[0]["state"] == "revoked"


def test_scopes_beyond_the_role_are_refused_when_the_token_is_made(settings):
    from brandpulse.core.errors import BrandpulseError
    with pytest.raises(BrandpulseError, match="does not allow webhooks:manage"):
        token_for(settings, "mia", "marketing", ["webhooks:manage"])


def test_the_rate_limit_answers_429_with_retry_after(settings, api_server):
    token = token_for(settings, "mia", "marketing", ["mentions:read"], rate=2)
    with client(api_server(settings), token) as http:
        assert http.get("/mentions").status_code == 200
        assert http.get("/mentions").headers["RateLimit-Remaining"] == "0"
        refused = http.get("/mentions")
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert refused.json()["type"].endswith("/rate-limited")


def test_tokens_from_the_command_line_are_shown_once_listed_without_secret_and_revoked(settings):
    from typer.testing import CliRunner

    from brandpulse.cli.main import app
    from brandpulse.services.accounts import create_user
    from brandpulse.services.tokens import authenticate

    create_user(settings, None, "mia", "secret-pass-1", "marketing")
    runner = CliRunner()
    made = runner.invoke(app, ["tokens", "create", "--name", "crm", "--user", "mia", "--scopes", "all"])
    assert made.exit_code == 0, made.output
    secret = made.output.strip().splitlines()[-1]
    assert secret.startswith("bp_") and "influencers:read" in made.output
    assert authenticate(settings, secret).actor.username == "mia"
    listed = runner.invoke(app, ["tokens", "list"])
    assert "crm" in listed.output and secret not in listed.output and secret[:10] in listed.output
    wrong = runner.invoke(app, ["tokens", "create", "--name", "x", "--user", "mia", "--scopes", "tickets:write"])
    assert wrong.exit_code != 0 and "does not allow tickets:write" in wrong.output
    nobody = runner.invoke(app, ["tokens", "create", "--name", "x", "--user", "ghost", "--scopes", "all"])
    assert nobody.exit_code != 0 and "no user named 'ghost'" in nobody.output
    assert runner.invoke(app, ["tokens", "revoke", "1"]).exit_code == 0
    assert "revoked" in runner.invoke(app, ["tokens", "list"]).output


def test_search_finds_indexed_and_newer_unindexed_mentions_and_escapes_wildcards(settings, database_url, api_server):
    from store.engine import session_scope
    from store.search import refresh_search_index

    post(database_url, "old", "Nimbus Mobile double charge on my bill", minutes_ago=50)
    post(database_url, "pct", "Nimbus Mobile 100% double charge again", minutes_ago=40)
    post(database_url, "other", "Nimbus Mobile signal is fine", minutes_ago=30)
    with session_scope(database_url) as session:
        refresh_search_index(session)
    post(database_url, "new", "Nimbus Mobile DOUBLE CHARGE after the index", minutes_ago=1)
    token = token_for(settings, "mia", "marketing", ["mentions:read"])
    with client(api_server(settings), token) as http:
        found = [m["native_id"] for m in http.get("/mentions", params={"q": "double charge"}).json()["items"]]
        assert found == ["new", "pct", "old"]
        assert [m["native_id"] for m in http.get("/mentions", params={"q": "100%"}).json()["items"]] == ["pct"]
        assert http.get("/mentions", params={"q": "%"}).json()["items"] == [] or all(
            "%" in m["text"] for m in http.get("/mentions", params={"q": "%"}).json()["items"])
