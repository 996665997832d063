"""Benchmark: bulk upsert of 100k mentions into SQLite and PostgreSQL.

    python bench/ingest.py [--mentions 100000] [--batch 2000] [--postgres URL]

Prints mentions/s and the process's peak RSS for each backend. PostgreSQL runs
when --postgres or BRANDPULSE_TEST_POSTGRES_URL is given (a throwaway database
is created and dropped). Targets: >= 10,000/s on SQLite, >= 5,000/s on PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from bench.postgres import throwaway_database  # noqa: E402
from brandpulse.core.records import AuthorRecord, MentionRecord  # noqa: E402
from store.engine import migrate, session_scope  # noqa: E402
from store.mentions import save_mentions  # noqa: E402

START = datetime(2026, 10, 1, tzinfo=timezone.utc)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def records(count: int, seed: int = 1):
    rng = random.Random(seed)
    authors = [AuthorRecord("x", f"u{i}", handle=f"user{i}", name=f"User {i}",
                            followers=int(10 / (1 - rng.random()) ** 0.9)) for i in range(count // 5)]
    for i in range(count):
        yield MentionRecord(
            network="x", native_id=str(10**15 + i), created_at=START + timedelta(seconds=i * 20),
            text=f"@NimbusMobile post {i}: " + " ".join(rng.choices(["bill", "signal", "great", "refund",
                                                                    "app", "love", "slow"], k=12)),
            author=rng.choice(authors), likes=rng.randint(0, 50), replies=rng.randint(0, 5),
            reposts=rng.randint(0, 5), raw={"id": str(10**15 + i)}, brands=["Nimbus Mobile"])


def run(url: str, count: int, batch: int) -> tuple[float, float]:
    migrate(url)
    started = time.perf_counter()
    chunk = []
    for record in records(count):
        chunk.append(record)
        if len(chunk) == batch:
            with session_scope(url) as session:
                save_mentions(session, chunk)
            chunk = []
    if chunk:
        with session_scope(url) as session:
            save_mentions(session, chunk)
    elapsed = time.perf_counter() - started
    return count / elapsed, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--postgres", default=os.environ.get("BRANDPULSE_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rate, elapsed = run(f"sqlite:///{tmp}/bench.db", args.mentions, args.batch)
        print(f"sqlite      {args.mentions:,} mentions in {elapsed:6.1f}s = {rate:9,.0f} mentions/s "
              f"(peak RSS {peak_rss_mb():,.0f} MB)")
    if args.postgres:
        with throwaway_database(args.postgres) as url:
            rate, elapsed = run(url, args.mentions, args.batch)
            print(f"postgresql  {args.mentions:,} mentions in {elapsed:6.1f}s = {rate:9,.0f} mentions/s "
                  f"(peak RSS {peak_rss_mb():,.0f} MB)")

if __name__ == "__main__":
    main()
