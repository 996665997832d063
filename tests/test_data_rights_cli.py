"""Data rights, retention and jobs tried as a careless user and as an attacker would: an export never
replaces an existing file and is private, ids no stored row can hold are one short line (not a 10k echo,
not a database error), a forget request with a misspelt or coerced field is refused instead of erasing
someone else, and the job commands say plainly what SQLite lacks or what --queues is missing."""

from __future__ import annotations

import json
import stat

import pytest
from typer.testing import CliRunner

from brandpulse.cli.main import app
from brandpulse.core.errors import BrandpulseError
from brandpulse.services.accounts import create_user
from tests.api_client import api_server, client, token_for  # noqa: F401
from tests.test_care import NOW, post

runner = CliRunner()


def invoke(*args):
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture
def dana(settings, database_url):
    """Two posts of @dana on x and an admin, root."""
    post(database_url, "d1", "Nimbus Mobile charged me twice", handle="dana", minutes_ago=100)
    post(database_url, "d2", "Nimbus Mobile fixed it, thanks", handle="dana", minutes_ago=90)
    create_user(settings, None, "root", "secret-pass-1", "admin", None)
    return settings


def test_an_export_never_replaces_a_file_and_only_its_owner_may_read_it(dana, tmp_path):
    config = tmp_path / "config.yaml"
    kept = config.read_text()
    code, output = invoke("people", "export", "--as", "root", "--network", "x", "--handle", "dana", "--out", str(config))
    assert code == 1 and f"could not write {config}: the file already exists; delete it first" in output
    assert config.read_text() == kept  # a mistyped --out does not destroy the config
    out = tmp_path / "dana.json"
    code, output = invoke("people", "export", "--as", "root", "--network", "x", "--handle", "dana", "--out", str(out))
    assert code == 0 and "wrote" in output and "charged me twice" in out.read_text()
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # personal data: not readable by other local users
    code, output = invoke("people", "export", "--as", "root", "--network", "x", "--handle", "dana",
                          "--out", str(tmp_path / "missing" / "d.json"))
    assert code == 1 and "the folder" in output and "does not exist; create it first" in output


def test_ids_no_row_can_hold_are_refused_in_one_short_line(dana):
    for args, message in [(["--handle", "a" * 10_000], "the handle is 10,000 characters long"),
                          (["--native-id", "12\t34"], "the native id '12\\t34' holds a control character"),
                          (["--handle", "da\x1bna"], "holds a control character")]:
        for command in ("export", "forget"):
            code, output = invoke("people", command, "--as", "root", "--network", "x", *args,
                                  *(["--yes"] if command == "forget" else []))
            assert code == 1 and message in output and len(output) < 300, (command, args, output[:300])
    code, output = invoke("people", "export", "--as", "root", "--network", "x", "--handle", "dana\n")
    assert code == 0 and "charged me twice" in output  # a pasted newline is only whitespace


def test_forget_over_the_api_refuses_misspelt_and_coerced_fields(dana, api_server):
    token = token_for(dana, "ops", "admin", ["people:export", "people:forget"])
    with client(api_server(dana), token) as http:
        for body in ({"network": "x", "handle": "dana", "with_linkd": True},  # misspelt: would forget less
                     {"customer_id": True},  # would be customer #1
                     {"customer_id": "1"},
                     {"network": "x", "handle": "dana", "with_linked": "yes"}):
            refused = http.post("/people/forget", json=body)
            assert refused.status_code == 422, (body, refused.text)
        for params in ({"network": "x", "handle": "da\x00na"}, {"external_id": "c\x00"}):
            refused = http.get("/people/export", params=params)  # PostgreSQL cannot hold NUL: not a 503
            assert refused.status_code == 422 and "control character" in refused.json()["detail"], refused.text
        forgotten = http.post("/people/forget", json={"network": "x", "handle": "nobody\x00"})
        assert forgotten.status_code == 422, forgotten.text
        assert http.get("/people/export", params={"network": "x", "handle": "dana"}).json()["counts"]["mentions"] == 2


def test_job_commands_say_what_is_missing(settings, database_url, monkeypatch):
    if database_url.startswith("sqlite"):
        for args in (["jobs", "list"], ["jobs", "list", "--queues"]):
            code, output = invoke(*args)
            assert code == 0 and "no job queue on SQLite" in output and "PostgreSQL" in output, output
            assert "no dead jobs" not in output
        return
    started = []
    monkeypatch.setattr("brandpulse.services.jobs.run_worker", lambda *args: started.append(args))
    code, output = invoke("worker", "--queues", ",,")
    assert code == 1 and "--queues ',,' names no queue" in output and not started, output
    code, output = invoke("worker", "--queues", "triage")
    assert code == 0 and started and started[0][1] == ["triage"], output


def test_retention_set_to_zero_says_zero_keeps_forever(write_config):
    write_config(retention={"raw_days": 0})
    code, output = invoke("retention", "apply", "--dry-run")
    assert code == 0 and "unset or 0 (0 keeps forever)" in " ".join(output.split())


def test_an_export_withholds_other_peoples_posts_quoted_beside_theirs(dana, database_url, tmp_path):
    from sqlalchemy import select

    from store.engine import session_scope
    from store.models import Alert, Mention, Topic

    post(database_url, "b1", "Nimbus Mobile works fine for me today in Quillfield", handle="bob", minutes_ago=80)
    with session_scope(database_url) as session:
        ids = dict(session.execute(select(Mention.native_id, Mention.id)).all())
        cited = [{"mention_id": ids["d1"], "network": "x", "text": "Nimbus Mobile charged me twice"},
                 {"mention_id": ids["b1"], "network": "x", "text": "Nimbus Mobile works fine for me today in Quillfield"}]
        session.add(Alert(brand_id=1, rule="volume", title="Nimbus Mobile: spike", window_start=NOW, window_end=NOW,
                          dedupe_key="v1", evidence={"observed": 3, "top_mentions": cited}))
        session.add(Topic(brand_id=1, label="charged twice", terms=["charged"], size=2, representative=cited))
    out = tmp_path / "dana.json"
    code, output = invoke("people", "export", "--as", "root", "--network", "x", "--handle", "dana", "--out", str(out))
    assert code == 0, output
    text = out.read_text()
    assert "charged me twice" in text and "Quillfield" not in text  # bob's post is bob's data
    exported = json.loads(text)
    assert exported["withheld"] == {"posts_of_others": 2}
    assert exported["tables"]["alerts"][0]["evidence"]["top_mentions"][1] == {
        "mention_id": ids["b1"], "network": "x", "text": "[withheld: another person's post]"}


def test_retention_resumes_after_a_killed_run_on_this_machine_and_names_a_live_holder(write_config, database_url):
    import os
    import socket
    import subprocess

    from brandpulse.services.retention import LEASE
    from store.engine import session_scope
    from store.leases import give_back_lease, take_lease

    write_config(retention={"raw_days": 1})
    post(database_url, "old", "Nimbus Mobile was slow last month", handle="ann", minutes_ago=3 * 24 * 60)
    gone = subprocess.Popen(["true"])
    gone.wait()  # a killed `retention apply`: its lease would block every run for an hour
    with session_scope(database_url) as session:
        assert take_lease(session, LEASE, f"{socket.gethostname()}:{gone.pid}:1", 3600)
    code, output = invoke("retention", "apply")
    assert code == 0 and "retention removed" in output, output  # the dead process's lease was free
    alive = f"{socket.gethostname()}:{os.getpid()}:1"  # this test's process: really running
    with session_scope(database_url) as session:
        assert take_lease(session, LEASE, alive, 3600)
    code, output = invoke("retention", "apply")
    assert code == 1 and f"(process {os.getpid()} on {socket.gethostname()};" in output, output
    with session_scope(database_url) as session:
        give_back_lease(session, LEASE, alive)


def test_two_runs_of_one_forget_at_once_keep_the_audit_counts(dana, database_url):
    import threading

    from sqlalchemy import select

    from brandpulse.core.records import AuthorRecord, MentionRecord
    from brandpulse.services.people import PersonSelector, forget_person
    from store.engine import session_scope
    from store.mentions import save_mentions
    from store.models_rights import Erasure

    records = [MentionRecord(network="x", native_id=f"m{n}", text=f"Nimbus Mobile post {n} by mo",
                             brands=["Nimbus Mobile"], created_at=NOW, author=AuthorRecord("x", "x-mo", handle="mo"))
               for n in range(3000)]
    with session_scope(database_url) as session:
        save_mentions(session, records)
    admin, results, barrier = create_user(dana, None, "ops", "secret-pass-1", "admin", None), [], threading.Barrier(2)

    def forget():
        barrier.wait()
        try:
            results.append(forget_person(dana, admin, PersonSelector(network="x", handle="mo")))
        except BrandpulseError as exc:  # it started after the other one had finished: nothing left
            results.append(str(exc))

    runs = [threading.Thread(target=forget) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join(60)
    first, later = sorted(results, key=lambda r: isinstance(r, str))
    assert first.counts["mentions"] == 3000, results
    # the later one waited on the first one's audit row and reports its counts (or, when it only
    # began after the first had finished, finds nobody left to forget), never a row of its own
    assert later == first or "nothing is held on x @mo" in later, results
    with session_scope(database_url) as session:
        (row,) = session.execute(select(Erasure).where(Erasure.kind == "forget")).scalars().all()
        assert row.status == "done" and row.counts["mentions"] == 3000, row.counts
