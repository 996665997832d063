"""The Mastodon collector: real Mastodon.py against a local server replaying recorded responses."""

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from brandpulse.services.collecting import collect_all
from fakeserver import FakeServer, Reply, body_of, recorded
from store.collectors import which_sources_report_health
from store.engine import session_scope
from store.models import Mention

TAG = "/api/v1/timelines/tag/hoot"
TIMELINE = "mastodon/hashtag_timeline.json"
EMPTY = Reply(200, "[]")


@pytest.fixture
def servers():
    with FakeServer() as first, FakeServer() as second:
        yield first, second


@pytest.fixture
def mastodon_settings(write_config, servers, monkeypatch):
    monkeypatch.delenv("BRANDPULSE_MASTODON_TOKEN", raising=False)

    def make(count=1, **extra):
        source = {"enabled": True, "instances": [s.url for s in servers[:count]], **extra}
        return write_config(brands=[{"name": "Hoot", "query": "hoot OR #hoot"}], sources={"mastodon": source})
    return make


def test_hashtag_timeline_pages_forward_with_min_id(mastodon_settings, servers, database_url):
    server = servers[0]
    server.route("GET", TAG, recorded(TIMELINE, 2), EMPTY)
    (result,) = collect_all(mastodon_settings())
    assert (result.fetched, result.stored) == (1, 1)
    (first,) = server.calls(TAG)  # a short page means we are at the newest status
    assert "min_id" not in first["query"] and first["query"]["limit"] == ["40"]
    (again,) = collect_all(mastodon_settings())
    assert again.stored == 0
    assert server.calls(TAG)[-1]["query"]["min_id"] == ["117020593741189701"]
    with session_scope(database_url) as session:
        mention = session.execute(select(Mention)).scalar_one()
    assert mention.text == "#hoot (hashtag toot)" and mention.language == "ja"
    assert mention.created_at == datetime(2026, 8, 1, 13, 55, 55, 867000, tzinfo=timezone.utc)


def test_rate_limit_reset_is_read_as_iso_8601(mastodon_settings, servers, database_url):
    reset = (datetime.now(timezone.utc) + timedelta(minutes=5)).replace(microsecond=0)
    servers[0].route("GET", TAG, Reply(429, json.dumps({"error": "Too many requests"}), {
        "content-type": "application/json", "x-ratelimit-limit": "300", "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": reset.strftime("%Y-%m-%dT%H:%M:%S.000000Z")}))
    (result,) = collect_all(mastodon_settings())
    assert "rate limit" in result.errors[0]
    with session_scope(database_url) as session:
        (health,) = which_sources_report_health(session)
    assert health.state == "rate_limited"
    assert abs((health.rate_limited_until - reset).total_seconds()) < 2


def test_one_failing_instance_does_not_stop_the_others(mastodon_settings, servers, database_url):
    good, bad = servers
    good.route("GET", TAG, recorded(TIMELINE, 2), EMPTY)
    bad.route("GET", TAG, Reply(503, "maintenance", {"content-type": "text/plain"}))
    (result,) = collect_all(mastodon_settings(count=2))
    assert result.stored == 1 and bad.url in result.errors[0]


def test_every_instance_failing_is_a_source_error(mastodon_settings, servers, database_url):
    servers[0].route("GET", TAG, Reply(500, "boom", {"content-type": "text/plain"}))
    (result,) = collect_all(mastodon_settings())
    assert "every Mastodon instance failed" in result.errors[0]


def test_status_html_becomes_text_and_boosts_point_at_the_original():
    from collectors.mastodon import status_to_mention

    status = body_of(TIMELINE, 2)[0]
    boost = {**status, "id": "2", "uri": "https://x/2", "content": "",
             "reblog": {**status, "content": "<p>A &amp; B<br>line two</p>"}}
    mention = status_to_mention(boost, "https://x")
    assert mention.text == "A & B\nline two" and mention.reposted_id == status["uri"]


def test_status_search_runs_with_a_token(mastodon_settings, servers, database_url, monkeypatch):
    monkeypatch.setenv("BRANDPULSE_MASTODON_TOKEN", "tok")
    server = servers[0]
    status = {**body_of(TIMELINE, 2)[0], "id": "117020593741189999", "uri": "http://localhost:3000/s/9",
              "content": "<p>hoot hoot, searching works</p>"}
    server.route("GET", TAG, EMPTY)
    for version in ("v1", "v2"):  # Mastodon.py checks the server version before searching
        server.route("GET", f"/api/{version}/instance/", recorded(TIMELINE, 1))
    server.route("GET", "/api/v2/search", Reply(200, json.dumps({"accounts": [], "hashtags": [],
                                                                 "statuses": [status]})))
    (result,) = collect_all(mastodon_settings())
    assert result.stored == 1
    (search,) = server.calls("/api/v2/search")
    assert search["query"]["q"] == ["hoot"] and search["query"]["type"] == ["statuses"]
    assert search["headers"]["Authorization"] == "Bearer tok"
