"""Settings of the job queue and its workers (``queue:``; PostgreSQL only, SQLite ignores them)."""

from __future__ import annotations

from pydantic import Field

from brandpulse.core.settings_base import Strict

QUEUES = ("collect", "analyze", "triage", "alerts", "deliver", "publish", "insight")
# a worker serving several queues takes the short periodic jobs before a backlog of analysis,
# and the heavy insight jobs (topics, influence, reports) last
PRIORITY = {"collect": 10, "publish": 8, "deliver": 8, "triage": 5, "alerts": 5, "analyze": 0, "insight": -5}
LOCAL_CONCURRENCY = 4  # `run`'s worker for the other queues: a topics job must not hold up a ticket


class QueueSettings(Strict):
    # `brandpulse run` on PostgreSQL schedules; it also starts this many analysis workers on its
    # own machine, plus one worker for the other queues (0: schedule only, workers run elsewhere)
    local_workers: int = Field(default=1, ge=0, le=64)
    concurrency: int = Field(default=1, ge=1, le=64)  # jobs one worker runs at once (threads)
    max_attempts: int = Field(default=5, ge=1, le=100)  # then the job is dead: doctor and Sources show it
    retry_wait_seconds: float = Field(default=3, ge=0, le=3600)  # attempt n waits this ** n seconds
    heartbeat_seconds: float = Field(default=5, gt=0, le=300)
    stalled_seconds: float = Field(default=30, gt=0, le=3600)  # a silent worker's jobs go to another
    keep_finished_hours: float = Field(default=1, ge=0, le=24 * 30)  # succeeded jobs kept this long


def uses_job_queue(settings) -> bool:
    """PostgreSQL: `run` schedules jobs and workers run them; SQLite: `run` does everything."""
    return settings.database.url.startswith("postgres")
