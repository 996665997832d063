"""Actions that report their outcome on the next run: do it, remember success or the error, redraw."""

from __future__ import annotations

import streamlit as st

from brandpulse.core.errors import BrandpulseError
from dashboard import data
from dashboard.safe import md

TICKET, INCIDENT = "ticket_flash", "incident_flash"  # where a ticket's and an incident's outcomes wait


def act(where: str, label, action, *args) -> None:
    """Run ``action(settings, *args)``; keep its outcome under ``where`` for the next run and redraw.

    ``label`` is Markdown (user text in it already md()'d), or a function of the action's result
    giving it; an error is shown in its own (escaped) words.
    """
    try:
        result = action(data.settings(), *args)
        st.session_state[where] = ("success", label(result) if callable(label) else label)
    except BrandpulseError as exc:
        st.session_state[where] = ("error", md(exc))
    data.clear_ticket_caches()
    st.rerun()


def show(where: str) -> None:
    """Show (once) the outcome an action left under ``where``."""
    kind, message = st.session_state.pop(where, (None, None))
    if kind:
        getattr(st, kind)(message)
