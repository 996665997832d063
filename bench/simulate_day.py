"""Simulation: a day of 10M mentions (116/s with 5x peaks), compressed, through the real store path
into 1, 2 and 4 `brandpulse worker --queues analyze` processes on PostgreSQL.

    python bench/simulate_day.py [--workers 1,2,4] [--minutes 3] [--rate 116] [--peak 5]
                                 [--peak-seconds 15] [--page 100] [--postgres URL]

Per worker count: a throwaway database (our migrations, the demo's brands), workers started and
warmed, then feeder threads (one per own brand) run `collect_once` with a synthetic X collector
whose pages of ``--page`` posts come due at ``--rate`` posts/s, with two peaks of ``--peak`` x the
rate for ``--peak-seconds`` each; every page, its cursor and its analysis job commit in one
transaction, as for a real collector. Every few seconds it prints the backlog (mentions awaiting
analysis, analyze jobs waiting); at the end post -> analysed p50/p95, the largest backlog, the
time to drain after the feed stops, CPU seconds of the workers, of this feeder and of the
PostgreSQL backends of the database, and analysed mentions per worker CPU-second (per core).
The feeder, PostgreSQL and the workers share this machine's cores: the figures say so.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bench.postgres import throwaway_database  # noqa: E402
from bench.simulate_posts import SimulatedX, peak_windows  # noqa: E402
from bench.simulate_report import WalMeter, report, table_sizes, time_overview  # noqa: E402
from brandpulse.core.settings import load_settings, tracked_brands  # noqa: E402
from brandpulse.services.collecting import collect_once  # noqa: E402
from store.brands import sync_brands  # noqa: E402
from store.engine import get_engine, migrate, session_scope  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEMO_CONFIG = ROOT / "brandpulse" / "demo" / "config.yaml"
TICK = os.sysconf("SC_CLK_TCK")
SHARES = {"Nimbus Mobile": 0.6, "Brewhaven": 0.4}  # of the posts, per own brand (telecom, coffee)
BACKLOG = text("SELECT (SELECT count(*) FROM mentions WHERE analysis_status IN ('pending', 'claimed')), "
               "(SELECT count(*) FROM procrastinate_jobs WHERE queue_name = 'analyze' AND status = 'todo'), "
               "(SELECT count(*) FROM procrastinate_jobs WHERE queue_name = 'analyze' AND status = 'doing'), "
               "(SELECT count(*) FROM mentions), (SELECT count(*) FROM analyses)")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / TICK, sum(values) / TICK


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def write_config(directory: Path, url: str) -> Path:
    raw = yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))
    config = {"brands": raw["brands"], "nlp": raw["nlp"], "database": {"url": url},
              "queue": {"local_workers": 0}}
    path = directory / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def worker_command() -> list[str]:
    """`brandpulse worker` when the CLI has it, else the same run_worker call it makes."""
    probe = subprocess.run([sys.executable, "-m", "brandpulse.cli.main", "worker", "--help"],
                           capture_output=True, cwd=ROOT)
    if probe.returncode == 0:
        return [sys.executable, "-m", "brandpulse.cli.main", "worker", "--queues", "analyze", "--concurrency", "1"]
    return [sys.executable, "-c", "from brandpulse.core.settings import load_settings; "
            "from brandpulse.services.jobs import run_worker; run_worker(load_settings(), ['analyze'], 1)"]


class Backends:
    """CPU seconds of the PostgreSQL backends serving one database (sampled; a backend that
    ended between samples keeps its last reading)."""

    def __init__(self, url: str) -> None:
        self.url, self.start, self.last = url, {}, {}

    def sample(self, baseline: bool = False) -> None:
        with session_scope(self.url) as session:
            pids = session.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                                        )).scalars().all()
        for pid in pids:
            now = cpu_seconds(pid)
            if baseline:
                self.start[pid] = now
            self.start.setdefault(pid, 0.0)
            self.last[pid] = max(self.last.get(pid, 0.0), now)

    def used(self) -> float:
        return sum(self.last[pid] - self.start.get(pid, 0.0) for pid in self.last)


def feed(settings, brand, collector: SimulatedX, errors: list) -> None:
    try:
        while not collector.finished:
            result = collect_once(settings, collector, brand)
            errors.extend(result.errors)
    except Exception as exc:  # noqa: BLE001 - reported at the end of the run
        errors.append(repr(exc))


def warm_up(settings, workers: int, url: str) -> int:
    """One small page per worker (each worker loads the model on its first job); wait for them."""
    brand = next(b for b in tracked_brands(settings) if b.name == "Nimbus Mobile")
    warm = SimulatedX(rate=lambda t: 0, duration=0, page=5, share=1.0, seed=999, prefix="warm")
    for _ in range(2 * workers):
        warm.finished = False
        collect_once(settings, warm.single_page(brand), brand)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        with session_scope(url) as session:
            waiting, todo, doing, _, _ = session.execute(BACKLOG).one()
        if not waiting and not todo and not doing:
            break
        time.sleep(1)
    with session_scope(url) as session:
        return session.execute(text("SELECT coalesce(max(id), 0) FROM mentions")).scalar_one()


def simulate(url: str, workers: int, args) -> dict:
    """One run; returns its figures."""
    migrate(url)
    directory = Path(tempfile.mkdtemp(prefix="simulate_day_"))
    config = write_config(directory, url)
    settings = load_settings(config)
    with session_scope(url) as session:
        sync_brands(session, settings.brands)
    env = {**os.environ, "BRANDPULSE_CONFIG": str(config)}
    logs = [open(directory / f"worker{i}.log", "w") for i in range(workers)]
    procs = [subprocess.Popen(worker_command(), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
             for log in logs]
    try:
        result = _measure(url, settings, procs, args)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        for log in logs:
            log.close()
    result["overview"] = time_overview(settings, url)
    result["sizes"] = table_sizes(url)  # with the search index and rollups the refresh wrote
    get_engine(url).dispose()
    return result


def _measure(url: str, settings, procs, args) -> dict:
    warm_ids = warm_up(settings, len(procs), url)
    duration = args.minutes * 60
    windows = peak_windows(duration, args.peak_seconds)

    def rate(t: float) -> float:
        return args.rate * (args.peak if any(a <= t < b for a, b in windows) else 1)

    collectors, threads, errors = [], [], []
    for index, brand in enumerate(b for b in tracked_brands(settings) if b.name in SHARES):
        collector = SimulatedX(rate, duration, args.page, SHARES[brand.name], seed=index, prefix=f"b{index}")
        collectors.append(collector)
        threads.append(threading.Thread(target=feed, args=(settings, brand, collector, errors), daemon=True))
    backends = Backends(url)
    backends.sample(baseline=True)
    wal_start = _scalar(url, "SELECT pg_current_wal_lsn()")
    wal_meter = WalMeter(url)
    cpu0 = [cpu_seconds(p.pid) for p in procs]
    feeder0, (busy0, total0) = self_cpu(), machine_busy()
    started = time.monotonic()
    for collector in collectors:
        collector.start(started)
    for thread in threads:
        thread.start()
    max_backlog = max_jobs = 0
    fed_at = drained_at = None
    while True:
        time.sleep(args.every)
        elapsed = time.monotonic() - started
        backends.sample()
        wal_meter.sample()
        with session_scope(url) as session:
            waiting, todo, doing, stored, analysed = session.execute(BACKLOG).one()
        max_backlog, max_jobs = max(max_backlog, waiting), max(max_jobs, todo)
        used = sum(cpu_seconds(p.pid) - c for p, c in zip(procs, cpu0))
        print(f"  {elapsed:6.0f}s  rate {rate(elapsed) if elapsed < duration else 0:4.0f}/s  stored {stored:7,}  "
              f"analysed {analysed:7,}  backlog {waiting:6,} mentions / {todo:4} jobs waiting, {doing} running  "
              f"workers {used / elapsed:4.2f} cores", flush=True)
        if fed_at is None and not any(t.is_alive() for t in threads):
            fed_at = time.monotonic()
        if fed_at is not None and not waiting and not todo and not doing:
            drained_at = time.monotonic()
            break
        if fed_at is not None and time.monotonic() - fed_at > args.drain_limit:
            break
    if any(p.poll() is not None for p in procs):
        errors.append("a worker exited during the run (see its log)")
    ended = time.monotonic()
    busy1, total1 = machine_busy()
    worker_cpu = sum(cpu_seconds(p.pid) - c for p, c in zip(procs, cpu0))
    wal_meter.sample()
    wal = float(_scalar(url, f"SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '{wal_start}')"))
    with session_scope(url) as session:
        latency = session.execute(text(
            "SELECT count(*), percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY extract(epoch FROM "
            "a.analyzed_at - m.collected_at)), percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY "
            "extract(epoch FROM a.analyzed_at - m.created_at)), max(extract(epoch FROM a.analyzed_at - "
            "m.collected_at)) FROM analyses a JOIN mentions m ON m.id = a.mention_id WHERE m.id > :warm"),
            {"warm": warm_ids}).one()
        fed = session.execute(text("SELECT count(*) FROM mentions WHERE id > :warm"), {"warm": warm_ids}).scalar_one()
    return {"workers": len(procs), "fed": fed, "feed_seconds": (fed_at or ended) - started,
            "analysed": latency[0], "p50": latency[1][0] if latency[1] else None,
            "p95": latency[1][1] if latency[1] else None, "post_p95": latency[2][1] if latency[2] else None,
            "max_latency": latency[3], "max_backlog": max_backlog, "max_jobs": max_jobs,
            "drain": (drained_at - fed_at) if drained_at and fed_at else None, "wall": ended - started,
            "worker_cpu": worker_cpu, "feeder_cpu": self_cpu() - feeder0, "pg_cpu": backends.used(),
            "machine_cpu": busy1 - busy0, "machine_total": total1 - total0, "wal_bytes": wal, "errors": errors,
            "wal_own": wal_meter.bytes}


def _scalar(url: str, sql: str):
    with session_scope(url) as session:
        return session.execute(text(sql)).scalar_one()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--minutes", type=float, default=3)
    parser.add_argument("--rate", type=float, default=116, help="base posts/s (10M a day = 116/s)")
    parser.add_argument("--peak", type=float, default=5, help="peak rate as a multiple of --rate")
    parser.add_argument("--peak-seconds", type=float, default=15, help="length of each of the two peaks")
    parser.add_argument("--page", type=int, default=100, help="posts per collector page")
    parser.add_argument("--every", type=float, default=5, help="seconds between backlog lines")
    parser.add_argument("--drain-limit", type=float, default=300, help="seconds to wait for the backlog after the feed")
    parser.add_argument("--postgres", default=os.environ.get("BRANDPULSE_TEST_POSTGRES_URL",
                                                             "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))  # workers stopped, database dropped
    cores = os.cpu_count() or 1
    print(f"{cores} cores shared by the feeder, PostgreSQL and the workers (and anything else running here); "
          f"{args.rate:.0f}/s for {args.minutes:g} min with two peaks of {args.peak:g}x for "
          f"{args.peak_seconds:g}s, pages of {args.page}", flush=True)
    results = []
    for workers in [int(n) for n in args.workers.split(",")]:
        print(f"--- {workers} analyze worker(s)", flush=True)
        with throwaway_database(args.postgres) as url:
            results.append(simulate(url, workers, args))
        report(results[-1], cores)
    print("\nworkers  fed/s  max backlog  p50    p95    drain   worker CPU  per CPU-s")
    for r in results:
        drain = f"{r['drain']:5.0f}s" if r["drain"] is not None else "  n/a"
        print(f"{r['workers']:7}  {r['fed'] / r['feed_seconds']:5.0f}  {r['max_backlog']:11,}  "
              f"{r['p50'] or 0:5.1f}s {r['p95'] or 0:5.1f}s {drain}  {r['worker_cpu']:8.0f}s  "
              f"{r['analysed'] / max(r['worker_cpu'], 0.01):8.0f}")


if __name__ == "__main__":
    main()
