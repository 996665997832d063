"""`brandpulse worker` runs queued jobs (PostgreSQL); `brandpulse jobs` lists and retries them."""

from __future__ import annotations

from typing import List, Optional

import typer
from rich.table import Table

from brandpulse.cli.console import console, friendly, shown
from brandpulse.core.errors import ConfigError
from brandpulse.core.settings import load_settings
from brandpulse.core.settings_queue import QUEUES, uses_job_queue

NO_QUEUE = ("no job queue on SQLite: jobs and workers need PostgreSQL (database.url postgresql+psycopg://...); "
            "on SQLite `brandpulse run` does the work itself")
jobs_app = typer.Typer(help="The job queue (PostgreSQL): dead jobs and retrying them.", no_args_is_help=True)


def _queues(text: str | None) -> list[str]:
    if text is None:
        return list(QUEUES)
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:  # an empty list (a shell variable that was unset) is not "every queue"
        raise ConfigError(f"--queues {text!r} names no queue; give some of {','.join(QUEUES)} "
                          "(or leave --queues out to serve them all)")
    unknown = [name for name in names if name not in QUEUES]
    if unknown:
        raise ConfigError(f"unknown queue(s) {', '.join(unknown)} in --queues; the queues are {', '.join(QUEUES)}")
    return names


@friendly
def worker_command(queues: Optional[str] = typer.Option(
                       None, help=f"comma-separated queues to serve (default: all of {','.join(QUEUES)})"),
                   concurrency: Optional[int] = typer.Option(
                       None, min=1, max=64, help="jobs run at once (default: queue.concurrency)")) -> None:
    """Run queued jobs until SIGTERM / Ctrl-C (PostgreSQL); any number of workers on any machine."""
    from brandpulse.core.redaction import configure_logging
    from brandpulse.services.jobs import run_worker

    configure_logging()
    settings = load_settings()
    if not uses_job_queue(settings):
        raise ConfigError("brandpulse worker needs PostgreSQL (database.url postgresql+psycopg://...); on "
                          "SQLite `brandpulse run` does every job itself, in one process")
    chosen = _queues(queues)
    console.print(f"worker serving {','.join(chosen)}; SIGTERM or Ctrl-C stops it after its current job",
                  markup=False)
    run_worker(settings, chosen, concurrency)
    console.print("worker stopped", markup=False)


@jobs_app.command("list")
@friendly
def list_command(dead: bool = typer.Option(True, "--dead/--queues", help="dead jobs (default), or queue depths"),
                 limit: int = typer.Option(50, min=1, max=10_000)) -> None:
    """Dead jobs (failed every attempt) with their last error, or each queue's depth."""
    from brandpulse.services.queue_admin import dead_jobs, queue_depths

    settings = load_settings()
    if not uses_job_queue(settings):  # not "no dead jobs": there is no queue to hold any
        console.print(NO_QUEUE, markup=False)
        return
    if not dead:
        depths = queue_depths(settings)
        if depths is None:
            console.print(NO_QUEUE, markup=False)
            return
        table = Table("queue", "waiting", "running", "dead", "oldest waiting since", "workers")
        for d in depths:
            table.add_row(d.queue, str(d.waiting), str(d.running), str(d.dead),
                          f"{d.oldest_waiting_since:%Y-%m-%d %H:%M:%S}" if d.oldest_waiting_since else "", str(d.workers))
        console.print(table)
        return
    rows = dead_jobs(settings, None, limit)
    if not rows:
        console.print("no dead jobs", markup=False)
        return
    table = Table(title=f"dead jobs: {len(rows)} (retry: brandpulse jobs retry ID or --all-dead)")
    for column in ("id", "queue", "task", "arguments", "attempts", "failed at", "last error"):
        table.add_column(column, overflow="fold")
    for job in rows:
        arguments = ", ".join(f"{k}={v}" for k, v in job.args.items() if k != "slot")
        table.add_row(str(job.id), job.queue, job.task, shown(arguments[:120]), str(job.attempts),
                      f"{job.failed_at:%Y-%m-%d %H:%M:%S}" if job.failed_at else "", shown((job.error or "")[:300]))
    console.print(table)


@jobs_app.command("retry")
@friendly
def retry_command(ids: Optional[List[int]] = typer.Argument(None, help="dead job ids"),
                  all_dead: bool = typer.Option(False, "--all-dead", help="every dead job")) -> None:
    """Send dead jobs back to their queue now (their next failure is final again)."""
    from brandpulse.services.queue_admin import retry_jobs

    if not ids and not all_dead:
        raise ConfigError("name the dead jobs to retry (brandpulse jobs retry 12 15) or pass --all-dead; "
                          "see them with `brandpulse jobs list`")
    retried = retry_jobs(load_settings(), None, None if all_dead else list(ids))
    console.print(f"{len(retried)} job(s) back in the queue" + (f": {', '.join(map(str, retried))}" if retried else ""),
                  markup=False)
