"""What every route depends on: the settings, the calling token (checked, rate limited) and scopes."""

from __future__ import annotations

import math
import threading
import time
from typing import Callable

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.problems import ApiProblem
from brandpulse.core.settings import Settings
from brandpulse.services.access import Actor
from brandpulse.services.tokens import Caller, authenticate

WINDOW_S = 60
_bearer = HTTPBearer(auto_error=False, description="An API token: `brandpulse tokens create`")


class RateLimiter:
    """A fixed one-minute window per token, in this process (one API server per database)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[int, tuple[int, int]] = {}

    def take(self, token_id: int, limit: int, now: float | None = None) -> dict[str, str]:
        """Count one request; the RateLimit headers, or a 429 problem once the window is spent."""
        now = time.time() if now is None else now
        window = int(now // WINDOW_S)
        reset = max(1, math.ceil((window + 1) * WINDOW_S - now))
        with self._lock:
            start, used = self._windows.get(token_id, (window, 0))
            used = used + 1 if start == window else 1
            self._windows[token_id] = (window, used)
        headers = {"RateLimit-Limit": str(limit), "RateLimit-Remaining": str(max(0, limit - used)),
                   "RateLimit-Reset": str(reset), "RateLimit-Policy": f"{limit};w={WINDOW_S}"}
        if used > limit:
            raise ApiProblem(429, "rate-limited", f"this token may make {limit} requests a minute; "
                             f"wait {reset} s and send it again", {**headers, "Retry-After": str(reset)})
        return headers


def settings_of(request: Request) -> Settings:
    """The settings the application was built with."""
    return request.app.state.settings


def caller(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
           settings: Settings = Depends(settings_of)) -> Caller:
    """The token's Caller, re-read from the database on every request, within its rate limit."""
    found = authenticate(settings, credentials.credentials if credentials else None)
    request.state.rate_headers = request.app.state.limiter.take(found.token_id, found.rate_per_minute)
    request.state.caller = found
    return found


def needs(scope: str) -> Callable[..., Actor]:
    """A dependency giving the Actor of a token that holds ``scope`` and whose role allows it now."""
    def dependency(found: Caller = Depends(caller)) -> Actor:
        return found.require(scope)
    dependency.__name__ = f"needs_{scope.replace(':', '_')}"
    return dependency
