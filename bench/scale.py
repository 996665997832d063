"""Scale-out on PostgreSQL (issue 22): mentions analysed per second with 1, 2 and 4 `brandpulse
worker` processes, and the queue's own cost per job.

Each run fills a scratch database with N synthetic mentions (their analysis jobs are deferred as
they are stored, ``nlp.batch_size`` ids each), starts W workers on the analyze queue and times
from the first claimed mention to the last one analysed (worker start-up and model loading are
not counted). The overhead run drains jobs whose mentions are already analysed, so each job costs
only the queue (fetch, finish, events) plus one claiming UPDATE that matches nothing.

    python bench/scale.py [--postgres URL] [--mentions 4000] [--workers 1,2,4] [--analyzer model|lexicon]

Scenarios are functions of (args) -> printed lines, listed in SCENARIOS, so a scenario that feeds
posts at a steady rate with peaks can be added beside these.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent / "brandpulse"
WORDS = ["refund", "broken", "signal", "bill", "app", "slow", "help", "love", "great", "outage", "store", "why"]


def fresh_database(base: str, name: str) -> str:
    """An empty, migrated database ``name`` on the server of ``base``; its SQLAlchemy URL."""
    from store.engine import migrate

    dsn = base.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    url = "postgresql+psycopg://" + dsn.split("://", 1)[1].rsplit("/", 1)[0] + "/" + name
    migrate(url)
    return url


def write_config(folder: Path, url: str, analyzer: str, batch_size: int) -> Path:
    config = {"brands": [{"name": "Nimbus Mobile", "query": '"nimbus mobile" OR nimbusmobile'}],
              "nlp": {"analyzer": analyzer, "batch_size": batch_size},
              "care": {"teams": [{"name": "care"}], "default_team": "care"},
              "database": {"url": url}}
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def fill(settings, folder: Path, count: int) -> None:
    """``count`` synthetic posts imported (and their analysis jobs deferred with them)."""
    from brandpulse.services.importer import import_file
    from store.job_queue import use_analysis_batch_size

    use_analysis_batch_size(settings.nlp.batch_size)
    path = folder / "posts.jsonl"
    with path.open("w") as handle:
        for i in range(count):
            words = " ".join(WORDS[(i * 7 + k) % len(WORDS)] for k in range(8))
            handle.write(json.dumps({"id": str(i), "text": f"@NimbusMobile {words} #{i}", "user": f"u{i % 2000}",
                                     "created_at": "2026-11-29T10:00:00Z"}) + "\n")
    import_file(settings, path, network="x")


def count(dsn: str, sql: str) -> int:
    with psycopg.connect(dsn) as connection:
        return connection.execute(sql).fetchone()[0]


def drain(config: Path, dsn: str, workers: int, total: int, timeout: float = 1800) -> float:
    """Seconds from the first mention claimed to the last analysed, with ``workers`` processes."""
    env = {**os.environ, "BRANDPULSE_CONFIG": str(config)}
    processes = [subprocess.Popen([str(BIN), "worker", "--queues", "analyze"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(workers)]
    started = None
    deadline = time.time() + timeout
    try:
        while time.time() < deadline:
            left = count(dsn, "SELECT count(*) FROM mentions WHERE analysis_status IN ('pending', 'claimed')")
            if started is None and left < total or started is None and count(
                    dsn, "SELECT count(*) FROM mentions WHERE analysis_status = 'claimed'"):
                started = time.perf_counter()
            if left == 0:
                return time.perf_counter() - (started or time.perf_counter())
            time.sleep(0.1)
        raise SystemExit(f"{workers} worker(s) did not finish within {timeout:.0f} s")
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=120)


def scenario_workers(args) -> list[str]:
    """Mentions analysed per second with each worker count."""
    from brandpulse.core.settings import load_settings

    lines = []
    for workers in [int(w) for w in args.workers.split(",")]:
        with tempfile.TemporaryDirectory() as folder:
            url = fresh_database(args.postgres, "brandpulse_bench_scale")
            config = write_config(Path(folder), url, args.analyzer, args.batch_size)
            fill(load_settings(config), Path(folder), args.mentions)
            seconds = drain(config, url.replace("postgresql+psycopg://", "postgresql://"), workers, args.mentions)
            lines.append(f"{workers} worker(s): {args.mentions} mentions in {seconds:.1f} s = "
                         f"{args.mentions / seconds:.0f} mentions/s ({args.analyzer}, batch {args.batch_size})")
            print(lines[-1], flush=True)
    return lines


def scenario_overhead(args) -> list[str]:
    """The queue's cost per job: jobs whose mentions are already analysed, drained by one worker."""
    from brandpulse.core.settings import load_settings
    from store.engine import session_scope
    from store.job_queue import enqueue_job

    jobs = args.overhead_jobs
    with tempfile.TemporaryDirectory() as folder:
        url = fresh_database(args.postgres, "brandpulse_bench_scale")
        config = write_config(Path(folder), url, "lexicon", 1)
        settings = load_settings(config)
        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        with session_scope(url) as session:
            for _ in range(jobs):
                enqueue_job(session, "analyze", "analyze", {"mention_ids": [1]})  # no such mention: nothing to do
        env = {**os.environ, "BRANDPULSE_CONFIG": str(config)}
        worker = subprocess.Popen([str(BIN), "worker", "--queues", "analyze"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        left = "SELECT count(*) FROM procrastinate_jobs WHERE status <> 'succeeded'"
        while count(dsn, left) == jobs:
            time.sleep(0.01)
        started, first = time.perf_counter(), count(dsn, left)
        while count(dsn, left):
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
        del settings
    per_job = seconds / first * 1000
    return [f"queue overhead: {first} empty jobs in {seconds:.1f} s = {per_job:.1f} ms per job on one worker "
            f"({first / seconds:.0f} jobs/s)"]


SCENARIOS = {"workers": scenario_workers, "overhead": scenario_overhead}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("BRANDPULSE_TEST_POSTGRES_URL",
                                                              "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--mentions", type=int, default=4000)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--analyzer", choices=("model", "lexicon"), default="model")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--overhead-jobs", type=int, default=1000)
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS),
                        help="run only these (default: all)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    for name in args.scenario or list(SCENARIOS):
        for line in SCENARIOS[name](args):
            print(line, flush=True)


if __name__ == "__main__":
    main()
