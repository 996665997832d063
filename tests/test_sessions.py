"""Dashboard sessions: rights are re-read on every rerun and service call; sessions expire and are revoked."""

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import update
from streamlit.testing.v1 import AppTest

from brandpulse.services import accounts
from brandpulse.services.access import AccessDeniedError, SessionEndedError, pages_for
from brandpulse.services.accounts import authorize, change_user, create_user, current_actor, list_users, log_in
from dashboard.safe import md
from store.engine import session_scope
from store.models import User

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
PASSWORD = "secret-pass-1"


class Clock:
    """A clock the tests move by hand (sessions and throttling read ``accounts.utcnow``)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    moving = Clock()
    monkeypatch.setattr(accounts, "utcnow", moving)
    return moving


@pytest.fixture
def office(write_config):
    """Settings with two admins (root, boss) and a care agent; the dashboard reads this config."""
    settings = write_config(dashboard={"session_idle_minutes": 30, "session_max_hours": 12})
    people = {name: create_user(settings, None, name, PASSWORD, role, team) for name, role, team in [
        ("root", "admin", None), ("boss", "admin", None), ("ana", "care_agent", "care")]}
    st.cache_data.clear()
    st.cache_resource.clear()
    return settings, people


def signed_in(username: str) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=60)
    app.run()
    app.text_input(key="login_user").set_value(username)
    app.text_input(key="login_password").set_value(PASSWORD)
    app.button[0].click().run()
    assert not app.exception, app.exception
    assert app.sidebar.radio, [e.value for e in app.error]
    return app


def signed_out_with(app: AppTest, notice: str) -> None:
    assert not app.exception, app.exception
    assert not app.sidebar.radio and not app.header
    assert [w.value for w in app.warning] == [md(notice)]
    assert app.text_input(key="login_user")


def test_a_demoted_and_deactivated_admins_open_session_ends_on_the_next_rerun(office):
    settings, people = office
    app = signed_in("boss")
    app.sidebar.radio(key="page").set_value("Users").run()
    assert app.header[0].value == "Users"
    change_user(settings, people["root"], people["boss"].id, role="marketing", active=False)
    app.run()
    signed_out_with(app, accounts._ENDED["revoked"])
    assert log_in(settings, "boss", PASSWORD) is None


def test_rights_are_re_read_on_every_rerun_even_when_changed_behind_the_services_back(office, database_url):
    settings, people = office
    app = signed_in("boss")
    stale = log_in(settings, "boss", PASSWORD)
    with session_scope(database_url) as session:  # e.g. an older version or an SQL console
        session.execute(update(User).where(User.username == "boss").values(role="marketing"))
    app.run()
    assert app.sidebar.radio(key="page").options == pages_for("marketing")
    assert "Users" not in app.sidebar.radio(key="page").options
    with pytest.raises(AccessDeniedError, match="may not users manage"):
        create_user(settings, stale, "eve", PASSWORD, "admin")  # the Actor object still says admin
    with pytest.raises(AccessDeniedError):
        list_users(settings, people["boss"])  # an Actor without a session is re-read too
    assert authorize(settings, stale).role == "marketing"
    with session_scope(database_url) as session:
        session.execute(update(User).where(User.username == "boss").values(active=False))
    app.run()
    signed_out_with(app, accounts._ENDED["inactive"])
    with pytest.raises(AccessDeniedError):
        authorize(settings, people["boss"])


def test_idle_sessions_expire(office, clock):
    app = signed_in("ana")
    clock.advance(minutes=29)
    app.run()
    assert app.sidebar.radio, "29 idle minutes are within the 30 allowed"
    clock.advance(minutes=31)
    app.run()
    signed_out_with(app, "Your session expired, sign in again.")


def test_sessions_expire_after_the_absolute_limit_even_when_busy(office, clock):
    settings, _ = office
    app = signed_in("ana")
    token = app.session_state["session_token"]
    for _ in range(12 * 3):  # a click every 20 minutes for 12 hours
        clock.advance(minutes=20)
        app.run()
        assert app.sidebar.radio
    clock.advance(minutes=1)
    app.run()
    signed_out_with(app, "Your session expired, sign in again.")
    with pytest.raises(SessionEndedError, match="expired"):
        current_actor(settings, token)


def test_a_new_password_ends_other_sessions_and_signing_out_ends_this_one(office):
    settings, people = office
    app = signed_in("ana")
    elsewhere = log_in(settings, "ana", PASSWORD)
    change_user(settings, None, people["ana"].id, password="another-pass-2")
    app.run()
    signed_out_with(app, accounts._ENDED["revoked"])
    with pytest.raises(SessionEndedError):
        authorize(settings, elsewhere, "ticket.work")
    mine = log_in(settings, "ana", "another-pass-2")
    assert authorize(settings, mine, "ticket.work").team == "care"
    accounts.sign_out(settings, mine)
    with pytest.raises(SessionEndedError, match="signed out"):
        current_actor(settings, mine.session)
    with pytest.raises(SessionEndedError):
        current_actor(settings, "a made-up token")


def test_the_sign_out_button_ends_the_session_in_the_database(office):
    settings, _ = office
    app = signed_in("ana")
    token = app.session_state["session_token"]
    app.sidebar.button(key="logout").click().run()
    assert not app.sidebar.radio and not app.warning
    with pytest.raises(SessionEndedError, match="signed out"):
        current_actor(settings, token)


@pytest.mark.parametrize("key,value", [("session_idle_minutes", 0), ("session_idle_minutes", 1e308),
                                       ("session_max_hours", -1), ("session_max_hours", "never")])
def test_session_limits_must_be_sane(write_config, key, value):
    from brandpulse.core.errors import ConfigError

    with pytest.raises(ConfigError, match=key):
        write_config(dashboard={key: value})
