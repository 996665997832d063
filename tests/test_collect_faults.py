"""Faults inside one source never stop a pass: real clients against local servers that cut the
connection mid-body, send pages of the wrong shape, 429 with a reset of now, or the same
next_token forever; a Mastodon client that raises RecursionError; and the runner's guards."""

import json
import socket
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from mastodon import Mastodon
from sqlalchemy import func, select

from brandpulse.services.collecting import collect_all, collect_once, enabled_collectors
from brandpulse.cli.doctor import run_checks
from brandpulse.core.records import Page
from fakeserver import FakeServer, Reply, body_of, recorded
from store.collectors import which_sources_report_health
from store.engine import session_scope
from store.models import Mention, Quarantine

SEARCH = "/2/tweets/search/recent"
BASIC = "x/search_recent_basic.json"
EMPTY = "x/empty_result.json"
TAG = "/api/v1/timelines/tag/hoot"
BRANDS = [{"name": "Tweepy", "query": "tweepy OR chicken OR kfc OR happy OR hoot"}]


class CuttingServer:
    """Serves ``body`` but closes the connection after ``cut`` bytes for the first ``cuts`` requests."""

    def __init__(self, body: str, cuts: int) -> None:
        self.calls, server = 0, self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                server.calls += 1
                payload = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if server.calls <= cuts:
                    self.wfile.write(payload[:len(payload) // 3])
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    with FakeServer() as fake:
        yield fake


@pytest.fixture
def x_config(write_config, monkeypatch, tmp_path):
    monkeypatch.setenv("BRANDPULSE_X_BEARER_TOKEN", "test-token")

    def make(url: str, inbox: bool = False, **x):
        sources = {"x": {"enabled": True, "base_url": url, "backoff_seconds": 0, "timeout_seconds": 5, **x}}
        if inbox:
            folder = tmp_path / "inbox"
            folder.mkdir(exist_ok=True)
            (folder / "a.jsonl").write_text(json.dumps(
                {"id": "f1", "text": "happy with tweepy", "created_at": "2026-11-20T10:00:00Z"}) + "\n")
            sources["file"] = {"enabled": True, "inbox": str(folder)}
        return write_config(brands=BRANDS, sources=sources)
    return make


def health(url):
    with session_scope(url) as session:
        return {(h.source, h.brand): h for h in which_sources_report_health(session)}


def count(url, model=Mention):
    with session_scope(url) as session:
        return session.execute(select(func.count()).select_from(model)).scalar()


def test_a_connection_cut_mid_body_is_retried(x_config, database_url):
    cutting = CuttingServer(json.dumps({**body_of(BASIC), "meta": {"result_count": 10}}), cuts=1)
    try:
        (result,) = collect_all(x_config(cutting.url, retries=2))
    finally:
        cutting.close()
    assert cutting.calls == 2 and result.stored == 10 and result.outcome == "ok"


def test_a_source_whose_connection_always_breaks_does_not_stop_the_others(x_config, database_url):
    cutting = CuttingServer(recorded(BASIC).body, cuts=99)
    try:
        results = {r.source: r for r in collect_all(x_config(cutting.url, inbox=True, retries=1))}
    finally:
        cutting.close()
    assert results["x"].outcome == "failed" and "ChunkedEncodingError" in results["x"].errors[0]
    assert "retried at the next run" in results["x"].errors[0]
    assert results["file"].stored == 1 and count(database_url) == 1
    assert health(database_url)[("x", "Tweepy")].state == "error"
    doctor = {c.area: c for c in run_checks(x_config(cutting.url, inbox=True))}
    assert doctor["health x/Tweepy"].status == "fail" and "ChunkedEncodingError" in doctor["health x/Tweepy"].detail


@pytest.mark.parametrize("body", [
    '{"data": {"id": "1", "text": "happy"}}',  # data is not a list
    '[1, 2, 3]',  # not an object
    '"just text"',
])
def test_a_page_of_the_wrong_shape_is_quarantined(x_config, server, database_url, body):
    server.route("GET", SEARCH, Reply(200, body), recorded(BASIC), recorded(EMPTY))
    (result,) = collect_all(x_config(server.url))
    assert result.outcome == "ok" and result.quarantined == 1 and count(database_url, Quarantine) == 1
    (again,) = collect_all(x_config(server.url))
    assert again.stored == 10  # the cursor was kept: the same page is asked for again


def test_odd_items_in_a_page_are_quarantined_and_the_rest_stored(x_config, server, database_url):
    body = body_of(BASIC)
    body["data"] += [7, "text", None, {"id": {"x": 1}, "text": "happy"},
                     {"id": "99", "text": "happy", "public_metrics": [1], "referenced_tweets": "no",
                      "created_at": "2026-11-20T10:00:00Z", "author_id": ["a"], "lang": 5}]
    body["includes"] = {"users": ["not a user", {"no": "id"}, {"id": "1", "public_metrics": "x"}]}
    body["meta"]["newest_id"] = {"odd": True}
    body["meta"].pop("next_token")
    body["errors"] = ["plain string error", {"title": "Odd"}]
    server.route("GET", SEARCH, Reply(200, json.dumps(body)), recorded(EMPTY))
    (result,) = collect_all(x_config(server.url))
    assert result.outcome == "ok" and result.quarantined == 4 and result.stored == 11
    assert "plain string error" in result.errors and "Odd: " in result.errors
    assert health(database_url)[("x", "Tweepy")].state == "degraded"


@pytest.mark.parametrize("reset", [lambda: str(int(time.time())), lambda: str(int(time.time()) - 30),
                                   lambda: None, lambda: "soon", lambda: "9" * 20])
def test_a_429_with_a_reset_of_now_past_or_unreadable_is_a_short_rate_limit(x_config, server, database_url,
                                                                           reset):
    value = reset()
    server.route("GET", SEARCH, Reply(429, '{"title": "Too Many Requests"}',
                                      {"content-type": "application/json",
                                       **({"x-rate-limit-reset": value} if value else {})}))
    (result,) = collect_all(x_config(server.url))
    assert result.outcome == "waiting" and "rate limit" in result.errors[0] and "usage cap" not in result.errors[0]
    row = health(database_url)[("x", "Tweepy")]
    now = datetime.now(timezone.utc)
    assert row.state == "rate_limited"
    assert now < row.rate_limited_until <= now + timedelta(hours=24, minutes=1)
    if value != "9" * 20:
        assert row.rate_limited_until <= now + timedelta(minutes=2)


def test_a_next_token_that_comes_back_unchanged_ends_the_pass(x_config, server, database_url):
    server.route("GET", SEARCH, recorded(BASIC))  # the same page, with the same next_token, forever
    (result,) = collect_all(x_config(server.url, price_per_post=0.01))
    assert len(server.calls(SEARCH)) == 2 and result.pages == 2 and result.stored == 10
    assert any("next_token" in e and "again" in e for e in result.errors)
    row = health(database_url)[("x", "Tweepy")]
    assert row.state == "degraded" and "next_token" in row.last_error and row.spend_today == pytest.approx(0.2)
    server.route("GET", SEARCH, recorded(EMPTY))
    collect_all(x_config(server.url))
    last = server.calls(SEARCH)[-1]["query"]
    assert "next_token" not in last and last["since_id"] == [body_of(BASIC)["meta"]["newest_id"]]


class Stuck:
    """A source that always says there is more, with the same (or a cycling) cursor."""
    name = network = "rss"

    def __init__(self, cursors):
        self.cursors, self.calls = cursors, 0

    def fetch(self, brand, cursor):
        self.calls += 1
        return Page(mentions=[], next_cursor=self.cursors[self.calls % len(self.cursors)], done=False)


@pytest.mark.parametrize("cursors", [["same"], ["a", "b"]])
def test_the_runner_ends_a_pass_whose_cursor_comes_round_again(settings, database_url, cursors):
    stuck = Stuck(cursors)
    result = collect_once(settings, stuck, settings.brands[0])
    assert stuck.calls <= 3 and result.outcome == "ok" and "same cursor again" in result.errors[-1]
    assert health(database_url)[("rss", settings.brands[0].name)].state == "degraded"


class Broken:
    name = network = "rss"

    def __init__(self, exc):
        self.exc = exc

    def fetch(self, brand, cursor):
        raise self.exc


@pytest.mark.parametrize("exc", [KeyError("data"), TypeError("'NoneType' is not subscriptable"),
                                 AttributeError("'list' object has no attribute 'get'"), RecursionError()])
def test_any_exception_of_a_source_becomes_a_collector_error_in_its_health(settings, database_url, exc):
    result = collect_once(settings, Broken(exc), settings.brands[0])
    assert result.outcome == "failed" and type(exc).__name__ in result.errors[0]
    assert "rss failed for brand 'Nimbus Mobile' while fetching a page" in result.errors[0]
    assert "retried at the next run" in result.errors[0]
    assert health(database_url)[("rss", "Nimbus Mobile")].state == "error"


class RecursingMastodon(Mastodon):
    """Mastodon.py as it fails on an unreachable instance: its call raises RecursionError."""

    def timeline_hashtag(self, *args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded while calling a Python object")


@pytest.fixture
def mastodon_config(write_config, monkeypatch):
    monkeypatch.delenv("BRANDPULSE_MASTODON_TOKEN", raising=False)

    def make(*urls):
        return write_config(brands=[{"name": "Hoot", "query": "hoot OR #hoot"}],
                            sources={"mastodon": {"enabled": True, "instances": list(urls)}})
    return make


def test_a_recursion_error_in_the_mastodon_client_stops_only_that_instance(mastodon_config, database_url):
    with FakeServer() as good, FakeServer() as bad:
        good.route("GET", TAG, recorded("mastodon/hashtag_timeline.json", 2), Reply(200, "[]"))
        settings = mastodon_config(good.url, bad.url)
        collector = enabled_collectors(settings)["mastodon"]
        collector.clients[bad.url] = RecursingMastodon(api_base_url=bad.url, version_check_mode="none")
        result = collect_once(settings, collector, settings.brands[0])
        assert result.stored == 1 and result.outcome == "ok"
        assert "RecursionError" in result.errors[0] and bad.url in result.errors[0]
        assert health(database_url)[("mastodon", "Hoot")].state == "degraded"
        collector.clients = {bad.url: collector.clients[bad.url]}
        failed = collect_once(settings, collector, settings.brands[0])
        assert failed.outcome == "failed" and "every Mastodon instance failed" in failed.errors[0]


def test_a_status_nested_hundreds_deep_is_stored_with_its_raw_payload_cut(mastodon_config, database_url):
    status = body_of("mastodon/hashtag_timeline.json", 2)[0]
    body = json.dumps([status])[:-2] + ', "deep": ' + "[" * 600 + "]" * 600 + "}]"
    with FakeServer() as server:
        server.route("GET", TAG, Reply(200, body), Reply(200, "[]"))
        (result,) = collect_all(mastodon_config(server.url))
    assert result.stored == 1 and result.outcome == "ok", result.errors
    with session_scope(database_url) as session:
        raw = session.execute(select(Mention.raw)).scalar_one()
    assert "cut" in json.dumps(raw)


def test_collect_all_reports_progress_per_source_and_page(x_config, server, database_url):
    server.route("GET", SEARCH, recorded(BASIC), recorded("x/search_with_metrics_and_users.json"),
                 recorded(EMPTY))
    seen = []
    collect_all(x_config(server.url, inbox=True), progress=lambda r, done: seen.append((r.source, r.pages, done)))
    assert ("x", 0, False) in seen and ("x", 1, False) in seen and ("x", 2, True) in seen
    assert ("file", 1, True) in seen and seen[-1][2]



def test_a_file_the_inbox_set_aside_leaves_the_source_degraded_and_doctor_says_so(write_config, database_url,
                                                                                  tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a_bad.jsonl.gz").write_bytes(b"this is not gzip")
    (inbox / "b_good.jsonl").write_text(json.dumps(
        {"id": "g1", "text": "Nimbus Mobile again", "created_at": "2026-11-20T10:00:00Z"}) + "\n")
    settings = write_config(sources={"file": {"enabled": True, "inbox": str(inbox)}})
    (result,) = collect_all(settings, brand="Nimbus Mobile")
    assert result.outcome == "ok" and result.stored == 1 and "a_bad.jsonl.gz" in result.errors[0]
    row = health(database_url)[("file", "Nimbus Mobile")]
    assert row.state == "degraded" and "a_bad.jsonl.gz" in row.last_error
    check = {c.area: c for c in run_checks(settings)}["health file/Nimbus Mobile"]
    assert check.status == "warn" and "degraded" in check.detail and "a_bad.jsonl.gz" in check.detail
