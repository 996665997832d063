"""The login gate: nobody sees a page before signing in, and each page checks the role."""

from __future__ import annotations

import streamlit as st

from brandpulse.access import Actor, pages_for
from brandpulse.accounts import log_in
from dashboard import data

SESSION_KEY = "actor"


def current_actor() -> Actor | None:
    """The signed-in user of this browser session, if any."""
    return st.session_state.get(SESSION_KEY)


def login_form() -> Actor | None:
    """Draw the sign-in form; return the Actor once the name and password are right."""
    st.title("brandpulse")
    with st.form("login"):
        username = st.text_input("User name", key="login_user")
        password = st.text_input("Password", type="password", key="login_password")
        submitted = st.form_submit_button("Sign in")
    if submitted:
        actor = log_in(data.settings(), username, password)
        if actor is None:
            st.error("Wrong user name or password, or the account is inactive. "
                     "An admin can reset it with `brandpulse users set NAME --password-stdin`.")
            return None
        st.session_state[SESSION_KEY] = actor
        st.rerun()  # draw the app without the form
    st.caption("No account yet? An admin adds one with `brandpulse users add NAME --role ROLE`.")
    return None


def sidebar_account(actor: Actor) -> None:
    """Who is signed in, and a sign-out button."""
    st.sidebar.caption(f"Signed in as **{actor.username}** · {actor.role.replace('_', ' ')}"
                       + (f" · team {actor.team}" if actor.team else ""))
    if st.sidebar.button("Sign out", key="logout"):
        for key in list(st.session_state):
            del st.session_state[key]
        st.rerun()


def allowed_pages(actor: Actor) -> list[str]:
    """The pages this actor may open, in menu order."""
    return pages_for(actor.role)
