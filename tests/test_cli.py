"""Every CLI command end to end on a temporary database."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import httpx
import psutil
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from brandpulse.cli.main import app
from brandpulse.services.accounts import create_user
from brandpulse.services.tokens import create_token
from store.engine import head_revision, session_scope
from store.models import Analysis, Mention, Ticket

FIXTURES = Path(__file__).parent / "fixtures"
BIN = Path(sys.executable).parent / "brandpulse"
runner = CliRunner()


def invoke(*args):
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def count(url, model):
    with session_scope(url) as session:
        return session.execute(select(func.count()).select_from(model)).scalar()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_init_doctor_import_analyze(write_config, database_url, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_config(sources={"file": {"enabled": True, "inbox": str(inbox)}})
    code, out = invoke("init")
    assert code == 0 and f"schema {head_revision()}" in out and "2 brand(s)" in out
    code, out = invoke("doctor")
    assert code == 0, out
    assert "lexicon-fallback" in out and "inbox" in out
    code, out = invoke("import", str(FIXTURES / "airline_like.csv"), "--format", "csv", "--network", "x",
                       "--map", "tweet_created=created_at", "--map", "airline=brand")
    assert code == 0 and "8 rows: 4 new, 0 already stored, 0 repeated in the file, 4 quarantined" in out
    assert "rows/s" in out
    code, out = invoke("analyze")
    assert code == 0 and "analysed 4 with lexicon-fallback" in out
    assert count(database_url, Analysis) == 4


def test_collect_prints_what_it_stored(write_config, database_url, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.jsonl").write_text(json.dumps(
        {"id": "1", "text": "Nimbus Mobile rocks", "created_at": "2026-11-20T10:00:00Z"}) + "\n")
    write_config(sources={"file": {"enabled": True, "inbox": str(inbox)}})
    code, out = invoke("collect", "--source", "file", "--brand", "Nimbus Mobile", "--once")
    assert code == 0 and "Nimbus Mobile" in out and count(database_url, Mention) == 1
    code, out = invoke("collect", "--source", "rss")
    assert code == 1 and "not enabled" in out


def test_errors_are_one_clear_line(tmp_path, monkeypatch):
    monkeypatch.setenv("BRANDPULSE_CONFIG", str(tmp_path / "missing.yaml"))
    code, out = invoke("doctor")
    assert code == 1 and "error:" in out and "does not exist" in out and "Traceback" not in out


def test_doctor_fails_on_uninitialised_database(tmp_path, monkeypatch):
    config = tmp_path / "config.yaml"
    config.write_text(f"database:\n  url: sqlite:///{tmp_path / 'fresh.db'}\n")
    monkeypatch.setenv("BRANDPULSE_CONFIG", str(config))
    code, out = invoke("doctor")
    assert code == 1 and "brandpulse init" in out


def test_run_schedules_the_pipeline_and_stops_on_sigterm(write_config, database_url, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.jsonl").write_text(json.dumps(
        {"id": "1", "text": "Nimbus Mobile charged me twice, terrible, refund now",
         "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}) + "\n")
    port = free_port()
    settings = write_config(sources={"file": {"enabled": True, "inbox": str(inbox)}},
                            nlp={"interval_seconds": 1}, care={"teams": [{"name": "care"}], "interval_seconds": 1},
                            api={"enabled": True, "port": port})
    lead = create_user(settings, None, "lee", "secret-pass-1", "care_lead", "care")
    token, _ = create_token(settings, None, name="crm", scopes=["tickets:read"], user_id=lead.id)
    process = subprocess.Popen([str(BIN), "run"], env=os.environ.copy(), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    api = f"http://127.0.0.1:{port}/v1/tickets?view=all_teams"
    listed = None
    try:
        deadline = time.time() + 150  # on PostgreSQL, queue workers start first (slow on a loaded machine)
        while time.time() < deadline and count(database_url, Ticket) == 0:
            time.sleep(0.5)
        if count(database_url, Ticket) == 1:
            listed = httpx.get(api, headers={"Authorization": f"Bearer {token}"}, timeout=30)  # the API runs beside it
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert listed is not None, f"no ticket within 150 s; run printed:\n{output}"
    assert listed.status_code == 200 and len(listed.json()["items"]) == 1
    assert process.returncode == 0, output
    assert "stopped" in output and f"API on http://127.0.0.1:{port}/v1" in output
    with pytest.raises(httpx.ConnectError):  # and stops with it
        httpx.get(api, timeout=5)


def test_dashboard_serves_http(write_config, database_url):
    write_config()
    port = free_port()
    process = subprocess.Popen([str(BIN), "dashboard", "--port", str(port)], env=os.environ.copy(),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline, health = time.time() + 60, ""
        while time.time() < deadline and health != "ok":
            try:
                health = urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health").read().decode()
            except OSError:
                time.sleep(0.5)
        assert health == "ok"
        assert urllib.request.urlopen(f"http://127.0.0.1:{port}/").status == 200
        server = psutil.Process(process.pid).children(recursive=True)
        assert server, "brandpulse dashboard runs streamlit as its child"
    finally:
        process.terminate()
        process.wait(timeout=30)
    gone, alive = psutil.wait_procs(server, timeout=15)
    assert not alive, f"stopping brandpulse dashboard left its server running: {alive}"


def test_a_killed_dashboard_command_takes_its_server_with_it(write_config, database_url):
    write_config()
    port = free_port()
    process = subprocess.Popen([str(BIN), "dashboard", "--port", str(port)], env=os.environ.copy(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline, server = time.time() + 60, []
    while time.time() < deadline and not server:
        server = psutil.Process(process.pid).children(recursive=True)
        time.sleep(0.2)
    process.kill()  # kill -9: no chance to pass anything on
    process.wait(timeout=10)
    gone, alive = psutil.wait_procs(server, timeout=15)
    assert server and not alive, alive


@pytest.mark.slow
def test_demo_without_dashboard_ends_with_analysed_mentions_and_tickets(tmp_path):
    result = subprocess.run([str(BIN), "demo", "--no-dashboard", "--directory", str(tmp_path)],
                            capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "SYNTHETIC" in result.stdout
    url = f"sqlite:///{tmp_path / 'brandpulse-demo.db'}"
    with session_scope(url) as session:
        mentions = session.execute(select(func.count()).select_from(Mention)).scalar()
        analysed = session.execute(select(func.count()).select_from(Mention)
                                   .where(Mention.analysis_status != "pending")).scalar()
        tickets = session.execute(select(func.count()).select_from(Ticket)).scalar()
        models = set(session.execute(select(Analysis.model_name).distinct()).scalars())
    assert mentions > 5000 and analysed == mentions and tickets > 100
    assert models == {"brandpulse-minilm-multitask"}  # the demo uses the real model


def test_two_run_processes_never_collect_the_same_source_at_once(write_config, database_url, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.jsonl").write_text(json.dumps(
        {"id": "1", "text": "Nimbus Mobile", "created_at": "2026-11-20T10:00:00Z"}) + "\n")
    write_config(sources={"file": {"enabled": True, "inbox": str(inbox), "cadence_minutes": 0.02}})
    processes = [subprocess.Popen([str(BIN), "run", "--duration", "12"], env=os.environ.copy(),
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0] for p in processes]
    assert all(p.returncode == 0 for p in processes), outputs
    collecting = [o for o in outputs if "collect:file:Nimbus Mobile: stored 1 of 1" in o]
    if database_url.startswith("postgresql"):
        # each collect slot is one queued job (deferred once by either scheduler), run by one worker
        assert sum(o.count("collect:file:Nimbus Mobile: stored 1 of 1") for o in outputs) == 1, \
            "\n----\n".join(line for o in outputs for line in o.splitlines() if "collect" in line or "lease" in line)
        assert "Traceback" not in "".join(outputs)
    else:
        # one process stores the post; the other waits while it holds the source (once the first
        # stops and gives the lease back, the other may collect too, and finds nothing new)
        waiting = [o for o in outputs if "is being collected by" in o]
        assert len(collecting) == 1 and len(waiting) == 1 and collecting != waiting, outputs
    assert count(database_url, Mention) == 1


def test_users_add_reads_the_password_from_stdin_and_stores_only_a_hash(settings, database_url):
    from brandpulse.services.accounts import log_in
    from store.models import User

    result = runner.invoke(app, ["users", "add", "ana", "--role", "care_agent", "--team", "care",
                                 "--password-stdin"], input="a long secret\n")
    assert result.exit_code == 0, result.output
    assert "added ana (care_agent, team care)" in result.output
    assert log_in(settings, "ana", "a long secret").role == "care_agent"
    with session_scope(database_url) as session:
        stored = session.execute(select(User.password_hash)).scalar()
    assert stored.startswith("$argon2") and "a long secret" not in stored
    code, output = invoke("users", "add", "bob", "--role", "chief", "--password-stdin")
    assert code == 1 and "role 'chief' is not one of admin, marketing" in output
    result = runner.invoke(app, ["users", "set", "ana", "--inactive"])
    assert result.exit_code == 0 and log_in(settings, "ana", "a long secret") is None
    code, output = invoke("users", "list")
    assert code == 0 and "ana" in output and "care_agent" in output and "no" in output
