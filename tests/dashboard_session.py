"""The dashboard in streamlit.testing's AppTest, signed in as a user: the steps every dashboard
test starts with."""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")


def sign_in(app: AppTest, username: str, password: str) -> AppTest:
    """Fill the sign-in form of a fresh ``app`` and submit it."""
    app.run()
    app.text_input(key="login_user").set_value(username)
    app.text_input(key="login_password").set_value(password)
    app.button[0].click().run()
    return app


def signed_in(username: str, password: str, query: dict[str, str] | None = None,
              timeout: float = 60) -> AppTest:
    """A new dashboard (Streamlit caches cleared, ``query`` in its address) after ``username``
    signed in with ``password``; the config is whatever BRANDPULSE_CONFIG points at."""
    st.cache_data.clear()
    st.cache_resource.clear()
    app = AppTest.from_file(APP, default_timeout=timeout)
    app.query_params.update(query or {})
    return sign_in(app, username, password)
