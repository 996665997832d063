"""Stopping `brandpulse run` while a stage is finishing: the stop waits for it, and never forever."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

from apscheduler.schedulers.background import BackgroundScheduler

from brandpulse.scheduler import JOB_DEFAULTS, _guarded, _wake


def test_a_stop_while_a_collection_finishes_and_wakes_analysis_does_not_hang():
    scheduler = BackgroundScheduler(job_defaults=JOB_DEFAULTS, timezone="UTC")
    started = threading.Event()

    def collect():
        started.set()
        time.sleep(1)  # the stop begins while this runs
        return SimpleNamespace(stored=1, fetched=1, skipped=False, errors=[])

    woken = _wake(scheduler, "analyze", lambda result: result.stored > 0)
    scheduler.add_job(_guarded("collect", collect, after=woken), "interval", seconds=3600, id="collect",
                      next_run_time=None)
    scheduler.add_job(lambda: None, "interval", seconds=3600, id="analyze")
    scheduler.start()
    scheduler.get_job("collect").modify(next_run_time=scheduler.get_job("analyze").next_run_time.now(
        scheduler.timezone))
    assert started.wait(10)
    stopper = threading.Thread(target=scheduler.shutdown, kwargs={"wait": True}, daemon=True)
    stopper.start()
    stopper.join(timeout=15)
    assert not stopper.is_alive(), "the stop waited forever for a job that wakes another"
