"""Benchmark: post → ticket visible in the care inbox, with a real `brandpulse run` (issue 18).

    python bench/inbox_latency.py [--posts 100] [--poll-seconds 10] [--database URL]

Starts `brandpulse run` on a fresh database with the file inbox polled every --poll-seconds and
the real model, drops complaint posts into the inbox folder in small files over time, and
watches the store (as the inbox's auto-refresh does) for each post's ticket. Prints p50, p95 and
max of (ticket visible − file written) against the target: poll interval + 10 s. An open inbox
page re-reads the list every INBOX_REFRESH seconds, which a viewer may add on top.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from store.engine import migrate, session_scope  # noqa: E402
from store.ticket_detail import which_of_these_posts_have_tickets  # noqa: E402

COMPLAINTS = ["Nimbus Mobile charged me twice this month, I want a refund now",
              "Nimbus Mobile has had no signal in my area for two days, terrible service",
              "Nimbus Mobile support hung up on me again, worst customer service ever",
              "My Nimbus Mobile bill doubled with no explanation, this is a scam",
              "Nimbus Mobile dropped every call today, so frustrating and useless"]


def _config(folder: Path, url: str, poll_seconds: float) -> Path:
    config = {"brands": [{"name": "Nimbus Mobile", "query": '"nimbus mobile" OR nimbusmobile'}],
              "sources": {"file": {"enabled": True, "cadence_minutes": poll_seconds / 60,
                                   "inbox": str(folder / "inbox")}},
              "database": {"url": url},
              "care": {"teams": [{"name": "care"}], "default_team": "care"}}
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    (folder / "inbox").mkdir()
    return path


def _drop(inbox: Path, posts: list[dict]) -> None:
    part = inbox / f".{posts[0]['id']}.part"
    part.write_text("".join(json.dumps(p) + "\n" for p in posts), encoding="utf-8")
    part.rename(inbox / f"{posts[0]['id']}.jsonl")  # appears whole


def measure(url: str, posts: int, poll_seconds: float, folder: Path) -> list[float]:
    migrate(url)
    config = _config(folder, url, poll_seconds)
    env = {**os.environ, "BRANDPULSE_CONFIG": str(config), "BRANDPULSE_LOG_LEVEL": "WARNING",
           "HF_HUB_OFFLINE": "1"}
    runner = subprocess.Popen([str(Path(sys.executable).parent / "brandpulse"), "run"], env=env, cwd=folder,
                              stdout=subprocess.DEVNULL, stderr=open(folder / "run.log", "w"))
    rng = random.Random(7)
    written: dict[str, float] = {}
    seen: dict[str, float] = {}
    try:
        time.sleep(20)  # the model loads and the first passes run before the clock starts
        index = 0
        deadline = None
        while len(seen) < posts and (deadline is None or time.monotonic() < deadline):
            if index < posts:
                batch = [{"id": f"p{index + k}", "network": "x", "text": f"{rng.choice(COMPLAINTS)} #{index + k}",
                          "created_at": datetime.now(timezone.utc).isoformat(),
                          "author": {"id": f"a{index + k}", "handle": f"cust{index + k}"}}
                         for k in range(min(5, posts - index))]
                _drop(folder / "inbox", batch)
                for post in batch:
                    written[post["id"]] = time.monotonic()
                index += len(batch)
                if index >= posts:
                    deadline = time.monotonic() + poll_seconds + 60
            waiting = [i for i in written if i not in seen]
            with session_scope(url) as session:
                for native in which_of_these_posts_have_tickets(session, "x", waiting):
                    seen[native] = time.monotonic()
            time.sleep(rng.uniform(0.5, 2.5) if index < posts else 0.5)
    finally:
        runner.terminate()
        runner.wait(30)
    missing = len(written) - len(seen)
    if missing:
        print(f"{missing} of {len(written)} posts got no ticket (not scored as complaints, or too slow)")
    return [seen[i] - written[i] for i in seen]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100)
    parser.add_argument("--poll-seconds", type=float, default=10.0)
    parser.add_argument("--database", help="a database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{tmp}/bench.db"
        latencies = sorted(measure(url, args.posts, args.poll_seconds, Path(tmp)))
    if not latencies:
        print("no ticket appeared; see the run log")
        return
    p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
    target = args.poll_seconds + 10
    print(f"post → ticket in the store, {len(latencies)} posts, file inbox polled every {args.poll_seconds:g}s: "
          f"p50 {statistics.median(latencies):.1f}s, p95 {p95:.1f}s, max {latencies[-1]:.1f}s "
          f"(target ≤ {target:g}s: {'met' if p95 <= target else 'MISSED'})")


if __name__ == "__main__":
    main()
