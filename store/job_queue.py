"""The job queue's SQL (PostgreSQL only; procrastinate's tables from migration 0015).

Jobs are deferred through procrastinate's own SQL functions on *our* session, so a job commits or
rolls back with the change that needs it: a stored page and the analysis of its new mentions are
one transaction. On SQLite every function here does nothing (one `brandpulse run` does the work).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from brandpulse.core.settings_queue import PRIORITY

_ANALYSIS_BATCH = [256]  # nlp.batch_size of this process (use_analysis_batch_size)
_READY: set[str] = set()  # database URLs whose queue tables were seen

DEFER = text("SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, :priority, :lock, "
             ":queueing_lock, CAST(:args AS jsonb), NULL)::procrastinate_job_to_defer_v1]))")


def use_analysis_batch_size(size: int) -> None:
    """How many mention ids one analysis job holds from now on in this process (nlp.batch_size)."""
    _ANALYSIS_BATCH[0] = max(1, int(size))


def has_job_queue(session: Session) -> bool:
    """True on a PostgreSQL database migrated to 0015 (the queue's tables exist)."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    key = str(bind.url)
    if key not in _READY and session.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar():
        _READY.add(key)
    return key in _READY


def enqueue_job(session: Session, queue: str, task: str, args: dict | None = None, *,
                queueing_lock: str | None = None, lock: str | None = None, priority: int | None = None
                ) -> int | None:
    """Defer one job in the session's transaction; its id, or None when a job with the same
    ``queueing_lock`` already waits (nothing is added then) or there is no queue (SQLite)."""
    if not has_job_queue(session):
        return None
    values = {"queue": queue, "task": task, "priority": PRIORITY.get(queue, 0) if priority is None else priority,
              "lock": lock,
              "queueing_lock": queueing_lock, "args": json.dumps(args or {})}
    if queueing_lock is None:
        return session.execute(DEFER, values).scalar()
    savepoint = session.begin_nested()  # a waiting twin must not abort the caller's transaction
    try:
        job_id = session.execute(DEFER, values).scalar()
        savepoint.commit()
        return job_id
    except IntegrityError:
        savepoint.rollback()
        return None


def enqueue_analysis(session: Session, mention_ids: Sequence[int]) -> list[int]:
    """One `analyze` job per batch of new mention ids (at most nlp.batch_size each)."""
    if not mention_ids or not has_job_queue(session):
        return []
    size, ids = _ANALYSIS_BATCH[0], sorted(mention_ids)
    return [enqueue_job(session, "analyze", "analyze", {"mention_ids": ids[start:start + size]})
            for start in range(0, len(ids), size)]


def enqueue_periodic(session: Session, queue: str, task: str, name: str, slot: int,
                     args: dict | None = None) -> int | None:
    """Defer the periodic job ``name`` for time slot ``slot`` once, however many schedulers ask
    (procrastinate's periodic defer: unique task, name and slot); None when it was already
    deferred for this slot or an earlier run of it still waits (queueing lock = name)."""
    if not has_job_queue(session):
        return None
    savepoint = session.begin_nested()
    try:
        job_id = session.execute(text(
            "SELECT procrastinate_defer_periodic_job_v2(:queue, NULL, :name, :task, :priority, :name, :slot, "
            "CAST(:args AS jsonb))"), {"queue": queue, "task": task, "name": name, "slot": slot,
                                       "priority": PRIORITY.get(queue, 0),
                                       "args": json.dumps({**(args or {}), "slot": slot})}).scalar()
        savepoint.commit()
        return job_id
    except IntegrityError:
        savepoint.rollback()
        return None


def which_jobs_are_queued(session: Session, task: str) -> int:
    """Count of ``task`` jobs waiting or running."""
    return session.execute(text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = :task "
                                "AND status IN ('todo', 'doing')"), {"task": task}).scalar_one()


def record_job_error(session: Session, job_id: int, attempt: int, error: str) -> None:
    """Keep the last error of a job (procrastinate keeps only its status)."""
    session.execute(text(
        "INSERT INTO queue_job_errors (job_id, attempt, error, failed_at) VALUES (:id, :attempt, :error, now()) "
        "ON CONFLICT (job_id) DO UPDATE SET attempt = EXCLUDED.attempt, error = EXCLUDED.error, "
        "failed_at = EXCLUDED.failed_at"), {"id": job_id, "attempt": attempt, "error": error[:2000]})


def record_worker_seen(session: Session, name: str, queues: Iterable[str], concurrency: int) -> None:
    """A worker says it is alive and which queues it serves."""
    session.execute(text(
        "INSERT INTO queue_workers (name, queues, concurrency, started_at, last_seen_at) "
        "VALUES (:name, :queues, :concurrency, now(), now()) ON CONFLICT (name) DO UPDATE SET "
        "queues = EXCLUDED.queues, concurrency = EXCLUDED.concurrency, last_seen_at = now()"),
        {"name": name, "queues": ",".join(queues), "concurrency": concurrency})


def forget_worker(session: Session, name: str) -> None:
    """A worker that stopped cleanly leaves the list at once."""
    session.execute(text("DELETE FROM queue_workers WHERE name = :name"), {"name": name})


def requeue_stalled_jobs(session: Session, stalled_seconds: float, running_here: Iterable[int] = ()) -> list[int]:
    """Put back to 'todo' every running job whose worker sent no heartbeat for ``stalled_seconds``
    (a worker killed with SIGKILL, a machine that vanished), except the jobs ``running_here``
    (the caller's own, whatever its heartbeat says); return their ids."""
    ids = list(session.execute(text(
        "SELECT job.id FROM procrastinate_jobs job LEFT JOIN procrastinate_workers w ON w.id = job.worker_id "
        "WHERE job.status = 'doing' AND (w.id IS NULL OR w.last_heartbeat < now() - make_interval("
        "secs => :seconds)) AND NOT job.id = ANY(:mine) FOR UPDATE OF job SKIP LOCKED"),
        {"seconds": stalled_seconds, "mine": list(running_here)}).scalars())
    for job_id in ids:
        session.execute(text("SELECT procrastinate_retry_job_v2(:id, now(), NULL, NULL, NULL)"), {"id": job_id})
    session.execute(text("DELETE FROM procrastinate_workers WHERE last_heartbeat < now() - "
                         "make_interval(secs => :seconds)"), {"seconds": stalled_seconds})
    return ids


def forget_finished_jobs(session: Session, older_than_hours: float) -> int:
    """Delete succeeded and cancelled jobs older than that (failed ones stay: the dead letters)."""
    return session.execute(text(
        "DELETE FROM procrastinate_jobs j WHERE j.status IN ('succeeded', 'cancelled', 'aborted') AND NOT EXISTS "
        "(SELECT 1 FROM procrastinate_events e WHERE e.job_id = j.id AND e.at > now() - make_interval("
        "hours => :hours))"), {"hours": older_than_hours}).rowcount


@dataclass
class QueueDepth:
    """One queue's state for doctor: jobs waiting, running and dead, oldest waiting, workers."""
    queue: str
    waiting: int
    running: int
    dead: int
    oldest_waiting_since: datetime | None
    workers: int


def how_deep_are_the_queues(session: Session, queues: Iterable[str], seen_seconds: float = 60) -> list[QueueDepth]:
    """Per queue: waiting, running and dead jobs, since when the oldest waits, live workers serving it."""
    rows = {row.queue_name: row for row in session.execute(text(
        "SELECT j.queue_name, count(*) FILTER (WHERE status = 'todo') AS waiting, "
        "count(*) FILTER (WHERE status = 'doing') AS running, count(*) FILTER (WHERE status = 'failed') AS dead, "
        "(SELECT min(e.at) FROM procrastinate_events e JOIN procrastinate_jobs t ON t.id = e.job_id "
        " WHERE t.queue_name = j.queue_name AND t.status = 'todo' AND e.type = 'deferred') AS oldest "
        "FROM procrastinate_jobs j GROUP BY j.queue_name"))}
    workers = [row[0].split(",") for row in session.execute(text(
        "SELECT queues FROM queue_workers WHERE last_seen_at > now() - make_interval(secs => :s)"),
        {"s": seen_seconds})]
    result = []
    for queue in queues:
        row = rows.get(queue)
        result.append(QueueDepth(queue, row.waiting if row else 0, row.running if row else 0,
                                 row.dead if row else 0, row.oldest if row else None,
                                 sum(1 for served in workers if queue in served)))
    return result


@dataclass
class DeadJob:
    """A job that failed every attempt: what it was, how often it ran, the last error."""
    id: int
    queue: str
    task: str
    args: dict
    attempts: int
    error: str | None
    failed_at: datetime | None


def which_jobs_are_dead(session: Session, limit: int = 100) -> list[DeadJob]:
    """Failed jobs (the dead letters), newest first, with their last error."""
    return [DeadJob(*row) for row in session.execute(text(
        "SELECT j.id, j.queue_name, j.task_name, j.args, j.attempts, e.error, e.failed_at "
        "FROM procrastinate_jobs j LEFT JOIN queue_job_errors e ON e.job_id = j.id "
        "WHERE j.status = 'failed' ORDER BY j.id DESC LIMIT :limit"), {"limit": limit})]


def retry_dead_jobs(session: Session, job_ids: Sequence[int] | None = None) -> list[int]:
    """Send dead jobs (the ones named, or all) back to their queue now; return the ids retried."""
    query = "SELECT id FROM procrastinate_jobs WHERE status = 'failed'"
    params: dict = {}
    if job_ids is not None:
        query += " AND id = ANY(:ids)"
        params["ids"] = list(job_ids)
    ids = list(session.execute(text(query + " ORDER BY id FOR UPDATE"), params).scalars())
    for job_id in ids:
        session.execute(text("SELECT procrastinate_retry_job_v2(:id, now(), NULL, NULL, NULL)"), {"id": job_id})
    return ids
