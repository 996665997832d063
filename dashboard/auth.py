"""The login gate: nobody sees a page before signing in, and each rerun re-reads who that is.

The browser session keeps only a session token; the Actor (role, team, active) is loaded from the
database on every rerun, so a demoted or deactivated user loses the rights at their next click,
and an idle or too old session ends with "Your session expired, sign in again".
"""

from __future__ import annotations

import uuid

import streamlit as st

from brandpulse.services.access import Actor, LoginThrottledError, SessionEndedError, pages_for
from brandpulse.services import accounts
from dashboard import data
from dashboard.safe import md

TOKEN_KEY = "session_token"
CLIENT_KEY = "client_id"
NOTICE_KEY = "sign_in_notice"
def client() -> str:
    """Who is knocking, for sign-in throttling: the connection's address, else this browser session."""
    try:
        address = st.context.ip_address
    except Exception:  # noqa: BLE001 - no context outside a running app
        address = None
    if address:
        return f"ip:{address}"
    if CLIENT_KEY not in st.session_state:
        st.session_state[CLIENT_KEY] = uuid.uuid4().hex
    return f"session:{st.session_state[CLIENT_KEY]}"


def _forget(notice: str | None = None) -> None:
    """Drop everything this browser session held (but its client id), keeping ``notice`` to show."""
    for key in list(st.session_state):
        if key != CLIENT_KEY:
            del st.session_state[key]
    if notice:
        st.session_state[NOTICE_KEY] = notice


def current_actor() -> Actor | None:
    """The signed-in user of this browser session as the database has them now, if any."""
    token = st.session_state.get(TOKEN_KEY)
    if token is None:
        return None
    try:
        return accounts.current_actor(data.settings(), token)
    except SessionEndedError as exc:
        _forget(str(exc))
        return None


def login_form() -> Actor | None:
    """Draw the sign-in form; return the Actor once the name and password are right."""
    st.title("brandpulse")
    notice = st.session_state.get(NOTICE_KEY)
    if notice:
        st.warning(md(notice))
    with st.form("login"):
        username = st.text_input("User name", key="login_user")
        password = st.text_input("Password", type="password", key="login_password")
        submitted = st.form_submit_button("Sign in")
    if submitted:
        try:
            actor = accounts.log_in(data.settings(), username, password, client())
        except LoginThrottledError as exc:
            st.error(md(exc))
            return None
        if actor is None:
            st.error("Wrong user name or password, or the account is inactive. "
                     "An admin can reset it with `brandpulse users set NAME --password-stdin`.")
            return None
        st.session_state.pop(NOTICE_KEY, None)
        st.session_state[TOKEN_KEY] = actor.session
        st.rerun()  # draw the app without the form
    st.caption("No account yet? An admin adds one with `brandpulse users add NAME --role ROLE`.")
    return None


def sidebar_account(actor: Actor) -> None:
    """Who is signed in (as plain text: a name is never Markdown), and a sign-out button."""
    st.sidebar.text(f"Signed in as {actor.username} · {actor.role.replace('_', ' ')}"
                    + (f" · team {actor.team}" if actor.team else ""))
    if st.sidebar.button("Sign out", key="logout"):
        accounts.sign_out(data.settings(), actor)
        _forget()
        st.rerun()


def allowed_pages(actor: Actor) -> list[str]:
    """The pages this actor may open, in menu order."""
    return pages_for(actor.role)
