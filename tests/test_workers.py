"""Two worker processes on one database (SQLite and PostgreSQL): every mention is analysed
exactly once, and triage never fails on a duplicate ticket."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import func, select

from brandpulse.services.importer import import_file
from brandpulse.services.pipeline import analyze_pending
from brandpulse.services.triage import TRIAGE_LEASE, triage_new
from store.analyses import claim_mentions_for_analysis, how_many_mentions_await_analysis
from store.engine import session_scope
from store.leases import stop_waiting_for_leases, take_lease
from store.models import Analysis, Mention, Ticket

BIN = Path(sys.executable).parent / "brandpulse"
WORDS = ["refund", "broken", "terrible", "signal", "bill", "why", "app", "slow", "help", "awful"]


def load(settings, tmp_path, count: int) -> None:
    path = tmp_path / "posts.jsonl"
    with path.open("w") as handle:
        for i in range(count):
            text = f"@NimbusMobile {' '.join(WORDS[(i + k) % 10] for k in range(6))} terrible service #{i}"
            handle.write(json.dumps({"id": str(i), "text": text, "user": f"user{i % 500}",
                                     "created_at": "2026-11-29T10:00:00Z"}) + "\n")
    assert import_file(settings, path, network="x").inserted == count


def rows(url: str, model) -> int:
    with session_scope(url) as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_two_analyze_processes_share_the_work_and_never_repeat_it(write_config, database_url, tmp_path):
    settings = write_config(nlp={"analyzer": "lexicon", "batch_size": 10})
    load(settings, tmp_path, 1500)
    processes = [subprocess.Popen([str(BIN), "analyze"], env=os.environ.copy(), stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=300)[0] for p in processes]
    assert all(p.returncode == 0 for p in processes), outputs
    analysed = [int(re.search(r"analysed (\d+) with", o).group(1)) for o in outputs]
    tickets = [int(re.search(r"(\d+) new ticket\(s\)", o).group(1)) for o in outputs]
    assert sum(analysed) == 1500, outputs  # before claims: 84-96% were analysed twice
    assert min(analysed) > 0, outputs  # both really worked at the same time
    assert rows(database_url, Analysis) == 1500
    assert sum(tickets) == rows(database_url, Ticket) > 0  # triage ran in both, no duplicate key
    with session_scope(database_url) as session:
        assert how_many_mentions_await_analysis(session) == 0


def test_a_killed_workers_claim_expires_and_the_work_is_done_once(settings, database_url, tmp_path):
    load(settings, tmp_path, 30)
    with session_scope(database_url) as session:  # a worker claims 10, then dies (kill -9)
        claimed = claim_mentions_for_analysis(session, 10, ttl_seconds=0.0)
    assert len(claimed) == 10
    result = analyze_pending(settings)
    assert result.analysed == 30
    with session_scope(database_url) as session:
        statuses = set(session.execute(select(Mention.analysis_status)).scalars())
    assert statuses == {"done"}


def test_two_run_processes_never_analyse_one_mention_twice(write_config, database_url, tmp_path):
    settings = write_config(nlp={"analyzer": "lexicon", "batch_size": 10, "interval_seconds": 1},
                            care={"teams": [{"name": "care"}], "interval_seconds": 1})
    load(settings, tmp_path, 1000)
    processes = [subprocess.Popen([str(BIN), "run", "--duration", "300"], env=os.environ.copy(),
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    # both run until the backlog is analysed (on PostgreSQL their queue workers do it), then stop as
    # an operator stops them; a loaded machine takes longer to start them, not a different path
    deadline = time.time() + 240
    while time.time() < deadline and (rows(database_url, Analysis) < 1000 or rows(database_url, Ticket) == 0):
        time.sleep(0.5)
    for process in processes:
        process.send_signal(signal.SIGTERM)
    outputs = [p.communicate(timeout=300)[0] for p in processes]
    assert all(p.returncode == 0 for p in processes), outputs
    per_process = [sum(int(n) for n in re.findall(r"analyze: analysed (\d+)", o)) for o in outputs]
    assert sum(per_process) == 1000, (per_process, outputs)
    assert "Traceback" not in "".join(outputs) and "failed" not in "".join(
        line for o in outputs for line in o.splitlines() if "job " in line)
    assert rows(database_url, Analysis) == 1000 and rows(database_url, Ticket) > 0


def test_a_stage_waiting_for_another_processs_lease_gives_up_when_run_stops(settings, database_url):
    with session_scope(database_url) as session:  # another run process is triaging
        assert take_lease(session, TRIAGE_LEASE, "otherhost:1:1", 600)
    outcome = {}
    waiter = threading.Thread(target=lambda: outcome.update(opened=triage_new(settings)))
    waiter.start()
    waiter.join(1.0)
    assert waiter.is_alive()  # it waits (up to two minutes) for the other process's lease
    stop_waiting_for_leases()  # what `run` does on SIGTERM, before waiting for its stages
    try:
        waiter.join(5.0)
    finally:
        stop_waiting_for_leases(False)
    assert not waiter.is_alive() and outcome == {"opened": 0}  # before: the stop waited the full 120 s
