"""`brandpulse run`: APScheduler 3 jobs for every stage, with jitter and clean shutdown."""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
import zlib
from datetime import timedelta

from brandpulse.core.settings import Settings, tracked_brands
from brandpulse.core.settings_queue import LOCAL_CONCURRENCY, QUEUES, uses_job_queue
from store.brands import sync_brands
from store.engine import session_scope
from store.leases import stop_waiting_for_leases
from store.models import utcnow

log = logging.getLogger("brandpulse.scheduler")
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}
WEBHOOKS_INTERVAL_SECONDS = 2  # signed webhooks go out within seconds of the change
WORKER_GRACE_SECONDS = 60  # local workers finish their job on stop; killed after this (then retried)


def _guarded(name, function, *args, after=None):
    def job():
        try:
            result = function(*args)
        except Exception:  # noqa: BLE001 - a failing job is logged and runs again next time
            log.exception("job %s failed", name)
            return
        if after is not None:
            after(result)
        if hasattr(result, "stored"):
            log.info("%s: %s", name, "; ".join(result.errors) if result.skipped else
                     f"stored {result.stored} of {result.fetched} fetched"
                     + (f" ({'; '.join(result.errors)[:300]})" if result.errors else ""))
        elif hasattr(result, "handled") and result.handled:
            log.info("%s: analysed %d, %d in unsupported languages, %d failed", name, result.analysed,
                     result.unsupported_language, result.failed)
    job.__name__ = name
    return job


def _wake(scheduler, job_id: str, did_work):
    """After a job: when ``did_work(result)``, run ``job_id`` now instead of at its next interval.

    The job is moved by a daemon thread, never by the finishing job itself: a stop holds the
    scheduler's job-store lock while it waits for running jobs, so a job touching the store as it
    finishes would wait for the stop, and the stop for it, forever."""
    def move() -> None:
        try:
            if (job := scheduler.get_job(job_id)) is not None:
                job.modify(next_run_time=utcnow())
        except Exception:  # noqa: BLE001 - stopping: the job runs at its next start anyway
            log.debug("could not wake %s", job_id, exc_info=True)

    def after(result) -> None:
        if did_work(result):
            threading.Thread(target=move, name=f"wake {job_id}", daemon=True).start()
    return after


def build_scheduler(settings: Settings):
    """A scheduler with one job per enabled (source, brand) and one per pipeline stage.

    New posts flow straight through: a collection that stored something wakes the analysis,
    and an analysis that scored something wakes triage and the alert rules (sliding windows), so
    a post becomes a ticket, and a big author's complaint an alert, within seconds of being
    collected rather than after each stage's own interval.
    """
    # imported here: on PostgreSQL `run` only defers jobs and never loads these
    from apscheduler.schedulers.background import BackgroundScheduler

    from brandpulse.reports.brand import run_scheduled_reports
    from brandpulse.services.collecting import collect_leased, enabled_collectors, process_holder
    from brandpulse.services.influence import refresh_influence
    from brandpulse.services.pipeline import analyze_pending, run_alerts
    from brandpulse.services.publishing import publish_due
    from brandpulse.services.recheck import recheck_deletions
    from brandpulse.services.retention import apply_retention
    from brandpulse.services.topics import refresh_topics
    from brandpulse.services.triage import triage_new
    from brandpulse.services.webhook_delivery import deliver_due

    scheduler = BackgroundScheduler(job_defaults=JOB_DEFAULTS, timezone="UTC")
    soon = utcnow() + timedelta(seconds=1)
    analysed = _wake(scheduler, "analyze", lambda result: getattr(result, "stored", 0) > 0)
    triaged = _wake(scheduler, "triage", lambda result: getattr(result, "analysed", 0) > 0)
    alerted = _wake(scheduler, "alerts", lambda result: getattr(result, "analysed", 0) > 0)
    for name, collector in enabled_collectors(settings).items():
        cadence = getattr(settings.sources, name).cadence_minutes * 60
        for brand in tracked_brands(settings):
            scheduler.add_job(_guarded(f"collect:{name}:{brand.name}", collect_leased, settings,
                                       collector, brand, process_holder(), after=analysed),
                              "interval", seconds=cadence, jitter=min(cadence * 0.1, 60),
                              id=f"collect:{name}:{brand.name}", next_run_time=soon)
    stages = [("analyze", analyze_pending, settings.nlp.interval_seconds),
              ("triage", triage_new, settings.care.interval_seconds),
              ("publish", publish_due, settings.care.publish_interval_seconds),
              ("alerts", run_alerts, settings.alerts.interval_seconds),
              ("influence", refresh_influence, settings.influence.interval_minutes * 60),
              ("topics", refresh_topics, settings.topics.interval_minutes * 60),
              ("reports", run_scheduled_reports, 3600),
              ("webhooks", deliver_due, WEBHOOKS_INTERVAL_SECONDS),
              ("retention", apply_retention, settings.retention.interval_hours * 3600),
              ("deletions", recheck_deletions, settings.deletions.interval_hours * 3600)]
    for name, function, seconds in stages:
        after = (lambda result: (triaged(result), alerted(result))) if name == "analyze" else None
        scheduler.add_job(_guarded(name, function, settings, after=after),
                          "interval", seconds=seconds,
                          jitter=min(seconds * 0.1, 10), id=name, next_run_time=soon)
    return scheduler


def run_forever(settings: Settings, duration: float | None = None, local_workers: int | None = None) -> None:
    """Run every job until SIGTERM / Ctrl-C (or ``duration`` seconds), then shut down cleanly.

    On PostgreSQL only the periodic jobs are deferred here (:func:`schedule_until`), plus ``local_workers`` (default ``queue.local_workers``) `brandpulse worker` processes."""
    from brandpulse.services.care import check_teams_have_members

    check_teams_have_members(settings)  # a routing rule to a team nobody works in stops here
    with session_scope(settings.database.url) as session:
        sync_brands(session, settings.brands)
    stop = threading.Event()

    def on_signal(signum, _frame):
        log.info("signal %s received, shutting down", signum)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        if uses_job_queue(settings):
            schedule_until(settings, stop, duration, local_workers)
            return
        from brandpulse.services.collecting import release_leases

        scheduler = build_scheduler(settings)
        stop_waiting_for_leases(False)
        scheduler.start()
        try:
            stop.wait(timeout=duration)
        finally:
            stop_waiting_for_leases()  # a stage waiting for another process's lease gives up now
            scheduler.shutdown(wait=True)
            release_leases(settings)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _offset(name: str, seconds: float) -> float:
    """A stable offset within the period, the same in every scheduler: jobs spread over it."""
    return (zlib.crc32(name.encode()) % 1000) / 1000 * seconds


def defer_due(settings: Settings, last: dict[str, int], now: float | None = None, jobs=None) -> int:
    """Defer each periodic job (of ``jobs``, default all) whose time slot began since this
    scheduler last looked; another scheduler deferring the same slot adds nothing. Return how
    many jobs this call added."""
    from brandpulse.services.jobs import periodic_jobs
    from store.job_queue import enqueue_periodic

    now = time.time() if now is None else now
    due = []
    for job in jobs if jobs is not None else periodic_jobs(settings):
        slot = int((now - _offset(job.name, job.seconds)) // job.seconds)
        if last.get(job.name) != slot:
            due.append((job, slot))
    if not due:
        return 0
    with session_scope(settings.database.url) as session:
        added = sum(enqueue_periodic(session, job.queue, job.task, job.name, slot, job.args) is not None
                    for job, slot in due)
    last.update({job.name: slot for job, slot in due})
    return added


def schedule_until(settings: Settings, stop: threading.Event, duration: float | None = None,
                   local_workers: int | None = None, tick_seconds: float = 0.5) -> None:
    """PostgreSQL: defer periodic jobs until ``stop`` (or ``duration``), with ``local_workers``
    `brandpulse worker` processes beside it (stopped with it, finishing their current job)."""
    from brandpulse.services.jobs import periodic_jobs
    from brandpulse.supervise import start_children, stop_children

    count = settings.queue.local_workers if local_workers is None else local_workers
    worker = [sys.executable, "-m", "brandpulse.cli.main", "worker", "--queues"]
    rest = ",".join(queue for queue in QUEUES if queue != "analyze")
    # ``count`` analysis workers (one job at a time: the model uses every core) and, with them,
    # one worker for every other queue, several jobs at once as the SQLite scheduler's thread pool
    children = start_children([*worker, "analyze"], count)
    children += start_children([*worker, rest, "--concurrency", str(max(settings.queue.concurrency,
                                                                          LOCAL_CONCURRENCY))], 1 if count else 0)
    log.info("scheduling jobs on the queue%s", f", with {count} local analysis worker(s) and one for the other "
             "queues" if count else " (no local worker)")
    deadline = None if duration is None else time.monotonic() + duration
    last: dict[str, int] = {}
    jobs = periodic_jobs(settings)
    try:
        while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
            try:
                added = defer_due(settings, last, jobs=jobs)
                if added:
                    log.debug("deferred %d periodic job(s)", added)
            except Exception:  # noqa: BLE001 - the database may be away a moment; the next tick retries
                log.exception("deferring periodic jobs failed")
            stop.wait(tick_seconds if deadline is None else min(tick_seconds, max(0.0, deadline - time.monotonic())))
    finally:
        stop_children(children, grace_seconds=WORKER_GRACE_SECONDS)
