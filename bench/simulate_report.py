"""What bench/simulate_day.py prints after each run: latency, backlog, CPU, the database's size per
mention (with the search index and rollups) and the cost of the overview refresh at that volume."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

from sqlalchemy import text

from brandpulse.services.pipeline import refresh_overview
from store.engine import session_scope
from store.rollups import rebuild_day

LENGTH = re.compile(r"len \(rec/tot\):\s*\d+/\s*(\d+)")


def time_overview(settings, url: str) -> tuple[float, float, int]:
    """Seconds of the overview refresh the insight queue runs after analyses (first: rollups of
    the day plus the search index of every new mention), then of one more recount of the day."""
    started = time.perf_counter()
    refresh_overview(settings)
    first = time.perf_counter() - started
    with session_scope(url) as session:
        day = session.execute(text("SELECT to_char(max(created_at), 'YYYY-MM-DD') FROM mentions")).scalar_one()
        rows = session.execute(text("SELECT count(*) FROM mentions WHERE to_char(created_at, 'YYYY-MM-DD') = :d"),
                               {"d": day}).scalar_one()
        started = time.perf_counter()
        rebuild_day(session, day)
    return first, time.perf_counter() - started, rows


def table_sizes(url: str) -> dict[str, tuple[int, int, int]]:
    """Per table: (rows, heap+toast bytes, index bytes)."""
    sizes = {}
    with session_scope(url) as session:
        for table in ("mentions", "analyses", "mention_brands", "authors", "mention_search", "mention_rollups",
                      "term_rollups", "procrastinate_jobs", "procrastinate_events"):
            rows = session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            total, indexes = session.execute(text(
                "SELECT pg_total_relation_size(CAST(:t AS regclass)), pg_indexes_size(CAST(:t AS regclass))"),
                {"t": table}).one()
            sizes[table] = (rows, total - indexes, indexes)
        sizes["columns"] = tuple(session.execute(text(  # what retention's raw_days / text_days empty
            "SELECT avg(pg_column_size(m.*)), avg(pg_column_size(raw)), avg(pg_column_size(text)) FROM mentions m")).one())
    return sizes


def report(r: dict, cores: int) -> None:
    span = r["wall"]
    print(f"workers {r['workers']}: fed {r['fed']:,} posts in {r['feed_seconds']:.0f}s "
          f"({r['fed'] / r['feed_seconds']:.0f}/s average), analysed {r['analysed']:,}")
    print(f"  backlog max {r['max_backlog']:,} mentions ({r['max_jobs']} jobs waiting); drained "
          + (f"{r['drain']:.0f}s after the feed stopped" if r["drain"] is not None else "NOT within the limit"))
    fmt = lambda v: f"{v:.1f}s" if v is not None else "-"  # noqa: E731
    print(f"  stored -> analysed p50 {fmt(r['p50'])}, p95 {fmt(r['p95'])}, max {fmt(r['max_latency'])}; "
          f"post written -> analysed p95 {fmt(r['post_p95'])} (includes waiting for a page to fill)")
    print(f"  CPU over {span:.0f}s on {cores} cores: workers {r['worker_cpu']:.0f}s "
          f"({100 * r['worker_cpu'] / span / cores:.0f}% of the machine), feeder {r['feeder_cpu']:.0f}s, "
          f"PostgreSQL backends {r['pg_cpu']:.0f}s, whole machine {r['machine_cpu']:.0f}s "
          f"({100 * r['machine_cpu'] / max(r['machine_total'], 1):.0f}% busy, other users included)")
    if r["worker_cpu"]:
        print(f"  {r['analysed'] / r['worker_cpu']:.0f} mentions analysed per worker CPU-second; "
              f"{r['fed'] / max(r['feeder_cpu'], 0.01):.0f} stored per feeder CPU-second; "
              f"{r['fed'] / max(r['pg_cpu'], 0.01):.0f} stored + analysed per PostgreSQL CPU-second")
    sizes = r["sizes"]
    mentions = sizes["mentions"][0]
    kept = sum(heap + idx for name, (_, heap, idx) in sizes.items() if name[:5] not in ("procr", "colum"))
    print(f"  WAL {r['wal_bytes'] / 1e6:.0f} MB ({r['wal_bytes'] / max(r['fed'], 1):,.0f} bytes per post, "
          f"cluster-wide); stored {kept / max(mentions, 1):,.0f} bytes per mention incl. indexes:")
    if r.get("wal_own") is not None:
        print(f"  WAL of this database's relations (pg_waldump): {r['wal_own'] / 1e6:.0f} MB = "
              f"{r['wal_own'] / max(r['fed'], 1):,.0f} bytes per post stored and analysed")
    row, raw, body = (float(v or 0) for v in sizes.pop("columns"))
    print(f"    a mentions row averages {row:.0f} bytes, of which raw {raw:.0f} (retention.raw_days) "
          f"and text {body:.0f} (text_days)")
    for name, (rows, heap, idx) in sizes.items():
        print(f"    {name:22} {rows:8,} rows  {heap / 1e6:7.1f} MB data  {idx / 1e6:7.1f} MB indexes")
    first, recount, rows = r["overview"]
    print(f"  overview refresh (insight queue): first {first:.1f}s, recount of the day's {rows:,} mentions "
          f"{recount:.1f}s = {1e6 * recount / max(rows, 1):.0f} us per mention of the day")
    for error in r["errors"][:5]:
        print(f"  error: {error}")


class WalMeter:
    """WAL written for one database's relations (PostgreSQL's WAL is shared by the whole server):
    pg_waldump over each interval since the last sample, while the segments still exist (local
    server, readable data directory); ``bytes`` stays None when it cannot read them."""

    def __init__(self, url: str) -> None:
        self.url, self.bytes, self.records = url, 0, 0
        with session_scope(url) as session:
            oid, self.directory, self.lsn = session.execute(text(
                "SELECT (SELECT oid FROM pg_database WHERE datname = current_database()), "
                "current_setting('data_directory'), pg_current_wal_lsn()")).one()
        self.needle = f"/{oid}/"
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_waldump")) or [Path(shutil.which("pg_waldump") or "/none")]
        self.tool = found[-1]
        if not self.tool.exists() or not os.access(Path(self.directory) / "pg_wal", os.R_OK):
            self.bytes = None

    def sample(self) -> None:
        if self.bytes is None:
            return
        with session_scope(self.url) as session:
            end = session.execute(text("SELECT pg_current_wal_lsn()")).scalar_one()
        if end == self.lsn:
            return
        dump = subprocess.run([str(self.tool), "-p", str(Path(self.directory) / "pg_wal"), "-s", str(self.lsn),
                               "-e", str(end)], capture_output=True, text=True)
        if dump.returncode and ("could not find file" in dump.stderr or "could not open file" in dump.stderr):
            self.bytes = None  # the segments were recycled before this sample
            return
        for line in dump.stdout.splitlines():
            if self.needle in line and "rel " in line:
                self.bytes += int(LENGTH.search(line).group(1))  # the record with its full-page images
                self.records += 1
        self.lsn = end
