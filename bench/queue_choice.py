"""Which PostgreSQL job queue: procrastinate or PgQueuer, measured on this machine (issue 22).

For each library, on its own scratch database: enqueue N no-op jobs one per transaction (as a
stored page would), drain them with one worker process, and SIGKILL a worker in the middle of a
long job to see when (and whether) another worker runs that job again. Both use a 10 s
heartbeat/stall threshold so the kill test is short.

    python bench/queue_choice.py [--jobs 2000] [--postgres postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from datetime import timedelta

import psycopg

STALL_SECONDS = 10
HERE = os.path.abspath(__file__)


def _dsn(base: str, name: str) -> str:
    return base.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0] + "/" + name


def _fresh(base: str, name: str) -> str:
    with psycopg.connect(_dsn(base, "postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    return _dsn(base, name)


# ---------------------------------------------------------------- procrastinate

def procrastinate_app(dsn: str):
    import procrastinate

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=dsn))

    @app.task(name="noop", queue="bench")
    def noop(i: int) -> None:
        return None

    @app.task(name="sleepy", queue="bench")
    def sleepy(path: str) -> None:
        with open(path, "a") as handle:
            handle.write(f"{os.getpid()}\n")
        time.sleep(30)

    return app


def procrastinate_worker(dsn: str, drain: bool) -> None:
    """A worker process; it also re-queues jobs of workers whose heartbeat is STALL_SECONDS old."""
    app = procrastinate_app(dsn)

    async def retry_stalled() -> None:
        while True:
            await asyncio.sleep(2)
            for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=STALL_SECONDS):
                await app.job_manager.retry_job(job)

    async def main() -> None:
        async with app.open_async():
            watcher = asyncio.create_task(retry_stalled())
            await app.run_worker_async(queues=["bench"], concurrency=1, wait=not drain,
                                       update_heartbeat_interval=2, stalled_worker_timeout=STALL_SECONDS)
            watcher.cancel()
    asyncio.run(main())


def bench_procrastinate(base: str, jobs: int) -> dict:
    dsn = _fresh(base, "queue_choice_procrastinate")
    app = procrastinate_app(dsn)
    with app.open():
        app.schema_manager.apply_schema()
    with psycopg.connect(dsn) as connection:  # our own transaction per job, as a page store would
        started = time.perf_counter()
        for i in range(jobs):
            with connection.transaction():
                connection.execute(
                    "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW('bench', 'noop', 0, NULL, NULL, %s::jsonb,"
                    " NULL)::procrastinate_job_to_defer_v1])", (f'{{"i": {i}}}',))
        enqueue = jobs / (time.perf_counter() - started)
    return {"enqueue_per_s": enqueue, **_drain_and_kill(dsn, "procrastinate", jobs, _procrastinate_sleepy)}


def _procrastinate_sleepy(dsn: str, path: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute("SELECT procrastinate_defer_jobs_v1(ARRAY[ROW('bench', 'sleepy', 0, NULL, NULL,"
                           " %s::jsonb, NULL)::procrastinate_job_to_defer_v1])", (f'{{"path": "{path}"}}',))


# ---------------------------------------------------------------- PgQueuer

async def _pgqueuer(dsn: str):
    from pgqueuer import PgQueuer

    connection = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
    return PgQueuer.from_psycopg_connection(connection)


def pgqueuer_worker(dsn: str, drain: bool) -> None:
    from pgqueuer.domain.types import QueueExecutionMode

    async def main() -> None:
        pgq = await _pgqueuer(dsn)

        @pgq.entrypoint("noop")
        async def noop(job) -> None:  # PgQueuer 1.x takes async entrypoints only
            return None

        @pgq.entrypoint("sleepy")
        async def sleepy(job) -> None:
            with open(job.payload.decode(), "a") as handle:
                handle.write(f"{os.getpid()}\n")
            await asyncio.to_thread(time.sleep, 30)  # blocking work goes to a thread

        await pgq.run(mode=QueueExecutionMode.drain if drain else QueueExecutionMode.continuous,
                      heartbeat_timeout=timedelta(seconds=STALL_SECONDS), batch_size=10,
                      dequeue_timeout=timedelta(seconds=1))
    asyncio.run(main())


def bench_pgqueuer(base: str, jobs: int) -> dict:
    from pgqueuer.adapters.drivers.psycopg import SyncPsycopgDriver
    from pgqueuer.queries import Queries, SyncQueries

    dsn = _fresh(base, "queue_choice_pgqueuer")

    async def install() -> None:
        connection = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
        await Queries.from_psycopg_connection(connection).install()
        await connection.close()
    asyncio.run(install())
    # PgQueuer's sync driver refuses a connection outside autocommit: each enqueue is its own
    # transaction, it cannot join ours (we would have to copy its INSERT into our code)
    with psycopg.connect(dsn, autocommit=True) as connection:
        queries = SyncQueries(SyncPsycopgDriver(connection))
        started = time.perf_counter()
        for i in range(jobs):
            queries.enqueue("noop", str(i).encode())
        enqueue = jobs / (time.perf_counter() - started)
    return {"enqueue_per_s": enqueue, **_drain_and_kill(dsn, "pgqueuer", jobs, _pgqueuer_sleepy)}


def _pgqueuer_sleepy(dsn: str, path: str) -> None:
    from pgqueuer.adapters.drivers.psycopg import SyncPsycopgDriver
    from pgqueuer.queries import SyncQueries

    with psycopg.connect(dsn, autocommit=True) as connection:
        SyncQueries(SyncPsycopgDriver(connection)).enqueue("sleepy", path.encode())


# ---------------------------------------------------------------- shared steps

def _worker(library: str, dsn: str, drain: bool) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, HERE, "--worker", library, "--dsn", dsn]
                            + (["--drain"] if drain else []),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _drain_and_kill(dsn: str, library: str, jobs: int, enqueue_sleepy) -> dict:
    started = time.perf_counter()
    worker = _worker(library, dsn, drain=True)
    worker.wait(timeout=600)
    drain = jobs / (time.perf_counter() - started)  # includes the worker's start (~1 s)
    path = f"/tmp/queue_choice_{library}_{os.getpid()}.txt"
    open(path, "w").close()
    first = _worker(library, dsn, drain=False)
    enqueue_sleepy(dsn, path)
    deadline = time.time() + 60
    while not open(path).read():
        if time.time() > deadline or first.poll() is not None:
            raise SystemExit(f"{library}: the worker never started the long job")
        time.sleep(0.05)
    first.kill()  # SIGKILL mid-job
    killed_at = time.perf_counter()
    first.wait()
    second = _worker(library, dsn, drain=False)
    deadline, rerun = time.time() + 90, None
    while time.time() < deadline:
        if len(open(path).read().split()) >= 2:
            rerun = time.perf_counter() - killed_at
            break
        time.sleep(0.1)
    second.kill()
    second.wait()
    os.unlink(path)
    return {"drain_per_s": drain, "rerun_after_kill_s": rerun}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--postgres", default=os.environ.get("BRANDPULSE_TEST_POSTGRES_URL",
                                                              "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--worker")
    parser.add_argument("--dsn")
    parser.add_argument("--drain", action="store_true")
    args = parser.parse_args()
    if args.worker:
        {"procrastinate": procrastinate_worker, "pgqueuer": pgqueuer_worker}[args.worker](args.dsn, args.drain)
        return
    for name, bench in (("procrastinate", bench_procrastinate), ("pgqueuer", bench_pgqueuer)):
        figures = bench(args.postgres, args.jobs)
        rerun = figures["rerun_after_kill_s"]
        print(f"{name:14s} enqueue {figures['enqueue_per_s']:7.0f} jobs/s (one per transaction)  "
              f"drain {figures['drain_per_s']:6.0f} jobs/s (1 worker, no-op jobs)  "
              f"killed job re-run after {'never (90 s)' if rerun is None else f'{rerun:.1f} s'} "
              f"(stall threshold {STALL_SECONDS} s)")


if __name__ == "__main__":
    main()
