"""Secrets never live in config.yaml (the refusal names the variable that holds each one) and never
show: not in error messages, `brandpulse doctor`/`init` output, stored errors, nor library DEBUG logs."""

from __future__ import annotations

import http.client
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import yaml
from sqlalchemy import text
from typer.testing import CliRunner

from brandpulse.core.errors import ConfigError, StoreError
from brandpulse.core.redaction import configure_logging, install_log_redaction, redact_secrets
from brandpulse.core.settings import BrandSettings, Secrets, XSourceSettings, load_settings
from fakeserver import FakeServer, Reply, recorded
from store.engine import session_scope

SECRET = "Zq7-SECRET-9f3kW2"
READ_VARIABLES = {f"BRANDPULSE_{name.upper()}" for name in Secrets.model_fields} | {
    "BRANDPULSE_DATABASE_URL", "BRANDPULSE_ALERT_SLACK_URL"}  # the last: url_env's example


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def refusal(tmp_path: Path, body: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, body))
    message = str(info.value)
    assert SECRET not in message
    named = set(re.findall(r"BRANDPULSE_[A-Z_]+[A-Z]", message))
    assert named <= READ_VARIABLES, f"names variables brandpulse never reads: {named - READ_VARIABLES}"
    return message


SECRET_KEYS = [
    ("sources:\n  x:\n    bearer_token: {s}\n", "BRANDPULSE_X_BEARER_TOKEN"),
    ("sources:\n  x:\n    api_key: {s}\n", "BRANDPULSE_X_BEARER_TOKEN"),
    ("sources:\n  x:\n    consumer_secret: {s}\n", "BRANDPULSE_X_BEARER_TOKEN"),
    ("sources:\n  reddit:\n    client_id: {s}\n", "BRANDPULSE_REDDIT_CLIENT_ID"),
    ("sources:\n  reddit:\n    client_secret: {s}\n", "BRANDPULSE_REDDIT_CLIENT_SECRET"),
    ("sources:\n  reddit:\n    user_agent: {s}\n", "BRANDPULSE_REDDIT_USER_AGENT"),
    ("sources:\n  reddit:\n    password: {s}\n", "BRANDPULSE_REDDIT_CLIENT_SECRET"),
    ("sources:\n  mastodon:\n    access_token: {s}\n", "BRANDPULSE_MASTODON_TOKEN"),
    ("sources:\n  mastodon:\n    client_secret: {s}\n", "BRANDPULSE_MASTODON_TOKEN"),
    ("sources:\n  bluesky:\n    handle: {s}\n", "BRANDPULSE_BLUESKY_HANDLE"),
    ("sources:\n  bluesky:\n    app_password: {s}\n", "BRANDPULSE_BLUESKY_APP_PASSWORD"),
    ("sources:\n  bluesky:\n    password: {s}\n", "BRANDPULSE_BLUESKY_APP_PASSWORD"),
    ("database:\n  password: {s}\n", "BRANDPULSE_DATABASE_URL"),
    ("alerts:\n  channels:\n    - {{name: slack, url_env: SLACK, webhook_url: {s}}}\n", "url_env"),
    ("alerts:\n  slack_token: {s}\n", "url_env"),
    ("nlp:\n  hf_token: {s}\n", "brandpulse reads no such secret"),
]


@pytest.mark.parametrize("body, variable", SECRET_KEYS)
def test_secret_in_config_names_the_variable_that_holds_it(tmp_path, body, variable):
    message = refusal(tmp_path, body.format(s=SECRET))
    assert variable in message and "never read from config.yaml" in message


@pytest.mark.parametrize("field", sorted(Secrets.model_fields))
def test_every_secret_brandpulse_reads_is_named_when_written_in_config(tmp_path, field, monkeypatch):
    source, key = field.split("_", 1)
    message = refusal(tmp_path, yaml.safe_dump({"sources": {source: {key: SECRET}}}))
    variable = f"BRANDPULSE_{field.upper()}"
    assert variable in message
    monkeypatch.setenv(variable, f"  {SECRET}\n")  # the variable named is the one read (and stripped)
    assert getattr(Secrets(), field) == SECRET


URLS = [
    ("database:\n  url: postgresql+psycopg://bp:{s}@db.example.com/bp\n", "BRANDPULSE_DATABASE_URL"),
    ("database:\n  url: 'postgresql+psycopg://bp@db.example.com/bp?password={s}'\n", "BRANDPULSE_DATABASE_URL"),
    ("sources:\n  mastodon:\n    instances: ['https://mastodon.social/?access_token={s}']\n",
     "BRANDPULSE_MASTODON_TOKEN"),
    ("sources:\n  mastodon:\n    instances: ['https://me:{s}@mastodon.social']\n", "BRANDPULSE_MASTODON_TOKEN"),
    ("sources:\n  x:\n    base_url: 'https://proxy.example.com/?api_key={s}'\n", "BRANDPULSE_X_BEARER_TOKEN"),
    ("sources:\n  bluesky:\n    base_url: 'https://me:{s}@bsky.social/xrpc'\n", "BRANDPULSE_BLUESKY"),
    ("sources:\n  reddit:\n    oauth_url: 'https://{s}@oauth.reddit.com'\n", "BRANDPULSE_REDDIT_CLIENT_ID"),
    ("sources:\n  rss:\n    feeds: ['https://example.com/feed.atom?token={s}']\n", "not supported"),
    ("sources:\n  rss:\n    feeds: ['https://me:{s}@example.com/feed']\n", "not supported"),
    ("alerts:\n  channels:\n    - {{name: slack, url_env: 'slack://T0AAA/B0BBB/{s}'}}\n", "must NAME"),
]


@pytest.mark.parametrize("body, variable", URLS)
def test_credentials_inside_config_urls_are_refused(tmp_path, body, variable):
    message = refusal(tmp_path, body.format(s=SECRET))
    assert variable in message


def test_user_named_keys_and_plain_urls_are_not_secrets(tmp_path):
    settings = load_settings(write(tmp_path, yaml.safe_dump({
        "care": {"canned_replies": {"password_reset": "Hi {author}, reset it in the app."}},
        "nlp": {"aspects": {"token": ["token", "login"]}},
        "database": {"url": "postgresql+psycopg://postgres@127.0.0.1:5432/test"},
        "sources": {"rss": {"feeds": ["https://example.com/feed.xml?page=2"]}}})))
    assert "password_reset" in settings.care.canned_replies


def test_database_url_from_environment_is_masked_in_its_error(tmp_path, monkeypatch):
    monkeypatch.setenv("BRANDPULSE_DATABASE_URL", f"mysql://bp:{SECRET}@db/bp")
    message = refusal(tmp_path, "brands: []\n")
    assert "environment variable BRANDPULSE_DATABASE_URL" in message and "bp:***@db" in message


MASKED = [
    f"postgresql+psycopg://bp:{SECRET}@db.example.com:5432/bp",
    f"postgresql://bp:p@ss{SECRET}@h/db",
    f"https://{SECRET}@github.com/feed.atom",
    f"https://example.com/feed?access_token={SECRET}&page=2",
    f"https://example.com/feed?x=1&api_key={SECRET}",
    f"https://example.com/feed#token={SECRET}",
    f"host=db password={SECRET} user=bp",
    f"Authorization: Bearer {SECRET}",
    f"Headers: {{'User-Agent': 'Python', 'Authorization': 'Bearer {SECRET}'}}",
    f"send: b'GET / HTTP/1.1\\r\\nAuthorization: Bearer {SECRET}\\r\\n'",
    f'{{"access_token": "{SECRET}", "token_type": "bearer"}}',
    f"b'grant_type=client_credentials&client_secret={SECRET}'",
    f"{{'identifier': 'me.bsky.social', 'password': '{SECRET}'}}",
    f'{{"accessJwt":"{SECRET}","refreshJwt":"x"}}',
    f"mailto://user:{SECRET}@gmail.com",
    f"requests.exceptions.InvalidHeader: header value: 'Bearer {SECRET}\\n'",
]
KEPT = ["sqlite:///brandpulse.db", "postgresql+psycopg://postgres@127.0.0.1:5432/test",
        "http://127.0.0.1:8080/feed.xml?page=2", "the token expired at 12:30; check the password"]


@pytest.mark.parametrize("line", MASKED)
def test_redaction_masks_every_credential_form(line):
    assert SECRET not in redact_secrets(line) and "***" in redact_secrets(line)


@pytest.mark.parametrize("line", KEPT)
def test_redaction_keeps_text_without_credentials(line):
    assert redact_secrets(line) == line


def test_database_error_text_is_masked(database_url):
    """SQLAlchemy's message repeats what it was given; a StoreError never carries it out."""
    with pytest.raises(StoreError) as info:
        with session_scope(database_url) as session:
            session.execute(text(f'SELECT * FROM "password={SECRET}"'))
    assert "password=***" in str(info.value) and SECRET not in str(info.value)


def _cli(*args: str, env: dict, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "brandpulse.cli.main", *args], env={**os.environ, **env},
                          cwd=cwd, capture_output=True, text=True, timeout=60)


def test_init_and_doctor_never_print_the_database_password(tmp_path, monkeypatch):
    url = f"postgresql+psycopg://bp:{SECRET}@127.0.0.1:1/bp?connect_timeout=2"
    config = write(tmp_path, "brands: []\nnlp: {analyzer: lexicon}\n")
    done = _cli("init", env={"BRANDPULSE_CONFIG": str(config), "BRANDPULSE_DATABASE_URL": url}, cwd=tmp_path)
    assert done.returncode == 1 and SECRET not in done.stdout + done.stderr
    assert done.stderr.startswith("error: ") and "bp:***@127.0.0.1:1" in done.stderr
    assert "Traceback" not in done.stderr
    from brandpulse.cli.main import app

    monkeypatch.setenv("BRANDPULSE_CONFIG", str(config))
    monkeypatch.setenv("BRANDPULSE_DATABASE_URL", url)
    monkeypatch.setenv("COLUMNS", "400")
    result = CliRunner().invoke(app, ["doctor"])
    assert result.exit_code == 1 and "***@127.0.0.1:1" in result.output
    assert SECRET not in result.output


def test_unreadable_env_file_is_one_config_error(tmp_path, monkeypatch):
    from brandpulse.services.delivery import channel_url
    from brandpulse.core.settings_alerts import AlertChannel

    monkeypatch.chdir(tmp_path)
    channel = AlertChannel(name="slack", url_env="BRANDPULSE_TEST_UNSET_URL")
    (tmp_path / ".env").write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(ConfigError, match=r"\.env"):
        Secrets()
    with pytest.raises(ConfigError, match=r"\.env"):
        channel_url(channel)
    (tmp_path / ".env").unlink()
    (tmp_path / ".env").mkdir()  # a folder: nothing to read, and no crash
    assert Secrets().x_bearer_token is None or os.environ.get("BRANDPULSE_X_BEARER_TOKEN")
    try:
        assert channel_url(channel) is None
    except ConfigError as exc:
        assert ".env" in str(exc)


@pytest.fixture
def x_server():
    with FakeServer() as server:
        server.route("GET", "/2/tweets/search/recent", recorded("x/search_recent_basic.json"))
        yield server


def test_debug_logs_of_the_x_client_never_show_the_bearer_token(x_server, caplog):
    from collectors.x import XCollector

    install_log_redaction()  # what configure_logging does, here on pytest's capturing handler
    caplog.set_level(logging.DEBUG)
    collector = XCollector(XSourceSettings(enabled=True, base_url=x_server.url), SECRET)
    collector.fetch(BrandSettings(name="Tweepy", query="tweepy"), None)
    assert x_server.calls("/2/tweets/search/recent")[0]["headers"]["Authorization"] == f"Bearer {SECRET}"
    assert "Making API request" in caplog.text  # tweepy logged its request headers at DEBUG
    assert SECRET not in caplog.text


def test_debug_logs_of_an_oauth_token_request_never_show_the_credentials(caplog, monkeypatch):
    from oauthlib.oauth2 import BackendApplicationClient
    from requests_oauthlib import OAuth2Session

    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the local server speaks plain http
    install_log_redaction()
    caplog.set_level(logging.DEBUG)
    token = json.dumps({"access_token": SECRET + "A", "token_type": "bearer", "expires_in": 3600})
    with FakeServer() as server:
        server.route("POST", "/token", Reply(200, token))
        session = OAuth2Session(client=BackendApplicationClient(client_id="my-client-id"))
        session.fetch_token(f"{server.url}/token", client_id="my-client-id", client_secret=SECRET,
                            include_client_id=True)
    assert "Request body was" in caplog.text
    assert SECRET not in caplog.text


def test_http_client_debug_prints_are_switched_off(capfd, caplog):
    http.client.HTTPConnection.debuglevel = 1  # a library or a user turned it on
    install_log_redaction()
    with FakeServer() as server:
        server.route("GET", "/x", Reply(200, "{}"))
        requests.get(f"{server.url}/x", headers={"Authorization": f"Bearer {SECRET}"}, timeout=5)
    out, err = capfd.readouterr()
    assert SECRET not in out + err and "send:" not in out


def test_log_level_comes_from_the_environment_and_a_bad_one_is_a_config_error(monkeypatch):
    monkeypatch.setenv("BRANDPULSE_LOG_LEVEL", "LOUD")
    with pytest.raises(ConfigError, match="BRANDPULSE_LOG_LEVEL"):
        configure_logging()


@pytest.mark.slow
def test_brandpulse_run_at_debug_level_never_logs_the_token(tmp_path, x_server):
    from store.engine import get_engine, migrate

    url = f"sqlite:///{tmp_path / 'bp.db'}"
    migrate(url)
    get_engine(url).dispose()
    config = write(tmp_path, yaml.safe_dump({
        "brands": [{"name": "Tweepy", "query": "tweepy"}], "nlp": {"analyzer": "lexicon"},
        "database": {"url": url},
        "sources": {"x": {"enabled": True, "base_url": x_server.url, "timeout_seconds": 5}}}))
    env = {"BRANDPULSE_CONFIG": str(config), "BRANDPULSE_X_BEARER_TOKEN": SECRET,
           "BRANDPULSE_LOG_LEVEL": "DEBUG"}
    done = _cli("run", "--duration", "2", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert x_server.calls("/2/tweets/search/recent"), done.stderr[-2000:]
    assert "Making API request" in done.stderr and "Authorization" in done.stderr
    assert SECRET not in done.stdout + done.stderr


def test_alert_channel_url_never_shows(caplog):
    from brandpulse.services.delivery import send

    install_log_redaction()
    caplog.set_level(logging.DEBUG)
    with FakeServer() as server:
        server.route("POST", "/hook", Reply(500, "no"))
        host = server.url.removeprefix("http://")
        assert not send(f"json://bot:{SECRET}@{host}/hook", "title", "body")
        assert server.calls("/hook")
        assert not send(f"json://{host}/hook?token={SECRET}&:{SECRET}=x", "title", "body")
        assert not send(f"notaservice://{SECRET}/x", "title", "body")
    assert SECRET not in caplog.text


def test_a_source_error_echoing_the_token_is_masked_in_collect_doctor_and_health(
        write_config, database_url, x_server, monkeypatch):
    """A gateway at sources.x.base_url that repeats the token in its error reaches no output."""
    from brandpulse.cli.main import app
    from store.collectors import which_sources_report_health

    monkeypatch.setenv("BRANDPULSE_X_BEARER_TOKEN", SECRET)
    monkeypatch.setenv("COLUMNS", "400")
    echo = {"errors": [{"message": f"token {SECRET} is not valid here; Authorization: Bearer {SECRET}"}],
            "title": "Invalid Request", "detail": f"bad token {SECRET}"}
    x_server.route("GET", "/2/tweets/search/recent", Reply(400, json.dumps(echo)))
    write_config(brands=[{"name": "Tweepy", "query": "tweepy"}],
                 sources={"x": {"enabled": True, "base_url": x_server.url, "timeout_seconds": 5}})
    collected = CliRunner().invoke(app, ["collect"])
    assert "token *** is not valid" in collected.output and SECRET not in collected.output
    with session_scope(database_url) as session:
        (health,) = which_sources_report_health(session)
    assert "***" in health.last_error and SECRET not in health.last_error
    checked = CliRunner().invoke(app, ["doctor"])
    assert "health x/Tweepy" in checked.output and SECRET not in checked.output


def test_a_secret_with_a_line_break_inside_is_refused_by_name(monkeypatch):
    """It would break (or inject into) the Authorization header, and requests would echo it."""
    monkeypatch.setenv("BRANDPULSE_X_BEARER_TOKEN", f"{SECRET}\r\nX-Injected: 1")
    with pytest.raises(ConfigError, match="BRANDPULSE_X_BEARER_TOKEN holds a control character") as info:
        Secrets()
    assert SECRET not in str(info.value)


def test_every_brandpulse_error_masks_credentials_wherever_it_is_shown():
    from brandpulse.core.errors import StoreError

    error = StoreError("could not reach postgresql+psycopg://app:hunter2@db:5432/x?access_token=abc123")
    assert "hunter2" not in str(error) and "abc123" not in str(error)
    assert "postgresql+psycopg://app:" in str(error)
