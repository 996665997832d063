"""A real uvicorn server of the API on a free port, and tokens to call it with (real HTTP via httpx)."""

from __future__ import annotations

import httpx
import pytest

from api.serve import base_url, serve_in_thread
from brandpulse.services.accounts import create_user
from brandpulse.services.tokens import create_token


@pytest.fixture
def api_server():
    """start(settings) -> the base URL of a running API server; stopped after the test."""
    running = []

    def start(settings) -> str:
        server, thread = serve_in_thread(settings, "127.0.0.1", 0)
        running.append((server, thread))
        return base_url(server)

    yield start
    for server, thread in running:
        server.should_exit = True
        thread.join(timeout=10)


def token_for(settings, username: str, role: str, scopes: list[str], *, team: str | None = None,
              rate: int | None = None) -> str:
    """A new user with ``role`` and a token of theirs with ``scopes``."""
    actor = create_user(settings, None, username, "secret-pass-1", role, team)
    secret, _ = create_token(settings, None, name=f"{username}-token", scopes=scopes, user_id=actor.id,
                             rate_per_minute=rate)
    return secret


def client(base: str, token: str | None) -> httpx.Client:
    """An HTTP client of the API sending ``token``."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=base + "/v1", headers=headers, timeout=30)
