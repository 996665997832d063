"""Users (admins only): who may sign in, with which role and team.

Names are shown as plain text or escaped, never as Markdown; new users start with the least
privileged role, and the service refuses names outside the rule and demoting the last admin.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from brandpulse.services.access import ROLES, Actor, least_privileged_role
from brandpulse.services.accounts import USERNAME_RULE, change_user, create_user, list_users
from brandpulse.core.errors import BrandpulseError
from dashboard import data
from dashboard.views import api_tokens, people
from dashboard.safe import md


def render(actor: Actor) -> None:
    st.header("Users")
    settings = data.settings()
    users = list_users(settings, actor)
    st.dataframe(pd.DataFrame(users), hide_index=True, width="stretch")  # cells are plain text
    teams = [""] + [t.name for t in settings.care.teams]
    with st.form("add_user", clear_on_submit=True):
        st.markdown("**Add a user**")
        name = st.text_input("User name", key="new_user_name", max_chars=100, help=USERNAME_RULE)
        password = st.text_input("Password (8+ characters)", type="password", key="new_user_password")
        role = st.selectbox("Role", ROLES, index=ROLES.index(least_privileged_role()), key="new_user_role")
        team = st.selectbox("Team (care roles)", teams, key="new_user_team")
        if st.form_submit_button("Add user"):
            try:
                create_user(settings, actor, name, password, role, team or None)
                st.success(f"added {md(name.strip())}")
            except BrandpulseError as exc:
                st.error(md(str(exc)))
    names = {u["id"]: u["username"] for u in users}
    with st.form("change_user"):
        st.markdown("**Change a user**")
        who = st.selectbox("User", list(names), format_func=names.get, key="edit_user")
        role = st.selectbox("Role", ("(keep)",) + ROLES, key="edit_role")
        team = st.selectbox("Team", ["(keep)"] + teams, key="edit_team")
        state = st.selectbox("Sign-in", ["(keep)", "active", "inactive"], key="edit_active")
        if st.form_submit_button("Save"):
            try:
                change_user(settings, actor, who, role=None if role == "(keep)" else role,
                            team=None if team == "(keep)" else team,
                            active=None if state == "(keep)" else state == "active")
                st.success(f"updated {md(names[who])}")
            except BrandpulseError as exc:
                st.error(md(str(exc)))
    api_tokens.render(settings, actor, users)
    api_tokens.render_webhooks(settings, actor)
    people.render(settings, actor)
