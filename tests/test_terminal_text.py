"""Remote and user text reaches the terminal as text: brackets stay, markup never applies,
escape sequences are shown instead of run, and `collect` says when everything failed."""

import json

import pytest
from typer.testing import CliRunner

from brandpulse.cli.main import app
from fakeserver import FakeServer, Reply, body_of, recorded
from store.collectors import record_collector_failure
from store.engine import session_scope

MESSAGE = "user [/deleted] [bold]x[/bold] failed"
SEARCH = "/2/tweets/search/recent"
runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")  # one line per row: cells folded on a narrow terminal interleave


def invoke(*args):
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def flat(out: str) -> str:
    """The output without spaces and table borders (cells wrap over lines)."""
    return "".join(out.replace("│", "").replace("┃", "").split())


def test_an_error_message_with_markup_is_printed_literally(write_config):
    write_config()
    code, out = invoke("collect", "--brand", MESSAGE)
    assert code == 1 and "Traceback" not in out
    assert flat(f"brand '{MESSAGE}' is not in config.yaml") in flat(out)


def test_partial_errors_with_markup_are_printed_literally_by_collect(write_config, monkeypatch):
    monkeypatch.setenv("BRANDPULSE_X_BEARER_TOKEN", "t")
    body = body_of("x/search_recent_basic.json")
    body["meta"].pop("next_token")
    body["errors"] = [{"title": "Suspended", "detail": MESSAGE}, {"title": "[/]", "detail": "\x1b[2J:smile:"}]
    with FakeServer() as server:
        server.route("GET", SEARCH, Reply(200, json.dumps(body)), recorded("x/empty_result.json"))
        write_config(brands=[{"name": "Tweepy [b]", "query": "happy"}],
                     sources={"x": {"enabled": True, "base_url": server.url}})
        code, out = invoke("collect")
    assert code == 0 and flat(MESSAGE) in flat(out) and "Tweepy[b]" in flat(out)
    assert "Suspended:" in flat(out) and "[/]:\\x1b[2J:smile:" in flat(out) and "\x1b" not in out


def test_collect_exits_1_when_every_source_failed_and_0_when_only_waiting(write_config, tmp_path, monkeypatch):
    monkeypatch.setenv("BRANDPULSE_X_BEARER_TOKEN", "t")
    with FakeServer() as server:
        server.route("GET", SEARCH, Reply(503, "down"))
        sources = {"x": {"enabled": True, "base_url": server.url, "retries": 0},
                   "file": {"enabled": True, "inbox": str(tmp_path / "missing")}}
        write_config(sources=sources)
        code, out = invoke("collect")
        assert code == 1 and "failed" in out and "every source that ran failed" in out
        assert "x / Nimbus Mobile" in out  # the progress line of each (source, brand)
        server.route("GET", SEARCH, Reply(429, "{}", {"x-rate-limit-reset": "0"}))
        write_config(sources={"x": sources["x"]})
        code, out = invoke("collect")
        assert code == 0 and "waits" in out and "rate limit" in out
        (tmp_path / "missing").mkdir()
        write_config(sources={**sources, "x": {**sources["x"], "base_url": "http://127.0.0.1:9"}})
        code, out = invoke("collect", "--source", "file")
        assert code == 0


def test_users_list_and_doctor_print_names_and_errors_literally(write_config, database_url):
    from store.users import add_user

    write_config()
    with session_scope(database_url) as session:  # a name stored before names were checked
        add_user(session, "[bold]eve[/bold] [/deleted]", "a-long-password-1", "marketing", None)
        record_collector_failure(session, "x", "Nimbus Mobile", f"X said: {MESSAGE}")
    code, out = invoke("users", "list")
    assert code == 0 and "[bold]eve[/bold]" in out and "[/deleted]" in out
    code, out = invoke("doctor")
    assert flat(MESSAGE) in flat(out)


def test_shown_escapes_control_characters_but_keeps_text():
    from brandpulse.cli.console import printable

    assert printable("a\x1b[31mred\u202eb\tc\nd") == "a\\x1b[31mred\\u202eb\tc\nd"
    assert printable("café [b] 😀 :smile:") == "café [b] 😀 :smile:"
