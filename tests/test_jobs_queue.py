"""The job queue on the real PostgreSQL with real `brandpulse worker` / `run` processes: a job
commits with its change, two workers share a backlog, a SIGKILLed worker's batch is done once by
another, two schedulers defer each periodic job once, a job failing every attempt is dead,
shown and retried. SQLite keeps `run` alone in one process."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from brandpulse.core.records import MentionRecord
from brandpulse.services.importer import import_file
from store.engine import session_scope
from store.mentions import save_mentions
from store.models import Analysis, Mention
from tests.conftest import _empty, config_writer

BIN = Path(sys.executable).parent / "brandpulse"


@pytest.fixture
def pg(postgres_database, tmp_path, monkeypatch):
    """A config on the test PostgreSQL (emptied); call it with overrides to write it."""
    _empty(postgres_database)
    return config_writer(tmp_path, postgres_database, monkeypatch)


def load(settings, tmp_path, count: int) -> None:
    from store.job_queue import use_analysis_batch_size

    use_analysis_batch_size(settings.nlp.batch_size)
    path = tmp_path / "posts.jsonl"
    with path.open("w") as handle:
        for i in range(count):
            handle.write(json.dumps({"id": str(i), "text": f"@NimbusMobile my bill is wrong again, refund {i}",
                                     "user": f"user{i % 300}", "created_at": "2026-11-29T10:00:00Z"}) + "\n")
    assert import_file(settings, path, network="x").inserted == count


def scalar(url: str, sql: str):
    with session_scope(url) as session:
        return session.execute(text(sql)).scalar()


def wait_for(predicate, seconds: float, what: str) -> None:
    deadline = time.time() + seconds
    while not predicate():
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([str(BIN), *args], env=os.environ.copy(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def stop(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGTERM)
    return process.communicate(timeout=60)[0]


def analysed(output: str) -> int:
    return sum(int(n) for n in re.findall(r"analyze: analysed (\d+)", output))


def record(i: int) -> MentionRecord:
    return MentionRecord(network="x", native_id=f"tx{i}", text="Nimbus Mobile again", brands=["Nimbus Mobile"],
                         created_at=datetime(2026, 11, 29, tzinfo=timezone.utc))


def test_a_job_commits_or_rolls_back_with_the_page_that_needs_it(pg):
    settings = pg(nlp={"analyzer": "lexicon", "batch_size": 2})
    from store.job_queue import use_analysis_batch_size

    use_analysis_batch_size(2)
    url = settings.database.url
    with pytest.raises(RuntimeError):
        with session_scope(url) as session:
            assert save_mentions(session, [record(i) for i in range(5)]).inserted == 5
            raise RuntimeError("the page's transaction fails after storing")
    assert scalar(url, "SELECT count(*) FROM procrastinate_jobs") == 0
    with session_scope(url) as session:
        save_mentions(session, [record(i) for i in range(5)])
    with session_scope(url) as session:
        batches = [row[0]["mention_ids"] for row in session.execute(text(
            "SELECT args FROM procrastinate_jobs WHERE task_name = 'analyze' ORDER BY id"))]
        ids = sorted(session.execute(select(Mention.id)).scalars())
    assert [len(b) for b in batches] == [2, 2, 1] and sorted(sum(batches, [])) == ids  # nlp.batch_size each


def test_two_workers_drain_one_backlog_and_analyse_every_mention_once(pg, tmp_path):
    settings = pg(nlp={"analyzer": "lexicon", "batch_size": 20})
    load(settings, tmp_path, 600)
    url = settings.database.url
    workers = [start("worker", "--queues", "analyze") for _ in range(2)]
    try:
        wait_for(lambda: scalar(url, "SELECT count(*) FROM mentions WHERE analysis_status <> 'done'") == 0
                 and scalar(url, "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'analyze' "
                                 "AND status <> 'succeeded'") == 0,
                 90, "the backlog to drain")
    finally:
        outputs = [stop(w) for w in workers]
    counts = [analysed(o) for o in outputs]
    assert sum(counts) == 600 and min(counts) > 0, (counts, outputs)  # both worked, nothing twice
    with session_scope(url) as session:
        assert session.execute(select(func.count()).select_from(Analysis)).scalar_one() == 600
    assert scalar(url, "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'analyze'") == 30
    assert scalar(url, "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'analyze' "
                       "AND attempts <> 1") == 0  # each ran once (procrastinate counts a finished run)


def test_a_worker_killed_mid_batch_has_its_batch_done_once_by_another(pg, tmp_path):
    settings = pg(nlp={"analyzer": "lexicon", "batch_size": 1500},
                  queue={"stalled_seconds": 2, "heartbeat_seconds": 0.5})
    load(settings, tmp_path, 1500)
    url = settings.database.url
    first = start("worker", "--queues", "analyze")
    try:
        wait_for(lambda: scalar(url, "SELECT count(*) FROM mentions WHERE analysis_status = 'claimed'") > 0,
                 60, "the first worker to claim its batch")
    finally:
        first.kill()  # SIGKILL in the middle of the batch
        first.communicate(timeout=30)
    assert scalar(url, "SELECT count(*) FROM analyses") == 0  # it died before saving anything
    killed_at = time.time()
    second = start("worker", "--queues", "analyze")
    try:
        wait_for(lambda: scalar(url, "SELECT count(*) FROM mentions WHERE analysis_status <> 'done'") == 0,
                 60, "the second worker to redo the batch")
        retried_after = time.time() - killed_at
    finally:
        output = stop(second)
    assert analysed(output) == 1500, output
    assert scalar(url, "SELECT count(*) FROM analyses") == 1500
    assert scalar(url, "SELECT status || ':' || attempts FROM procrastinate_jobs WHERE task_name = 'analyze'") \
        == "succeeded:2"  # the same job: its killed run, then one more
    assert "went silent; back in the queue" in output and retried_after < 30, (retried_after, output)


def test_two_schedulers_defer_each_periodic_job_once(pg):
    settings = pg(care={"teams": [{"name": "care"}], "default_team": "care", "interval_seconds": 1})
    url = settings.database.url
    worker = start("worker", "--queues", "triage")
    schedulers = [start("run", "--workers", "0", "--duration", "6") for _ in range(2)]
    outputs = [s.communicate(timeout=120)[0] for s in schedulers]
    stop(worker)
    assert all(s.returncode == 0 for s in schedulers), outputs
    with session_scope(url) as session:
        slots = [row[0] for row in session.execute(text(
            "SELECT args->>'slot' FROM procrastinate_jobs WHERE task_name = 'triage'"))]
    assert len(slots) == len(set(slots)) and 4 <= len(slots) <= 8, slots  # one per second, not two


def test_a_job_failing_every_attempt_is_dead_shown_and_retried(pg):
    from brandpulse.cli.doctor import _queue
    from brandpulse.services.jobs import run_worker
    from store.job_queue import enqueue_job

    settings = pg(queue={"max_attempts": 2, "retry_wait_seconds": 0})
    with session_scope(settings.database.url) as session:
        job = enqueue_job(session, "collect", "collect", {"source": "x", "brand": "Nimbus Mobile"})
    run_worker(settings, ["collect"], wait=False)  # x is not enabled: it fails twice
    listed = subprocess.run([str(BIN), "jobs", "list"], capture_output=True, text=True, env=os.environ.copy())
    assert str(job) in listed.stdout and "no longer enables" in listed.stdout, listed.stdout
    checks = {c.area: c for c in _queue(settings)}
    assert checks["queue collect"].status == "warn" and "1 dead" in checks["queue collect"].detail
    retried = subprocess.run([str(BIN), "jobs", "retry", "--all-dead"], capture_output=True, text=True,
                             env=os.environ.copy())
    assert retried.returncode == 0 and f"1 job(s) back in the queue: {job}" in retried.stdout
    assert scalar(settings.database.url, f"SELECT status FROM procrastinate_jobs WHERE id = {job}") == "todo"
    again = subprocess.run([str(BIN), "jobs", "retry", str(job)], capture_output=True, text=True,
                           env=os.environ.copy())
    assert again.returncode == 1 and "not dead" in again.stdout + again.stderr


def test_sqlite_keeps_run_alone_and_refuses_a_worker(write_config, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("the SQLite mode")
    from typer.testing import CliRunner

    from brandpulse.cli.main import app
    from brandpulse.core.settings_queue import uses_job_queue

    settings = write_config()
    refused = CliRunner().invoke(app, ["worker"])
    assert refused.exit_code == 1 and "needs PostgreSQL" in refused.output
    assert not uses_job_queue(settings)  # `run` keeps its own scheduler (tests/test_cli.py, test_workers.py)
    with session_scope(database_url) as session:  # storing mentions defers nothing and needs no queue
        assert save_mentions(session, [record(1)]).inserted == 1


def test_the_sources_page_shows_dead_jobs_and_an_admin_retries_them(pg):
    from dashboard_session import signed_in

    from brandpulse.services.accounts import create_user
    from store.job_queue import enqueue_job

    settings = pg()
    create_user(settings, None, "ada", "secret-pass-1", "admin")
    with session_scope(settings.database.url) as session:
        job = enqueue_job(session, "collect", "collect", {"source": "x", "brand": "Nimbus Mobile"})
        session.execute(text("UPDATE procrastinate_jobs SET status = 'failed', attempts = 5 WHERE id = :id"),
                        {"id": job})
    app = signed_in("ada", "secret-pass-1", {"page": "Sources"})
    assert not app.exception, app.exception
    dead = [d.value for d in app.dataframe if "last error" in d.value.columns]
    assert dead and list(dead[0]["id"]) == [job] and list(dead[0]["task"]) == ["collect"]
    app.button(key="retry_dead_jobs").click().run()
    assert not app.exception, app.exception
    assert "1 job(s) back in the queue" in app.success[0].value
    assert scalar(settings.database.url, f"SELECT status FROM procrastinate_jobs WHERE id = {job}") == "todo"


def test_each_periodic_slot_is_deferred_once_whichever_scheduler_asks(pg):
    from brandpulse.scheduler import defer_due

    settings = pg()
    first, second, now = {}, {}, 1_800_000_000.0
    added = defer_due(settings, first, now)
    assert added >= 10 and defer_due(settings, second, now) == 0  # the same slots: nothing twice
    assert defer_due(settings, first, now + 0.1) == 0  # still the same slots
    # a slot later, the jobs from before still wait (nobody ran them): each waits once, no pile-up
    assert defer_due(settings, second, now + 86_400 * 8) == 0
    with session_scope(settings.database.url) as session:
        names = [row[0] for row in session.execute(text("SELECT queueing_lock FROM procrastinate_jobs"))]
    assert len(names) == len(set(names)) == added
