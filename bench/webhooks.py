"""Benchmark: a ticket change (care.set_status) → a signed webhook at the receiver, with the worker looping.

    python bench/webhooks.py [--changes 200] [--backlog 1000] [--database URL] [--receiver-ms 0]
                             [--parallel-sends 8]

A local receiver (127.0.0.1, allowed in webhooks.allow_private_hosts) verifies nothing and
answers 200 after --receiver-ms (0: at once, so the figures are our path's cost; 50 is a receiver
across the internet), behind the event written beside the change and a `brandpulse webhooks deliver
--loop` process claiming, signing and POSTing it (webhooks.parallel_sends at once). Prints p50, p95
and max latency over --changes changes made --rate a second on 20 tickets, then the deliveries per
second of a --backlog of events queued while no worker ran, from the worker's start and from its
first delivery.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml
from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from brandpulse.core.records import AuthorRecord, MentionRecord  # noqa: E402
from brandpulse.core.settings import load_settings  # noqa: E402
from brandpulse.services import care, webhooks  # noqa: E402
from brandpulse.services.accounts import create_user  # noqa: E402
from brandpulse.services.pipeline import analyze_pending  # noqa: E402
from brandpulse.services.triage import triage_new  # noqa: E402
from store.engine import migrate, session_scope  # noqa: E402
from store.mentions import save_mentions  # noqa: E402
from store.models import Ticket  # noqa: E402

ARRIVED: dict[tuple[int, int], float] = {}  # (ticket id, version) -> when it arrived
DELAY = [0.0]  # seconds the receiver takes to answer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do

    def do_POST(self):  # noqa: N802
        data = json.loads(self.rfile.read(int(self.headers["content-length"])))["data"]
        time.sleep(DELAY[0])
        ARRIVED.setdefault((data["ticket_id"], data["version"]), time.perf_counter())
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def _worker(config: Path) -> subprocess.Popen:
    return subprocess.Popen([str(Path(sys.executable).parent / "brandpulse"), "webhooks", "deliver", "--loop",
                             "--interval", "0.2"], env={**os.environ, "BRANDPULSE_CONFIG": str(config)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_for(count: int, limit: float = 120) -> None:
    deadline = time.monotonic() + limit
    while len(ARRIVED) < count and time.monotonic() < deadline:
        time.sleep(0.005)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--rate", type=float, default=10, help="changes per second")
    parser.add_argument("--backlog", type=int, default=1000)
    parser.add_argument("--database", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--receiver-ms", type=float, default=0, help="the receiver answers after this long")
    parser.add_argument("--parallel-sends", type=int, default=None, help="webhooks.parallel_sends (default: 8)")
    args = parser.parse_args()
    DELAY[0] = args.receiver_ms / 1000
    folder = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    url = args.database or f"sqlite:///{folder / 'bench.db'}"
    migrate(url)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    config = folder / "config.yaml"
    config.write_text(yaml.safe_dump({
        "brands": [{"name": "Nimbus Mobile", "query": '"nimbus mobile"'}], "database": {"url": url},
        "nlp": {"analyzer": "lexicon"}, "webhooks": {"allow_private_hosts": ["127.0.0.1"],
                     **({"parallel_sends": args.parallel_sends} if args.parallel_sends else {})},
        "care": {"teams": [{"name": "care", "auto_assign": False}], "default_team": "care",
                 "merge_window_hours": 0}}))
    settings = load_settings(config)
    agent = create_user(settings, None, "bench_agent", "secret-pass-1", "care_agent", "care")
    with session_scope(url) as session:
        save_mentions(session, [MentionRecord(
            network="x", native_id=f"b{i}", text=f"Nimbus Mobile charged me twice, awful #{i}",
            brands=["Nimbus Mobile"], created_at=datetime.now(timezone.utc) - timedelta(minutes=1),
            author=AuthorRecord("x", f"x-{i}", handle=f"user{i}")) for i in range(20)])
    analyze_pending(settings)
    triage_new(settings)
    with session_scope(url) as session:
        tickets = dict(session.execute(select(Ticket.id, Ticket.version)).all())
    webhooks.create_subscription(settings, None, url=f"http://127.0.0.1:{server.server_address[1]}/hook",
                                 event_types=["ticket.updated"])
    worker = _worker(config)
    try:
        time.sleep(2)  # the worker has started and is polling
        started: dict[tuple[int, int], float] = {}
        ids = list(tickets)
        for n in range(args.changes):
            tid = ids[n % len(ids)]
            status = "in_progress" if (n // len(ids)) % 2 == 0 else "waiting_customer"
            tickets[tid] += 1
            started[(tid, tickets[tid])] = time.perf_counter()
            care.set_status(settings, agent, tid, status)
            time.sleep(max(0.0, started[(tid, tickets[tid])] + 1 / args.rate - time.perf_counter()))
        _wait_for(len(started))
        waits = sorted(ARRIVED[k] - t for k, t in started.items() if k in ARRIVED)
        print(f"{url.split(':')[0]}: {len(waits)}/{len(started)} changes arrived; latency change → receiver "
              f"p50 {statistics.median(waits) * 1000:.0f} ms, p95 {waits[int(0.95 * (len(waits) - 1))] * 1000:.0f} ms, "
              f"max {waits[-1] * 1000:.0f} ms")
    finally:
        worker.terminate()
        worker.wait(10)
    ARRIVED.clear()
    for n in range(args.backlog):  # queued while no worker runs
        tid = ids[n % len(ids)]
        care.add_note(settings, agent, tid, f"backlog note {n}")
    began = time.perf_counter()
    worker = _worker(config)
    try:
        _wait_for(args.backlog)
        took = time.perf_counter() - began
        first = min(ARRIVED.values(), default=began)
    finally:
        worker.terminate()
        worker.wait(10)
    steady = max(ARRIVED.values(), default=first) - first
    print(f"backlog: {len(ARRIVED)}/{args.backlog} delivered in {took:.1f} s (worker start included): "
          f"{len(ARRIVED) / took:.0f} deliveries/s; {(len(ARRIVED) - 1) / max(steady, 1e-9):.0f} deliveries/s "
          f"from the first delivery (receiver {args.receiver_ms:g} ms, parallel_sends {args.parallel_sends or 'default'})")
    server.shutdown()


if __name__ == "__main__":
    main()
