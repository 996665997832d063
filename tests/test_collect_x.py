"""The X collector: real tweepy against a local server replaying recorded X API v2 responses."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from brandpulse.services.collecting import collect_all
from fakeserver import FakeServer, Reply, body_of, recorded
from store.collectors import which_sources_report_health
from store.engine import session_scope
from store.models import Author, Mention, Quarantine

SEARCH = "/2/tweets/search/recent"
BASIC = "x/search_recent_basic.json"
METRICS = "x/search_with_metrics_and_users.json"
EMPTY = "x/empty_result.json"
BRAND = {"name": "Tweepy", "query": "tweepy OR chicken OR kfc OR happy"}


@pytest.fixture
def server():
    with FakeServer() as fake:
        yield fake


@pytest.fixture
def x_settings(write_config, server, monkeypatch):
    monkeypatch.setenv("BRANDPULSE_X_BEARER_TOKEN", "test-token")

    def make(**x):
        source = {"enabled": True, "base_url": server.url, "backoff_seconds": 0, "timeout_seconds": 5, **x}
        return write_config(brands=[BRAND], sources={"x": source})
    return make


def count(url, model=Mention):
    with session_scope(url) as session:
        return session.execute(select(func.count()).select_from(model)).scalar()


def health(url):
    with session_scope(url) as session:
        (row,) = which_sources_report_health(session)
        return row


def test_pages_to_the_end_then_resumes_from_since_id(x_settings, server, database_url):
    server.route("GET", SEARCH, recorded(BASIC), recorded(METRICS), recorded(EMPTY))
    (result,) = collect_all(x_settings())
    assert (result.pages, result.fetched, result.stored) == (2, 14, 12)
    assert result.rejected_by_query == 2  # fetched, but not truly matching the brand query
    first, second = server.calls(SEARCH)
    assert "since_id" not in first["query"] and first["query"]["query"] == ["tweepy OR chicken OR kfc OR happy"]
    assert second["query"]["next_token"] == [body_of(BASIC)["meta"]["next_token"]]
    assert "author_id" in first["query"]["expansions"][0] and first["headers"]["Authorization"] == "Bearer test-token"
    (again,) = collect_all(x_settings())
    assert again.stored == 0
    assert server.calls(SEARCH)[-1]["query"]["since_id"] == ["1578516068309794817"]
    with session_scope(database_url) as session:
        kfc = session.execute(select(Mention).where(Mention.native_id == "1400942130898554891")).scalar_one()
        assert (kfc.likes, kfc.reposts, kfc.replies, kfc.quotes) == (993, 117, 33, 11)
        author = session.get(Author, kfc.author_id)
        assert author.handle == "kfc" and author.followers > 1_000_000
    assert health(database_url).state == "ok"


def test_duplicated_pages_store_each_post_once(x_settings, server, database_url):
    again = body_of(BASIC)
    again["meta"]["next_token"] = "another-token"  # the same tweets, but X does page on
    server.route("GET", SEARCH, recorded(BASIC), Reply(200, json.dumps(again)), recorded(EMPTY))
    (result,) = collect_all(x_settings())
    assert result.pages == 3 and count(database_url) == 10 and not result.errors


def test_rate_limit_waits_for_reset_without_calling_again(x_settings, server, database_url):
    reset = int(time.time()) + 120
    server.route("GET", SEARCH, Reply(429, '{"title":"Too Many Requests"}',
                                      {"x-rate-limit-reset": str(reset), "x-rate-limit-remaining": "0"}))
    (result,) = collect_all(x_settings())
    assert "rate limit" in result.errors[0]
    row = health(database_url)
    assert row.state == "rate_limited"
    assert row.rate_limited_until == datetime.fromtimestamp(reset, timezone.utc)
    (skipped,) = collect_all(x_settings())
    assert skipped.skipped and len(server.calls(SEARCH)) == 1


def test_usage_capped_429_pauses_the_source_and_says_so(x_settings, server, database_url):
    server.route("GET", SEARCH, Reply(429, '{"title":"UsageCapExceeded","detail":"Usage cap exceeded"}'))
    (result,) = collect_all(x_settings())
    assert "usage cap" in result.errors[0] and "paused" in result.errors[0]
    row = health(database_url)
    assert row.state == "usage_capped" and row.rate_limited_until > datetime.now(timezone.utc)


def test_server_errors_are_retried_then_recorded(x_settings, server, database_url):
    server.route("GET", SEARCH, Reply(503, "upstream down"), Reply(500, "oops"), recorded(BASIC),
                 recorded(EMPTY))
    (result,) = collect_all(x_settings(retries=2))
    assert result.stored == 10 and not result.errors
    server.route("GET", SEARCH, Reply(503, "upstream down"))
    (failed,) = collect_all(x_settings(retries=1))
    assert "failed 2 times" in failed.errors[0]
    assert health(database_url).state == "error"


def test_timeouts_are_source_errors(x_settings, server, database_url):
    server.route("GET", SEARCH, Reply(200, recorded(BASIC).body, delay=1.5))
    (result,) = collect_all(x_settings(retries=0, timeout_seconds=0.3))
    assert "Timeout" in result.errors[0] and count(database_url) == 0


def test_errors_inside_a_200_are_kept_and_the_data_stored(x_settings, server, database_url):
    server.route("GET", SEARCH, recorded("x/search_partial_errors.json"), recorded(EMPTY))
    (result,) = collect_all(x_settings())
    assert (result.stored, result.rejected_by_query, len(result.errors)) == (21, 4, 14)
    assert result.errors[0].startswith("Not Found Error: Could not find user")


def test_malformed_json_is_quarantined_and_the_cursor_kept(x_settings, server, database_url):
    server.route("GET", SEARCH, Reply(200, '{"data": [{"id": "1", "te'), recorded(BASIC), recorded(EMPTY))
    (result,) = collect_all(x_settings())
    assert result.quarantined == 1 and count(database_url, Quarantine) == 1
    with session_scope(database_url) as session:
        reason = session.execute(select(Quarantine.reason)).scalar()
    assert "not a search page" in reason
    (again,) = collect_all(x_settings())
    assert again.stored == 10


def test_bad_credentials_name_the_variable(x_settings, server, database_url):
    server.route("GET", SEARCH, recorded("x/error_401.json"))
    (result,) = collect_all(x_settings())
    assert "BRANDPULSE_X_BEARER_TOKEN" in result.errors[0]


def test_daily_spend_cap_stops_reading(x_settings, server, database_url):
    """A page is read only when its worst case (max_results x price) fits under the cap: never past it."""
    server.route("GET", SEARCH, recorded(BASIC), recorded(METRICS))
    (result,) = collect_all(x_settings(price_per_post=0.5, max_results=10, daily_cap_usd=6.0))
    assert result.pages == 1 and "daily cap is $6.00" in result.errors[0]
    row = health(database_url)
    assert row.state == "daily_cap" and row.spend_today == 5.0 and row.spend_total == 5.0


def test_missing_token_is_a_clear_error(write_config, monkeypatch):
    from brandpulse.core.errors import MissingSecretError

    monkeypatch.delenv("BRANDPULSE_X_BEARER_TOKEN", raising=False)
    settings = write_config(sources={"x": {"enabled": True}})
    with pytest.raises(MissingSecretError, match="BRANDPULSE_X_BEARER_TOKEN"):
        collect_all(settings)


def test_a_process_killed_before_commit_loses_and_duplicates_nothing(x_settings, server, database_url,
                                                                      tmp_path):
    if not database_url.startswith("sqlite"):
        pytest.skip("the write lock trick uses SQLite")
    settings = x_settings()
    server.route("GET", SEARCH, Reply(200, recorded(BASIC).body, delay=1.0), recorded(METRICS),
                 recorded(EMPTY))
    command = [str(Path(sys.executable).parent / "brandpulse"), "collect", "--source", "x"]
    process = subprocess.Popen(command, env=os.environ.copy(), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while not server.calls(SEARCH) and time.time() < deadline:
        time.sleep(0.05)
    lock = sqlite3.connect(database_url.split("///", 1)[1], timeout=30)
    lock.execute("BEGIN IMMEDIATE")  # the page arrives and its commit blocks on this lock
    time.sleep(2.0)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    lock.rollback()
    lock.close()
    assert count(database_url) == 0
    server.route("GET", SEARCH, recorded(BASIC), recorded(METRICS), recorded(EMPTY))  # X answers afresh
    (result,) = collect_all(settings)
    assert result.stored == 12 and count(database_url) == 12
    assert "next_token" not in server.calls(SEARCH)[1]["query"]  # the restart began at page 1 again


def test_tweets_normalize_references_and_urls():
    from collectors.x import tweet_to_mention

    tweet = {"id": "5", "text": "RT hi", "created_at": "2026-11-20T10:00:00.000Z", "author_id": "9",
             "referenced_tweets": [{"type": "retweeted", "id": "4"}, {"type": "replied_to", "id": "3"}],
             "public_metrics": {"like_count": 2, "impression_count": 50}}
    mention = tweet_to_mention(tweet, {"9": {"id": "9", "username": "ann", "name": "Ann"}})
    assert (mention.reposted_id, mention.in_reply_to_id, mention.views) == ("4", "3", 50)
    assert mention.url == "https://x.com/ann/status/5" and mention.author.handle == "ann"
    assert mention.created_at == datetime(2026, 11, 20, 10, tzinfo=timezone.utc)
    assert timedelta(0) == mention.created_at.utcoffset()
    no_time = tweet_to_mention({"id": "1578516068309794817", "text": "x"}, {})
    assert no_time.created_at.strftime("%Y-%m-%d %H:%M:%S") == "2022-10-07 22:42:12"  # id encodes it


def test_doctor_shows_x_credentials_spend_and_health(x_settings, server, database_url):
    from brandpulse.cli.doctor import run_checks

    server.route("GET", SEARCH, recorded(BASIC), recorded(EMPTY))
    settings = x_settings(price_per_post=0.01)
    collect_all(settings)
    checks = {c.area: c for c in run_checks(settings)}
    assert checks["source x"].status == "ok" and "spent $0.10 of $5.00 today" in checks["source x"].detail
    assert checks["health x/Tweepy"].detail.startswith("ok; last success")
