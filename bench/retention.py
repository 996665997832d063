"""Benchmark: retention over 1M mentions, rows/s, SQLite and PostgreSQL.

    python bench/retention.py [--postgres URL] [--small N]

Works on copies of the kept 1M databases of bench/forget.py build (/tmp/bench_api_1m.db and
PostgreSQL brandpulse_bench_api_1m: 90 days of mentions, analyses, tickets, rollups, search index);
the kept ones are never changed. ``--small N`` fills a throwaway database of N mentions instead
(a quick check). On each copy every mention first gets a raw payload (not timed), then
``apply_retention`` runs with raw_days 30, text_days 60, closed_ticket_days 10 (about a third of the
mentions lose their text, another third their raw payload; authors last seen with their newest
post, so the few silent for 60 days lose their profile). Prints the dry run's time, then rows
and rows/s per kind and in all, and checks that the rollup totals did not move.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402

from bench.dashboard import bench_settings, fill  # noqa: E402
from bench.postgres import _sibling  # noqa: E402
from brandpulse.services.pipeline import refresh_overview  # noqa: E402
from brandpulse.services.retention import apply_retention  # noqa: E402
from store.engine import get_engine, migrate, normalize_url, session_scope  # noqa: E402

SQLITE_KEPT = Path("/tmp/bench_api_1m.db")
POSTGRES_KEPT = "brandpulse_bench_api_1m"
RETENTION = {"raw_days": 30, "text_days": 60, "closed_ticket_days": 10}


def _settings(url: str):
    base = bench_settings(url)
    return base.model_validate({**base.model_dump(mode="json", exclude_defaults=True), "database": {"url": url},
                                "retention": RETENTION})


def _give_raw(url: str) -> None:
    started = time.perf_counter()
    payload = "json_object('id', id)" if url.startswith("sqlite") else "json_build_object('id', id)"
    with session_scope(url) as session:
        session.execute(text(f"UPDATE mentions SET raw = {payload}"))
        session.execute(text("UPDATE authors SET updated_at = COALESCE((SELECT MAX(m.created_at) FROM mentions m "
                             "WHERE m.author_id = authors.id), updated_at)"))  # last seen with their newest post
    print(f"  setup: a raw payload on every mention, authors last seen at their newest post, in "
          f"{time.perf_counter() - started:.0f} s", flush=True)


def _rollup_totals(url: str) -> tuple:
    with session_scope(url) as session:
        return tuple(session.execute(text("SELECT COUNT(*), COALESCE(SUM(mentions), 0), COALESCE(SUM(complaints), 0) "
                                          "FROM mention_rollups")).one())


def bench_one(url: str) -> None:
    """Time a dry run and a full retention run on the database at ``url`` (a copy)."""
    settings = _settings(url)
    _give_raw(url)
    before = _rollup_totals(url)
    started = time.perf_counter()
    dry = apply_retention(settings, dry_run=True)
    print(f"  dry run: {time.perf_counter() - started:.1f} s, would remove {dry.counts}", flush=True)
    marks = {"start": time.perf_counter()}

    def progress(kind: str, done: int) -> None:
        marks[kind] = time.perf_counter()

    report = apply_retention(settings, progress=progress)
    previous = marks["start"]
    for kind, count in report.counts.items():
        if kind in marks:
            took = marks[kind] - previous
            previous = marks[kind]
            print(f"  {kind:>16}: {count:>9,} rows in {took:6.1f} s = {count / took:8,.0f} rows/s", flush=True)
    print(f"  {'all':>16}: {report.rows:>9,} rows in {report.seconds:6.1f} s = {report.rows_per_second:8,.0f} rows/s",
          flush=True)
    refresh_overview(settings)
    after = _rollup_totals(url)
    print(f"  rollup totals (rows, mentions, complaints) {before} -> {after}: "
          f"{'unchanged' if before == after else 'CHANGED'}", flush=True)


@contextmanager
def sqlite_copy(small: int | None) -> Iterator[str]:
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        copy = Path(tmp) / "retention.db"
        url = f"sqlite:///{copy}"
        if small:
            migrate(url)
            fill(bench_settings(url), small, datetime.now(timezone.utc))
            refresh_overview(bench_settings(url))
        else:
            if not SQLITE_KEPT.exists():
                raise SystemExit(f"{SQLITE_KEPT} is missing: run `python bench/forget.py build` first")
            for suffix in ("", "-wal"):
                if Path(f"{SQLITE_KEPT}{suffix}").exists():
                    shutil.copy(f"{SQLITE_KEPT}{suffix}", f"{copy}{suffix}")
        try:
            yield url
        finally:
            get_engine(url).dispose()


@contextmanager
def postgres_copy(server: str, small: int | None) -> Iterator[str]:
    admin = create_engine(normalize_url(server), isolation_level="AUTOCOMMIT")
    name = "deletions_retention_bench"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"' + ("" if small else f' TEMPLATE "{POSTGRES_KEPT}"')))
    url = _sibling(server, name)
    try:
        if small:
            migrate(url)
            fill(bench_settings(url), small, datetime.now(timezone.utc))
            refresh_overview(bench_settings(url))
        yield url
    finally:
        get_engine(url).dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("BRANDPULSE_TEST_POSTGRES_URL"))
    parser.add_argument("--small", type=int, help="fill a throwaway database of this many mentions instead")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    if not args.skip_sqlite:
        with sqlite_copy(args.small) as url:
            print(f"sqlite ({'copy of ' + str(SQLITE_KEPT) if not args.small else f'{args.small:,} mentions'})",
                  flush=True)
            bench_one(url)
    if args.postgres:
        with postgres_copy(args.postgres, args.small) as url:
            print(f"postgresql ({'copy of ' + POSTGRES_KEPT if not args.small else f'{args.small:,} mentions'})",
                  flush=True)
            bench_one(url)


if __name__ == "__main__":
    main()
