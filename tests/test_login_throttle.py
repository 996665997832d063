"""Sign-in throttling per name and per client, kept in the database, and answers that do not tell names."""

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import select

from brandpulse.services import accounts
from brandpulse.services.access import LoginThrottledError
from brandpulse.services.accounts import change_user, create_user, log_in
from store.engine import get_engine, session_scope
from dashboard.safe import md
from store.models import LoginAttempt
from tests.test_sessions import APP, PASSWORD, Clock

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def clock(monkeypatch):
    moving = Clock()
    monkeypatch.setattr(accounts, "utcnow", moving)
    return moving


@pytest.fixture
def people(settings):
    return {name: create_user(settings, None, name, PASSWORD, role, team) for name, role, team in [
        ("root", "admin", None), ("ana", "care_agent", "care"), ("old", "marketing", None)]}


def fail(settings, name: str, times: int, client: str = "ip:10.0.0.1") -> None:
    for _ in range(times):
        assert log_in(settings, name, "wrong-password", client) is None


def refused(settings, name: str, password: str = PASSWORD, client: str = "ip:10.0.0.1") -> int:
    with pytest.raises(LoginThrottledError, match="Too many failed sign-ins for this account or this "
                                                  r"address; try again in \d+ s") as caught:
        log_in(settings, name, password, client)
    return caught.value.retry_after


def test_a_name_is_locked_after_five_failures_even_for_the_right_password_with_doubling_backoff(
        settings, people, clock):
    fail(settings, "ana", 5)
    assert refused(settings, "ana") == 30
    assert refused(settings, "ana", client="ip:10.9.9.9") == 30  # another address: the name is locked
    clock.advance(seconds=20)
    assert refused(settings, "ana") == 10
    clock.advance(seconds=11)
    fail(settings, "ana", 1)  # the sixth failure doubles the wait
    assert refused(settings, "ana") == 60
    clock.advance(seconds=61)
    assert log_in(settings, "ana", PASSWORD, "ip:10.0.0.1").role == "care_agent"
    fail(settings, "ana", 4)  # a success starts the count again
    assert log_in(settings, "ana", PASSWORD, "ip:10.0.0.1") is not None
    assert log_in(settings, "root", PASSWORD, "ip:10.0.0.1") is not None  # other names are not locked


def test_unknown_names_are_locked_alike_so_locking_does_not_tell_which_names_exist(settings, people, clock):
    fail(settings, "nobody", 5)
    assert refused(settings, "nobody") == 30
    fail(settings, "old", 5)
    assert refused(settings, "old") == 30


def test_one_client_guessing_many_names_is_locked_for_every_name_other_clients_are_not(
        settings, people, clock, monkeypatch):
    monkeypatch.setattr(accounts, "CLIENT_FREE_FAILURES", 8)  # 20 by default; fewer argon2 checks here
    for number in range(8):  # one guess per name never trips a name's lock
        fail(settings, f"guess{number}", 1, client="ip:203.0.113.7")
    assert refused(settings, "ana", client="ip:203.0.113.7") == 30
    assert log_in(settings, "ana", PASSWORD, "ip:198.51.100.2").role == "care_agent"
    clock.advance(seconds=31)
    assert log_in(settings, "ana", PASSWORD, "ip:203.0.113.7") is not None


def test_the_lock_is_in_the_database_so_it_outlives_the_process_and_holds_in_another(
        settings, people, database_url, tmp_path):
    fail(settings, "ana", 5)
    get_engine(database_url).dispose()  # as after a restart
    with session_scope(database_url) as session:
        rows = session.exec(select(LoginAttempt).where(LoginAttempt.username == "ana")).all()
    assert [(r.client, r.ok) for r in rows] == [("ip:10.0.0.1", False)] * 5
    script = ("import sys\nfrom brandpulse.core.settings import load_settings\n"
              "from brandpulse.services.accounts import log_in\n"
              "try:\n    log_in(load_settings(), 'ana', sys.argv[1], 'ip:10.0.0.2')\n"
              "except Exception as exc:\n    print(type(exc).__name__, exc)\n")
    other = subprocess.run([sys.executable, "-c", script, PASSWORD], capture_output=True, text=True,
                           cwd=ROOT, env=os.environ.copy(), timeout=120)
    assert "LoginThrottledError Too many failed sign-ins" in other.stdout, other.stdout + other.stderr


def test_unknown_names_inactive_users_and_wrong_passwords_take_alike_long(settings, people):
    change_user(settings, None, people["old"].id, active=False)

    def median_seconds(name: str, password: str) -> float:
        times = []
        for attempt in range(3):  # fewer than five, so the name's lock never starts
            started = time.perf_counter()
            assert log_in(settings, name, password, f"ip:192.0.2.{attempt}") is None
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    wrong_password = median_seconds("ana", "wrong-password")
    unknown = median_seconds("nobody-here", "wrong-password")
    inactive = median_seconds("old", PASSWORD)
    for one, other in [(wrong_password, unknown), (wrong_password, inactive)]:
        assert one > 0.5 * other and other > 0.5 * one, (wrong_password, unknown, inactive)
    assert min(wrong_password, unknown, inactive) > 0.01  # argon2 ran every time, not a shortcut


def test_the_dashboard_says_how_long_to_wait(settings, people):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_resource.clear()
    app = AppTest.from_file(APP, default_timeout=60)
    app.run()
    for password in ["wrong-1", "wrong-2", "wrong-3", "wrong-4", "wrong-5", PASSWORD]:
        app.text_input(key="login_user").set_value("ana")
        app.text_input(key="login_password").set_value(password)
        app.button[0].click().run()
    assert not app.exception, app.exception
    assert app.error[0].value.startswith(md("Too many failed sign-ins for this account or this address; "
                                            "try again in"))
    assert not app.sidebar.radio


def test_names_no_user_can_have_are_answered_like_any_wrong_name(settings, people):
    create_user(settings, None, "x" * 100, PASSWORD, "marketing")
    for number, name in enumerate(["ana\x00", "x" * 150, "\x00" * 3, "ana\u202e", "é" * 5000]):
        assert log_in(settings, name, PASSWORD, f"ip:192.0.2.{number}") is None  # no crash on PostgreSQL
    assert log_in(settings, "x" * 100, PASSWORD).role == "marketing"
