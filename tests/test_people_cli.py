"""`brandpulse people export|forget`: as a named admin, clear errors for bad arguments, and a forgotten
author's posts are not collected again (real X client against recorded responses)."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from brandpulse.cli.main import app
from brandpulse.services.collecting import collect_all
from fakeserver import FakeServer, recorded
from store.engine import session_scope
from store.models import Author, Mention
from store.users import add_user

runner = CliRunner()
SEARCH = "/2/tweets/search/recent"
PAGES = ("x/search_recent_basic.json", "x/search_with_metrics_and_users.json", "x/empty_result.json")


def invoke(*args, stdin=None):
    result = runner.invoke(app, list(args), input=stdin, catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture
def collected(write_config, database_url, monkeypatch):
    """X collected once from the recordings (kfc's posts among them); an admin and an agent."""
    monkeypatch.setenv("BRANDPULSE_X_BEARER_TOKEN", "test-token")
    with FakeServer() as server:
        settings = write_config(brands=[{"name": "Tweepy", "query": "tweepy OR chicken OR kfc OR happy"}],
                                sources={"x": {"enabled": True, "base_url": server.url, "backoff_seconds": 0,
                                               "timeout_seconds": 5}})
        server.route("GET", SEARCH, *(recorded(p) for p in PAGES))
        collect_all(settings)
        with session_scope(database_url) as session:
            add_user(session, "root", "pw-root-123456", "admin")
            add_user(session, "agent", "pw-agent-123456", "care_agent", team="care")
        yield settings, server


def _kfc_posts(url):
    with session_scope(url) as session:
        return session.execute(select(func.count()).select_from(Mention).join(Author, Author.id == Mention.author_id)
                               .where(Author.handle == "kfc")).scalar()


def test_export_then_forget_and_a_recollection_does_not_bring_them_back(collected, database_url, tmp_path):
    settings, server = collected
    kfc = _kfc_posts(database_url)
    assert kfc >= 2
    out = tmp_path / "kfc.json"
    code, output = invoke("people", "export", "--as", "root", "--network", "x", "--handle", "@KFC", "--out", str(out))
    assert code == 0, output
    exported = json.loads(out.read_text())
    assert len(exported["tables"]["mentions"]) == kfc and exported["tables"]["authors"][0]["handle"] == "kfc"
    code, output = invoke("people", "forget", "--as", "root", "--network", "x", "--handle", "kfc", stdin="n\n")
    assert code == 1 and "nothing was changed" in output and _kfc_posts(database_url) == kfc
    code, output = invoke("people", "forget", "--as", "root", "--network", "x", "--handle", "kfc", "--yes")
    assert code == 0 and "erasure #1" in output and f"mentions: {kfc}" in output
    with session_scope(database_url) as session:
        before = session.execute(select(func.count()).select_from(Mention)).scalar()
    server.route("GET", SEARCH, *(recorded(p) for p in PAGES))
    code, output = invoke("collect")  # the same recorded pages again: their posts are counted, not stored
    assert code == 0 and re.search(rf": 0 new of [1-9]\d* fetched in \d+ page\(s\), {kfc} of forgotten people dropped",
                                   output), output
    with session_scope(database_url) as session:
        assert session.execute(select(func.count()).select_from(Mention)).scalar() == before
        assert not session.execute(select(Mention.id).where(Mention.text.contains("Kentucky"))).first()


BAD = [(["--as", "root"], "name one person"),
       (["--as", "root", "--network", "x"], "either a handle or a native id"),
       (["--as", "root", "--network", "myspace", "--handle", "a"], "is not one of"),
       (["--as", "root", "--customer", "7", "--external-id", "c"], "name one person"),
       (["--as", "nobody", "--network", "x", "--handle", "kfc"], "no user named 'nobody'"),
       (["--as", "agent", "--network", "x", "--handle", "kfc"], "(care_agent) may not"),
       (["--as", "root", "--network", "x", "--handle", "nobody_at_all"], "nothing is held on x @nobody_at_all"),
       (["--as", "root", "--customer", "0"], "--customer")]


def test_bad_arguments_are_one_clear_line(settings, database_url):
    with session_scope(database_url) as session:
        add_user(session, "root", "pw-root-123456", "admin")
        add_user(session, "agent", "pw-agent-123456", "care_agent", team="care")
    for command in ("export", "forget"):
        for args, message in BAD:
            code, output = invoke("people", command, *args, *(["--yes"] if command == "forget" else []))
            assert code != 0 and message in output and "Traceback" not in output, (command, args, output)
