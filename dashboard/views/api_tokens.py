"""API tokens and webhooks on the Users page (admins): create a token for a user with scopes,
see its use, revoke it; see each webhook subscription's state, why a disabled one stopped, and
enable it again.

A new token's secret is shown once, in a code box to copy; only its hash is stored.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from brandpulse.core.errors import BrandpulseError
from brandpulse.services.access import SCOPES, Actor
from brandpulse.services.tokens import create_token, list_tokens, revoke_token
from brandpulse.services.webhooks import enable_subscription, list_subscriptions
from dashboard.safe import md


def render(settings, actor: Actor, users: list[dict]) -> None:
    st.subheader("API tokens")
    st.caption("A token acts as its user, within its scopes; a user's current role always caps it.")
    tokens = list_tokens(settings, actor)
    if tokens:
        shown = [{"id": t["id"], "name": t["name"], "prefix": t["prefix"] + "…", "user": t["user"],
                  "scopes": ", ".join(t["scopes"]), "last used": t["last_used_at"], "expires": t["expires_at"],
                  "state": t["state"]} for t in tokens]
        st.dataframe(pd.DataFrame(shown), hide_index=True, width="stretch")  # cells are plain text
    active = {u["id"]: u for u in users if u["active"]}
    with st.form("add_token", clear_on_submit=True):
        st.markdown("**Create a token**")
        name = st.text_input("What it is for", key="token_name", max_chars=100, placeholder="crm")
        who = st.selectbox("Acts as", list(active), format_func=lambda i: f"{active[i]['username']} "
                           f"({active[i]['role']})", key="token_user")
        scopes = st.multiselect("Scopes", list(SCOPES), key="token_scopes",
                                help="only those the user's role allows are accepted")
        days = st.number_input("Expires after (days)", 1, 3650, settings.api.token_days, key="token_days")
        if st.form_submit_button("Create token"):
            try:
                secret, token = create_token(settings, actor, name=name, scopes=scopes, user_id=who,
                                             days=int(days))
                st.success(f"token {md(token['name'])} created for {md(token['user'])}; copy it now, "
                           "it is not shown again:")
                st.code(secret, language=None)
            except BrandpulseError as exc:
                st.error(md(str(exc)))
    live = [t for t in tokens if t["state"] == "active"]
    if live:
        with st.form("revoke_token"):
            pick = st.selectbox("Token", [t["id"] for t in live], key="revoke_token_id",
                                format_func=lambda i: next(f"#{t['id']} {t['name']} ({t['user']})"
                                                           for t in live if t["id"] == i))
            if st.form_submit_button("Revoke"):
                try:
                    revoke_token(settings, actor, pick)
                    st.success("token revoked; requests with it are refused from now on")
                except BrandpulseError as exc:
                    st.error(md(str(exc)))


def render_webhooks(settings, actor: Actor) -> None:
    st.subheader("Webhooks")
    subscriptions = list_subscriptions(settings, actor)
    if not subscriptions:
        st.caption("No subscriptions: other systems subscribe through the API (/v1/webhooks) or "
                   "`brandpulse webhooks add`.")
        return
    shown = [{"id": s["id"], "url": s["url"], "events": ", ".join(s["event_types"]), "state": s["state"],
              "why disabled": s["disabled_reason"] or "", "pending": s["deliveries"].get("pending", 0),
              "delivered": s["deliveries"].get("delivered", 0), "dead": s["deliveries"].get("dead", 0)}
             for s in subscriptions]
    st.dataframe(pd.DataFrame(shown), hide_index=True, width="stretch")  # cells are plain text
    disabled = [s for s in subscriptions if s["state"] == "disabled"]
    for s in disabled:
        st.warning(f"Subscription #{s['id']} is disabled: {md(s['disabled_reason'] or 'no reason given')}")
    if disabled and st.button("Enable the disabled subscriptions again", key="webhooks_enable"):
        try:
            for s in disabled:
                enable_subscription(settings, actor, s["id"])
            st.success("enabled; their deliveries resume, `brandpulse webhooks replay` re-sends dead ones")
        except BrandpulseError as exc:
            st.error(md(str(exc)))
