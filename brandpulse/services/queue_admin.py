"""The job queue as people see it: depth per queue, dead jobs, and sending dead jobs back."""

from __future__ import annotations

from brandpulse.core.errors import AccessDeniedError, ConfigError
from brandpulse.core.settings import Settings
from brandpulse.core.settings_queue import QUEUES
from brandpulse.services.access import Actor, require_page
from brandpulse.services.accounts import authorize
from store.engine import session_scope
from store.job_queue import (
    DeadJob,
    QueueDepth,
    has_job_queue,
    how_deep_are_the_queues,
    retry_dead_jobs,
    which_jobs_are_dead,
)


def _queue_session(settings: Settings):
    return session_scope(settings.database.url)


def queue_depths(settings: Settings) -> list[QueueDepth] | None:
    """Waiting, running and dead jobs, oldest waiting and live workers per queue; None on SQLite
    (no queue: `brandpulse run` does the work itself)."""
    with _queue_session(settings) as session:
        if not has_job_queue(session):
            return None
        return how_deep_are_the_queues(session, QUEUES, seen_seconds=max(60.0, 3 * settings.queue.heartbeat_seconds))


def dead_jobs(settings: Settings, actor: Actor | None = None, limit: int = 100) -> list[DeadJob]:
    """Jobs that failed every attempt, newest first, with their last error (the Sources page's
    roles, or the shell's operator when ``actor`` is None)."""
    if actor is not None:
        require_page(authorize(settings, actor), "Sources")
    with _queue_session(settings) as session:
        return which_jobs_are_dead(session, limit) if has_job_queue(session) else []


def retry_jobs(settings: Settings, actor: Actor | None, job_ids: list[int] | None) -> list[int]:
    """Send the named dead jobs (None: every dead job) back to their queue; return the ids sent.

    An admin may from the dashboard; the shell's operator (``actor`` None) may always."""
    if actor is not None:
        actor = authorize(settings, actor)
        if actor.role != "admin":
            raise AccessDeniedError(f"{actor.username} ({actor.role}) may not retry dead jobs; that needs "
                                    "the admin role. Ask an admin.")
    with _queue_session(settings) as session:
        if not has_job_queue(session):
            raise ConfigError(f"{settings.database.url.split(':', 1)[0]} has no job queue: only PostgreSQL "
                              "runs jobs on workers (on SQLite `brandpulse run` does the work itself)")
        retried = retry_dead_jobs(session, job_ids)
    missing = sorted(set(job_ids or ()) - set(retried))
    if missing:
        raise ConfigError(f"job(s) {', '.join(map(str, missing))} are not dead (never failed, already retried "
                          "or unknown); see `brandpulse jobs list --dead`"
                          + (f"; retried {', '.join(map(str, retried))}" if retried else ""))
    return retried
