"""User management rules: the last admin stays, names are plain, new users start least privileged."""

import string
import threading

import pytest
import streamlit as st
from hypothesis import given, settings as hypothesis_settings, strategies as text_strategies
from sqlmodel import select
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from brandpulse.services.access import least_privileged_role
from brandpulse.services.accounts import USERNAME_RULE, change_user, check_username, create_user, list_users, log_in
from brandpulse.cli.main import app as cli
from brandpulse.core.errors import BrandpulseError
from store.engine import session_scope
from store.models import User
from store.users import add_user
from tests.test_sessions import APP, PASSWORD

runner = CliRunner()
ALLOWED = set(string.ascii_letters + string.digits + "._-@")
BAD_NAMES = ["<b>eve</b>", "[red]eve[/red]", "![x](http://evil.example/x.png)", "eve\x00", "eve\nroot",
             "e\u202eve", "eve smith", "ève", "", "x" * 101, "**eve**", "`eve`", "eve:smile:"]


def active_admins(url) -> list[str]:
    with session_scope(url) as session:
        return sorted(session.exec(select(User.username).where(User.role == "admin",
                                                               User.active == True)))  # noqa: E712


def test_the_last_active_admin_cannot_be_deactivated_or_demoted_by_anyone(settings, database_url):
    root = create_user(settings, None, "root", PASSWORD, "admin")
    for change in [{"active": False}, {"role": "marketing"}]:
        with pytest.raises(BrandpulseError, match="'root' is the last active admin"):
            change_user(settings, None, root.id, **change)
    for args in [["--inactive"], ["--role", "marketing"]]:
        result = runner.invoke(cli, ["users", "set", "root", *args])
        assert result.exit_code == 1 and "is the last active admin" in result.output, result.output
    boss = create_user(settings, None, "boss", PASSWORD, "admin")
    change_user(settings, boss, root.id, role="marketing")  # two admins: one may go
    with pytest.raises(BrandpulseError, match="'boss' is the last active admin"):
        change_user(settings, None, boss.id, role="care_lead", team="care")
    assert active_admins(database_url) == ["boss"]
    change_user(settings, None, boss.id, team="care")  # other changes still work
    change_user(settings, None, root.id, active=False)  # and so do changes to other users


def test_two_admins_demoting_each_other_at_once_leave_one_admin(settings, database_url):
    admins = [create_user(settings, None, name, PASSWORD, "admin") for name in ("amy", "bob")]
    start, outcomes = threading.Barrier(2), []

    def demote(actor, other) -> None:
        start.wait()
        try:
            change_user(settings, actor, other.id, active=False, role="marketing")
            outcomes.append("done")
        except BrandpulseError as exc:  # the last-admin rule, or the database refusing the race
            outcomes.append(str(exc))

    threads = [threading.Thread(target=demote, args=pair) for pair in [admins, admins[::-1]]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(outcomes) == 2 and outcomes.count("done") <= 1, outcomes
    assert len(active_admins(database_url)) == 1


@pytest.mark.parametrize("name", BAD_NAMES)
def test_user_names_with_markup_control_characters_or_odd_lengths_are_refused(settings, name):
    with pytest.raises(BrandpulseError, match="is not allowed: use letters"):
        create_user(settings, None, name, PASSWORD, "marketing")
    assert list_users(settings, None) == []


def test_the_cli_refuses_bad_names_and_says_the_rule(settings):
    for name in ["[bold]eve[/bold]", "<img src=x>", "eve smith", "x" * 101]:
        result = runner.invoke(cli, ["users", "add", name, "--role", "marketing", "--password-stdin"],
                               input=PASSWORD + "\n")
        assert result.exit_code == 1, result.output
        assert USERNAME_RULE in " ".join(result.output.split()), result.output
    result = runner.invoke(cli, ["users", "add", "ana.b-c_d@example.com", "--role", "marketing",
                                 "--password-stdin"], input=PASSWORD + "\n")
    assert result.exit_code == 0 and "added ana.b-c_d@example.com (marketing)" in result.output
    result = runner.invoke(cli, ["users", "add", "ANA.B-C_D@example.com", "--role", "admin",
                                 "--password-stdin"], input=PASSWORD + "\n")
    assert result.exit_code == 1 and "already exists" in result.output  # no look-alike by case


@hypothesis_settings(max_examples=80, deadline=None)
@given(text_strategies.text(max_size=120))
def test_only_names_of_the_stated_characters_pass(name):
    good = 1 <= len(name) <= 100 and set(name) <= ALLOWED
    try:
        assert check_username(name) == name and good
    except BrandpulseError:
        assert not good


@pytest.fixture
def odd_admin(settings, database_url):
    """An admin whose name predates the rule and is full of Markdown; still signs in."""
    name = "![p](http://evil.example/p.png)<b>x</b>"
    with session_scope(database_url) as session:
        add_user(session, name, PASSWORD, "admin")
    create_user(settings, None, "ana", PASSWORD, "care_agent", "care")
    st.cache_resource.clear()
    return name


def test_an_old_name_with_markup_still_signs_in_and_is_never_rendered_as_markdown(settings, odd_admin):
    assert log_in(settings, odd_admin, PASSWORD).role == "admin"
    app = AppTest.from_file(APP, default_timeout=60)
    app.run()
    app.text_input(key="login_user").set_value(odd_admin)
    app.text_input(key="login_password").set_value(PASSWORD)
    app.button[0].click().run()
    assert any(odd_admin in t.value for t in app.sidebar.text)
    app.sidebar.radio(key="page").set_value("Users").run()
    app.selectbox(key="edit_user").set_value(next(u["id"] for u in list_users(settings, None)
                                                  if u["username"] == odd_admin))
    app.selectbox(key="edit_team").set_value("care")
    [save] = [b for b in app.button if b.label == "Save"]
    save.click().run()
    assert app.success and app.success[0].value.startswith("updated ")
    app.text_input(key="new_user_name").set_value("[x](http://evil.example/)")
    app.text_input(key="new_user_password").set_value(PASSWORD)
    [add] = [b for b in app.button if b.label == "Add user"]
    add.click().run()
    assert "is not allowed" in app.error[0].value
    assert not app.exception, app.exception
    rendered = [e.value for kind in ("markdown", "caption", "success", "error", "warning", "info", "title",
                                     "header", "subheader") for e in getattr(app, kind)]
    rendered += [e.value for e in app.sidebar.markdown] + [e.value for e in app.sidebar.caption]
    assert all("](http" not in value and "<b>" not in value for value in rendered), rendered


def test_the_users_page_offers_the_least_privileged_role_first(settings, odd_admin):
    assert least_privileged_role() == "marketing"
    app = AppTest.from_file(APP, default_timeout=60)
    app.run()
    app.text_input(key="login_user").set_value(odd_admin)
    app.text_input(key="login_password").set_value(PASSWORD)
    app.button[0].click().run()
    app.sidebar.radio(key="page").set_value("Users").run()
    assert app.selectbox(key="new_user_role").value == "marketing"
    app.text_input(key="new_user_name").set_value("newbie")
    app.text_input(key="new_user_password").set_value(PASSWORD)
    [add] = [b for b in app.button if b.label == "Add user"]
    add.click().run()
    assert app.success[0].value == "added newbie"
    assert log_in(settings, "newbie", PASSWORD).role == "marketing"
