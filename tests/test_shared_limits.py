"""Limits that hold across workers: the X daily cap and 429 holds (database), the API rate limit (Redis),
and webhook delivery in parallel that keeps each subject's order. Real SQLite and PostgreSQL, real
HTTP servers, threads with their own connections."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from brandpulse.core.settings import tracked_brands
from brandpulse.services.collect_sources import enabled_collectors
from brandpulse.services.collecting import collect_once
from fakeserver import FakeServer, Reply
from store.engine import session_scope
from store.models import CollectorHealth
from store.spend import reserve_spend
from tests.api_client import api_server, client, token_for  # noqa: F401

SEARCH = "/2/tweets/search/recent"
BRANDS = [{"name": "Alpha", "query": "alpha"}, {"name": "Beta", "query": "beta"}]


def _page(number: int, size: int = 10) -> Reply:
    """A search page of ``size`` tweets naming both brands, with a next_token of its own."""
    tweets = [{"id": str(1_600_000_000_000_000_000 + number * 100 + i), "text": f"alpha beta {number}/{i}",
               "created_at": "2026-11-01T10:00:00.000Z", "author_id": "42"} for i in range(size)]
    body = {"data": tweets, "meta": {"result_count": size, "next_token": f"page-{number + 1}"}}
    return Reply(200, json.dumps(body), delay=0.02)


@pytest.fixture
def x_server():
    with FakeServer() as fake:
        yield fake


def _x_settings(write_config, monkeypatch, server, **x):
    monkeypatch.setenv("BRANDPULSE_X_BEARER_TOKEN", "test-token")
    source = {"enabled": True, "base_url": server.url, "backoff_seconds": 0, "timeout_seconds": 5,
              "max_results": 10, "price_per_post": 0.01, **x}
    return write_config(brands=BRANDS, sources={"x": source})


def _spend(url: str) -> tuple[float, float]:
    with session_scope(url) as session:
        return tuple(float(v) for v in session.execute(
            select(func.sum(CollectorHealth.spend_today), func.sum(CollectorHealth.spend_total))).one())


def test_reservations_from_many_connections_never_pass_the_cap(database_url):
    """Twelve threads, each with its own connection, reserve $0.30 at once under a $1.00 cap: three fit."""
    barrier = threading.Barrier(12)

    def reserve(n: int) -> bool:
        barrier.wait()
        with session_scope(database_url) as session:
            return reserve_spend(session, "x", f"brand-{n % 3}", 0.30, "2026-11-01", 1.0)[0]

    with ThreadPoolExecutor(12) as pool:
        granted = list(pool.map(reserve, range(12)))
    assert sum(granted) == 3
    assert _spend(database_url)[0] == pytest.approx(0.90)


def test_two_workers_collecting_at_once_stay_within_the_daily_cap(write_config, monkeypatch, x_server,
                                                                  database_url):
    """Two brands of X collected at once (no lease between them): together they read at most the cap."""
    x_server.route("GET", SEARCH, *[_page(n) for n in range(80)])
    settings = _x_settings(write_config, monkeypatch, x_server, daily_cap_usd=1.0)
    collector_of = {b.name: enabled_collectors(settings)["x"] for b in tracked_brands(settings)}  # one each
    barrier = threading.Barrier(2)

    def collect(brand):
        barrier.wait()
        return collect_once(settings, collector_of[brand.name], brand)

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(collect, tracked_brands(settings)))
    pages = sum(r.pages for r in results)
    assert len(x_server.calls(SEARCH)) == pages == 10  # $0.10 a page, a $1.00 cap
    assert _spend(database_url) == pytest.approx((1.0, 1.0))
    assert all(r.outcome == "waiting" and "daily" in r.errors[-1] for r in results), results
    assert any("daily cap is $1.00" in r.errors[-1] for r in results)  # the other may see its hold first


def test_a_failed_page_gives_its_reservation_back(write_config, monkeypatch, x_server, database_url):
    x_server.route("GET", SEARCH, _page(0), Reply(401, '{"title": "Unauthorized"}'))
    settings = _x_settings(write_config, monkeypatch, x_server, daily_cap_usd=1.0)
    brand = tracked_brands(settings)[0]
    result = collect_once(settings, enabled_collectors(settings)["x"], brand)
    assert result.pages == 1 and result.outcome == "failed"
    assert _spend(database_url) == pytest.approx((0.10, 0.10))


def test_a_429_met_for_one_brand_holds_the_source_for_every_worker(write_config, monkeypatch, x_server,
                                                                   database_url):
    reset = int(time.time()) + 300
    x_server.route("GET", SEARCH, Reply(429, '{"title": "Too Many Requests"}',
                                        {"x-rate-limit-reset": str(reset), "x-rate-limit-remaining": "0"}))
    settings = _x_settings(write_config, monkeypatch, x_server)
    alpha, beta = tracked_brands(settings)
    held = collect_once(settings, enabled_collectors(settings)["x"], alpha)
    assert held.outcome == "waiting" and len(x_server.calls(SEARCH)) == 1
    other = collect_once(settings, enabled_collectors(settings)["x"], beta)  # as another worker would
    assert other.skipped and "rate limited until" in other.errors[0]
    assert len(x_server.calls(SEARCH)) == 1  # X was not asked again


REDIS_URL = os.environ.get("BRANDPULSE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own in the test Redis (skipped when none answers)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip(f"no Redis answers at {REDIS_URL} (set BRANDPULSE_TEST_REDIS_URL)")
    prefix = f"bp-test-{uuid.uuid4().hex[:10]}"
    yield prefix
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
    client.close()


def _statuses(bases: list[str], token: str, count: int) -> list[int]:
    """``count`` requests, sent to each server in turn."""
    clients = [client(base, token) for base in bases]
    try:
        return [clients[n % len(clients)].get("/brands").status_code for n in range(count)]
    finally:
        for http in clients:
            http.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the limit is in Redis, not the database
def test_two_api_servers_sharing_redis_give_a_token_one_allowance(write_config, api_server, redis_prefix):
    settings = write_config(limits={"redis_url": REDIS_URL, "redis_prefix": redis_prefix})
    token = token_for(settings, "mia", "marketing", ["brands:read"], rate=6)
    first, second = api_server(settings), api_server(settings)
    assert _statuses([first, second], token, 6) == [200] * 6
    with client(second, token) as http:
        refused = http.get("/brands")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["RateLimit-Limit"] == "6" and refused.headers["RateLimit-Remaining"] == "0"
    alone = write_config()  # no Redis: each process keeps its own count, two give twice the allowance
    other = token_for(alone, "max", "marketing", ["brands:read"], rate=6)
    assert _statuses([api_server(alone), api_server(alone)], other, 12) == [200] * 12


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_api_whose_redis_is_down_still_limits_in_its_process(write_config, api_server):
    settings = write_config(limits={"redis_url": "redis://127.0.0.1:9/0", "redis_timeout_seconds": 0.2})
    token = token_for(settings, "mia", "marketing", ["brands:read"], rate=3)
    assert _statuses([api_server(settings)], token, 4) == [200, 200, 200, 429]


class SlowReceiver:
    """Answers 200 after ``delay`` s; records each ticket event's (ticket id, version) and how many overlapped."""

    def __init__(self, delay: float) -> None:
        self.arrived: list[tuple[int, int]] = []
        self.busy = self.most_at_once = 0
        lock, receiver = threading.Lock(), self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802
                data = json.loads(self.rfile.read(int(self.headers["content-length"])))["data"]
                with lock:
                    receiver.busy += 1
                    receiver.most_at_once = max(receiver.most_at_once, receiver.busy)
                time.sleep(delay)
                with lock:
                    receiver.busy -= 1
                    receiver.arrived.append((data["ticket_id"], data["version"]))
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()


def test_parallel_delivery_keeps_each_tickets_order(write_config, database_url):
    from brandpulse.services import care, webhooks
    from brandpulse.services.accounts import create_user
    from brandpulse.services.webhook_delivery import deliver_due
    from tests.test_webhooks import CARE, _tickets

    hook = SlowReceiver(delay=0.05)
    try:
        settings = write_config(care=CARE, webhooks={"allow_private_hosts": ["127.0.0.1"], "parallel_sends": 8})
        agent = create_user(settings, None, "ana", "secret-pass-1", "care_agent", "care")
        webhooks.create_subscription(settings, None, url=hook.url, event_types=["ticket.updated"])
        tickets = _tickets(settings, database_url, 4)
        for round_ in range(3):
            for tid in tickets:
                care.add_note(settings, agent, tid, f"note {round_}")
        assert deliver_due(settings) == {"delivered": 12}
    finally:
        hook.server.shutdown()
        hook.server.server_close()
    for tid in tickets:  # each ticket's versions arrive in the order they were made
        versions = [version for ticket, version in hook.arrived if ticket == tid]
        assert versions == sorted(versions) and len(versions) == 3
    assert hook.most_at_once >= 2  # sent at once (speed: bench/webhooks.py)
