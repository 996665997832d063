"""Benchmark: influence scoring and alert rules at scale.

    python bench/insight.py --database sqlite:///bench-1m.db   (a database filled by bench/dashboard.py --keep)

Prints: the time to compute influence for every author and brand (1M mentions, 100k authors in the
dashboard bench's database) with peak RSS; the time to run every alert rule over 90 days of hourly
windows for 10 brands from in-memory series; and the time of a stored-history backtest per own brand.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from bench.dashboard import OWN, bench_settings  # noqa: E402
from brandpulse.services.alert_rules import HourlySeries, detect, detect_posts  # noqa: E402
from brandpulse.services.alerting import backtest  # noqa: E402
from brandpulse.services.influence import refresh_influence  # noqa: E402
from brandpulse.core.settings_alerts import AlertSettings  # noqa: E402
from store.buckets import bucket_label  # noqa: E402
from store.engine import session_scope  # noqa: E402
from store.models import Author, AuthorInfluence, Mention  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def alert_rules_in_memory(brands: int = 10, days: int = 90) -> tuple[float, int]:
    """Every rule over each hour of ``days`` for ``brands`` synthetic series (one spike each)."""
    rng = random.Random(3)
    end = datetime(2026, 11, 16, tzinfo=timezone.utc)
    rules = AlertSettings()
    started, fired = time.perf_counter(), 0
    for _ in range(brands):
        series = {}
        for h in range(1, (days + 35) * 24):
            count = rng.randint(5, 40)
            series[bucket_label(end - timedelta(hours=h), "hour")] = (count, count, count // 4)
        spike = end - timedelta(days=rng.randint(1, days - 1))
        for h in range(1, 4):
            series[bucket_label(spike - timedelta(hours=h), "hour")] = (400, 400, 300)
        first = end - timedelta(days=days + 35)
        series = HourlySeries(series)
        for hour in range(days * 24):
            window_end = end - timedelta(hours=hour)
            fired += len(detect(rules, series, window_end, first)) + len(detect_posts(rules, [], [], window_end))
    return time.perf_counter() - started, fired


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True, help="URL of a database filled by bench/dashboard.py")
    args = parser.parse_args()
    settings = bench_settings(args.database)
    with session_scope(args.database) as session:
        mentions = session.execute(select(func.count(Mention.id))).scalar()
        authors = session.execute(select(func.count(Author.id))).scalar()
        newest = session.execute(select(func.max(Mention.created_at))).scalar()
    print(f"database: {mentions:,} mentions, {authors:,} authors")
    started = time.perf_counter()
    rows = refresh_influence(settings, now=newest)
    with session_scope(args.database) as session:
        stored = session.execute(select(func.count()).select_from(AuthorInfluence)).scalar()
    print(f"influence: {rows:,} (author, brand) scores ({stored:,} stored) in {time.perf_counter() - started:.1f}s, "
          f"peak RSS {peak_rss_mb():,.0f} MB")
    elapsed, fired = alert_rules_in_memory()
    print(f"alert rules, 10 brands x 90 days of hourly windows (21,600 evaluations): {elapsed:.2f}s, "
          f"{fired} findings before cooldown")
    for brand in OWN:
        started = time.perf_counter()
        findings = backtest(settings, brand, newest - timedelta(days=90), newest)
        print(f"backtest {brand}, 90 days from the store: {time.perf_counter() - started:.2f}s, {len(findings)} alerts")


if __name__ == "__main__":
    main()
