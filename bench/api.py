"""Benchmark: the REST API over real HTTP at 1M mentions, SQLite and PostgreSQL.

    python bench/api.py [--mentions 1000000] [--runs 200] [--keep FILE] [--keep-postgres DB]

Fills (or reuses) the database of bench/dashboard.py, serves the API with uvicorn in its own
process, and times from a client: mentions listing (random brand, 7/30/90 days, sometimes a
network or sentiment), the next page by cursor, full-text search (a common and a rare word), and
one ticket with its context. Prints p50/p95 per request kind and requests/s with 4 clients.
Target: p95 <= 100 ms.
"""

from __future__ import annotations

import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.dashboard import NETWORKS, OWN, bench_settings, fill  # noqa: E402
from bench.postgres import run_on_each_database  # noqa: E402
from brandpulse.services.pipeline import refresh_overview  # noqa: E402
from brandpulse.services.tokens import create_token  # noqa: E402
from brandpulse.services.triage import triage_new  # noqa: E402
from store.engine import migrate, session_scope  # noqa: E402
from store.models import Ticket, User  # noqa: E402
from store.users import add_user  # noqa: E402
from sqlalchemy import select  # noqa: E402

TARGET_MS = 100


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(url: str, workdir: Path) -> tuple[subprocess.Popen, str]:
    config = workdir / "config.yaml"
    settings = bench_settings(url)
    config.write_text(yaml.safe_dump({"brands": [b.model_dump(mode="json", exclude_defaults=True)
                                                 for b in settings.brands],
                                      "care": {"ticket_max_age_days": 3}, "database": {"url": url}}))
    port = _free_port()
    env = {**os.environ, "BRANDPULSE_CONFIG": str(config)}
    server = subprocess.Popen([sys.executable, "-m", "brandpulse.cli.main", "api", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(base + "/openapi.json", timeout=1)
            return server, base
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit(f"the API did not start: {server.stderr.read().decode()[-2000:]}")


def _requests(rng: random.Random, http: httpx.Client, ticket_ids: list[int]) -> dict:
    now = datetime.now(timezone.utc)

    def params(**extra) -> dict:
        days = rng.choice([7, 30, 90])
        p = {"brand": rng.choice(OWN), "since": (now - timedelta(days=days)).isoformat(), "limit": 50, **extra}
        if rng.random() < 0.3:
            p["network"] = rng.choice(NETWORKS)
        if rng.random() < 0.2:
            p["sentiment"] = "negative"
        return p

    def listing():
        http.get("/v1/mentions", params=params()).raise_for_status()

    def next_page():  # the second page of a listing (timed: only that request)
        asked = params()
        first = http.get("/v1/mentions", params=asked).json()
        began = time.perf_counter()
        if first.get("next_cursor"):
            http.get("/v1/mentions", params={**asked, "cursor": first["next_cursor"]}).raise_for_status()
        return time.perf_counter() - began

    def search_common():
        http.get("/v1/mentions", params=params(q="refund")).raise_for_status()

    def search_rare():
        http.get("/v1/mentions", params=params(q=f"post {rng.randint(0, 999_999)} ")).raise_for_status()

    def ticket():
        http.get(f"/v1/tickets/{rng.choice(ticket_ids)}").raise_for_status()

    return {"mentions list": listing, "mentions next page": next_page, "search (common word)": search_common,
            "search (rare word)": search_rare, "one ticket": ticket}


def bench(url: str, count: int, runs: int, reuse: bool = False) -> None:
    now = datetime.now(timezone.utc)
    settings = bench_settings(url)
    migrate(url)
    with session_scope(url) as session:  # a kept database whose filling was cut short is filled again
        reuse = reuse and session.execute(select(User.id).where(User.username == "lead")).first() is not None
    if not reuse:
        started = time.perf_counter()
        fill(settings, count, now)
        with session_scope(url) as session:
            add_user(session, "lead", "bench-password", "care_lead", team="care")
        triage_new(settings, now=now)
        refresh_overview(settings)
        print(f"  filled {count:,} mentions, tickets and rollups in {time.perf_counter() - started:.0f}s")
    with session_scope(url) as session:
        lead = session.execute(select(User).where(User.username == "lead")).scalar_one()
        ticket_ids = list(session.execute(select(Ticket.id).limit(2000)).scalars())
    secret, _ = create_token(settings, None, name="bench", user_id=lead.id, rate_per_minute=1_000_000,
                             scopes=["mentions:read", "tickets:read"])
    with tempfile.TemporaryDirectory() as tmp:
        server, base = _serve(url, Path(tmp))
        try:
            headers = {"Authorization": f"Bearer {secret}"}
            rng = random.Random(11)
            with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
                for name, call in _requests(rng, http, ticket_ids).items():
                    call()  # warm
                    times = []
                    for _ in range(runs):
                        began = time.perf_counter()
                        timed = call()  # a call that times only part of its work returns that time
                        times.append((timed if timed is not None else time.perf_counter() - began) * 1000)
                    times.sort()
                    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
                    print(f"  {name:<28} p50 {statistics.median(times):7.1f} ms   p95 {p95:7.1f} ms   "
                          f"{'ok' if p95 <= TARGET_MS else f'OVER {TARGET_MS} ms'}")

            def client_loop(seed: int) -> int:
                calls = 0
                with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
                    kinds = list(_requests(random.Random(seed), http, ticket_ids).values())
                    stop = time.perf_counter() + 10
                    while time.perf_counter() < stop:
                        kinds[calls % 3 if calls % 5 else 4]()
                        calls += 1
                return calls
            started = time.perf_counter()
            with ThreadPoolExecutor(4) as pool:
                total = sum(pool.map(client_loop, range(4)))
            print(f"  throughput, 4 clients, mixed requests: {total / (time.perf_counter() - started):.0f} requests/s")
        finally:
            server.terminate()
            server.wait(10)


def main() -> None:
    run_on_each_database(__doc__.splitlines()[0], bench, runs=200)


if __name__ == "__main__":
    main()
