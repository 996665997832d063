"""The job queue's tasks and worker (procrastinate on PostgreSQL).

`brandpulse worker` runs :func:`run_worker`; `brandpulse run` on PostgreSQL defers the periodic
jobs of :func:`periodic_jobs`. A task fails by raising: procrastinate retries it with backoff
(``queue.max_attempts``, ``queue.retry_wait_seconds``), then leaves it 'failed' (dead), with its
last error kept for doctor and the Sources page. A worker killed mid-job stops sending heartbeats;
after ``queue.stalled_seconds`` any other worker puts its job back in the queue.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import socket
from dataclasses import dataclass, field
from typing import Callable

import procrastinate

from brandpulse.core.settings import Settings, tracked_brands
from brandpulse.core.settings_queue import QUEUES
from brandpulse.services import job_work
from store.engine import normalize_url, session_scope
from store.job_queue import (
    forget_finished_jobs,
    forget_worker,
    record_job_error,
    record_worker_seen,
    requeue_stalled_jobs,
)

log = logging.getLogger("brandpulse.jobs")
DELIVER_SECONDS = 2  # webhooks and alert channels: within seconds of the change
HOUSEKEEPING_SECONDS = 600


@dataclass(frozen=True)
class Periodic:
    """A job `run` defers every ``seconds`` (once per period, whichever scheduler is first)."""
    name: str
    queue: str
    task: str
    seconds: float
    args: dict = field(default_factory=dict)


def periodic_jobs(settings: Settings) -> list[Periodic]:
    """Every periodic job: one per enabled (source, brand) at its cadence, one per stage."""
    from brandpulse.services.collecting import enabled_collectors

    jobs = [Periodic(f"collect:{name}:{brand.name}", "collect", "collect",
                     getattr(settings.sources, name).cadence_minutes * 60, {"source": name, "brand": brand.name})
            for name in enabled_collectors(settings) for brand in tracked_brands(settings)]
    return jobs + [
        Periodic("analyze_sweep", "analyze", "analyze_sweep", settings.nlp.interval_seconds),
        Periodic("triage", "triage", "triage", settings.care.interval_seconds),
        Periodic("alerts", "alerts", "alerts", settings.alerts.interval_seconds),
        Periodic("deliver", "deliver", "deliver", DELIVER_SECONDS),
        Periodic("publish", "publish", "publish", settings.care.publish_interval_seconds),
        Periodic("influence", "insight", "influence", settings.influence.interval_minutes * 60),
        Periodic("topics", "insight", "topics", settings.topics.interval_minutes * 60),
        Periodic("reports", "insight", "reports", 3600),
        Periodic("housekeeping", "insight", "housekeeping", HOUSEKEEPING_SECONDS),
        Periodic("retention", "insight", "retention", settings.retention.interval_hours * 3600),
        Periodic("deletions", "collect", "deletions", settings.deletions.interval_hours * 3600),
    ]


def _call(path: str, *args, **kwargs):
    """Import ``module:function`` when a job first needs it (a worker serving only `analyze`
    never loads the topic model) and call it."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)(*args, **kwargs)


def _work(settings: Settings) -> dict[str, tuple[str, Callable]]:
    """task name -> (queue, function(job context, **args)) calling the existing services."""
    def housekeeping() -> int:
        with session_scope(settings.database.url) as session:
            return forget_finished_jobs(session, settings.queue.keep_finished_hours)

    def call(path: str) -> Callable:
        return lambda ctx, **_: _call(path, settings)

    return {
        "collect": ("collect", lambda ctx, source, brand, **_: job_work.collect_job(settings, source, brand)),
        "analyze": ("analyze", lambda ctx, mention_ids, **_: job_work.analyze_mentions(
            settings, list(mention_ids), take_over=ctx.job.attempts > 0)),
        "analyze_sweep": ("analyze", lambda ctx, **_: job_work.sweep_pending(settings)),
        "triage": ("triage", call("brandpulse.services.triage:triage_new")),
        "alerts": ("alerts", call("brandpulse.services.pipeline:run_alerts")),
        "deliver": ("deliver", lambda ctx, **_: (_call("brandpulse.services.delivery:deliver_pending", settings),
                                                 _call("brandpulse.services.webhook_delivery:deliver_due", settings))),
        "publish": ("publish", call("brandpulse.services.publishing:publish_due")),
        "influence": ("insight", call("brandpulse.services.influence:refresh_influence")),
        "topics": ("insight", call("brandpulse.services.topics:refresh_topics")),
        "reports": ("insight", call("brandpulse.reports.brand:run_scheduled_reports")),
        "refresh_overview": ("insight", call("brandpulse.services.pipeline:refresh_overview")),
        "housekeeping": ("insight", lambda ctx, **_: housekeeping()),
        "retention": ("insight", call("brandpulse.services.retention:apply_retention")),
        "deletions": ("collect", call("brandpulse.services.recheck:recheck_deletions")),
    }


def conninfo(url: str) -> str:
    """The libpq form of a ``postgresql+psycopg://`` URL."""
    return normalize_url(url).replace("postgresql+psycopg://", "postgresql://", 1)


def build_app(settings: Settings, pool_size: int = 4) -> procrastinate.App:
    """A procrastinate app on the configured database with every task registered."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(
        conninfo=conninfo(settings.database.url), min_size=1, max_size=pool_size))
    attempts = settings.queue.max_attempts
    retry = procrastinate.RetryStrategy(max_attempts=attempts - 1, exponential_wait=int(
        settings.queue.retry_wait_seconds)) if attempts > 1 else False
    for name, (queue, function) in _work(settings).items():
        app.task(name=name, queue=queue, retry=retry, pass_context=True)(_logged(settings, name, function))
    return app


_RUNNING: set[int] = set()  # ids of the jobs this process runs now (never re-queued by its own upkeep)


def _logged(settings: Settings, task: str, function: Callable) -> Callable:
    def run(context, **args):
        _RUNNING.add(context.job.id)
        try:
            result = function(context, **args)
        except Exception as exc:  # noqa: BLE001 - kept for doctor, then procrastinate retries or buries it
            job = context.job
            log.warning("job %s %s failed (attempt %d): %s", job.id, task, job.attempts + 1, exc)
            with session_scope(settings.database.url) as session:
                record_job_error(session, job.id, job.attempts + 1, f"{type(exc).__name__}: {exc}")
            raise
        finally:
            _RUNNING.discard(context.job.id)
        line = job_work.describe(f"collect:{args['source']}:{args['brand']}" if task == "collect" else task, result)
        if line:
            log.info("%s", line)
    run.__name__ = task
    return run


def worker_name() -> str:
    """This process in the list of workers: host:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


async def _upkeep(settings: Settings, name: str, queues: list[str], concurrency: int) -> None:
    """Every heartbeat: say this worker is alive, and put back the jobs of workers gone silent."""
    def beat() -> None:
        with session_scope(settings.database.url) as session:
            record_worker_seen(session, name, queues, concurrency)
        with session_scope(settings.database.url) as session:
            for job_id in requeue_stalled_jobs(session, settings.queue.stalled_seconds, set(_RUNNING)):
                log.warning("job %s: its worker went silent; back in the queue", job_id)
    while True:
        try:
            await asyncio.to_thread(beat)
        except Exception:  # noqa: BLE001 - the database may be away for a moment; try again next beat
            log.warning("worker upkeep failed", exc_info=True)
        await asyncio.sleep(settings.queue.heartbeat_seconds)


def run_worker(settings: Settings, queues: list[str] | None = None, concurrency: int | None = None,
               wait: bool = True) -> None:
    """Run jobs of ``queues`` (default: all) until SIGTERM / Ctrl-C (or, without ``wait``, until
    they are empty); a job running when asked to stop is finished first."""
    from brandpulse.services.collecting import release_leases
    from store.job_queue import use_analysis_batch_size

    queues = list(queues or QUEUES)
    logging.getLogger("procrastinate").setLevel(logging.WARNING)  # our own line per job says what it did
    concurrency = concurrency or settings.queue.concurrency
    use_analysis_batch_size(settings.nlp.batch_size)
    app, name = build_app(settings, pool_size=concurrency + 3), worker_name()

    async def main() -> None:
        async with app.open_async():
            upkeep = asyncio.create_task(_upkeep(settings, name, queues, concurrency))
            try:
                await app.run_worker_async(
                    queues=queues, concurrency=concurrency, wait=wait, name=name,
                    update_heartbeat_interval=settings.queue.heartbeat_seconds,
                    stalled_worker_timeout=settings.queue.stalled_seconds,
                    fetch_job_polling_interval=1.0, install_signal_handlers=wait)
            finally:
                upkeep.cancel()
    try:
        asyncio.run(main())
    finally:
        with session_scope(settings.database.url) as session:
            forget_worker(session, name)
        release_leases(settings)
