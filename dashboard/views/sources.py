"""Connector health: each source's state, last success and error, rate limits, spend, gaps."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from brandpulse.services.access import Actor
from dashboard import data, flash

JOBS = "jobs_flash"  # where a retry's outcome waits for the next run


def _table(rows: list[dict], when_empty: str) -> None:
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    else:
        st.caption(when_empty)


def render(actor: Actor) -> None:
    st.header("Sources")
    health = data.source_health()
    if health:
        _table(health, "")
    else:
        st.info("No source has run yet. Enable sources in config.yaml and start `brandpulse run`.")
    st.subheader("Outages and back-fills")
    _table(data.source_gaps(), "No source has been down longer than twice its cadence.")
    st.subheader("Quarantined records")
    _table(data.quarantine_counts(), "Nothing quarantined.")
    _jobs(actor)


def _jobs(actor: Actor) -> None:
    """PostgreSQL: each queue's depth, and the dead jobs with their last error (admins retry them)."""
    from brandpulse.services.queue_admin import dead_jobs, queue_depths, retry_jobs

    depths = queue_depths(data.settings())
    if depths is None:  # SQLite: `brandpulse run` does the work itself, there is no queue
        return
    st.subheader("Job queues")
    _table([{"queue": d.queue, "waiting": d.waiting, "running": d.running, "dead": d.dead,
             "oldest waiting since": d.oldest_waiting_since, "workers": d.workers} for d in depths], "")
    idle = [d for d in depths if d.waiting and not d.workers]
    if idle:
        st.warning(f"{sum(d.waiting for d in idle)} job(s) wait in {', '.join(d.queue for d in idle)} with no "
                   "live worker to run them: start `brandpulse run` (or `brandpulse worker`) on a machine "
                   "with this database's config.")
    flash.show(JOBS)
    dead = dead_jobs(data.settings(), actor)
    st.subheader("Dead jobs")
    if not dead:
        st.caption("No job failed every attempt.")
        return
    # the error first and wide: it says what to fix; the arguments (often long) come last
    st.dataframe(pd.DataFrame([{
        "id": job.id, "queue": job.queue, "task": job.task, "failed at": job.failed_at, "attempts": job.attempts,
        "last error": job.error or "(no error recorded)",
        "arguments": ", ".join(f"{k}={v}" for k, v in job.args.items() if k != "slot")[:200]} for job in dead]),
        hide_index=True, width="stretch", column_config={"last error": st.column_config.TextColumn(width="large")})
    st.caption("Retry from a shell: `brandpulse jobs retry ID` or `brandpulse jobs retry --all-dead`.")
    if actor.role == "admin" and st.button(f"Retry all {len(dead)} dead job(s)", key="retry_dead_jobs"):
        flash.act(JOBS, lambda ids: f"{len(ids)} job(s) back in the queue", retry_jobs, actor, None)
