"""What every route depends on: the settings, the calling token (checked, rate limited) and scopes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Callable

from fastapi import Depends, Path, Request
from pydantic import AfterValidator
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.limits import WINDOW_S, RateLimiter  # noqa: F401 (re-exported)
from brandpulse.core.errors import ApiTokenError
from brandpulse.core.records import as_utc
from brandpulse.core.settings import Settings
from brandpulse.services.access import Actor
from brandpulse.services.tokens import PREFIX, Caller, authenticate

MAX_ID = 2**63 - 1  # the largest id a database row can have (BIGINT)


def _utc(moment: datetime) -> datetime:
    try:
        return as_utc(moment)
    except OverflowError:
        raise ValueError("is out of range once taken to UTC; give a time between the years 1 and 9999") from None


Moment = Annotated[datetime, AfterValidator(_utc)]  # a time; without an offset it is taken as UTC
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]  # a stored row's id, in the path
_bearer = HTTPBearer(auto_error=False, description="An API token: `brandpulse tokens create`")


def settings_of(request: Request) -> Settings:
    """The settings the application was built with."""
    return request.app.state.settings


def _secret(request: Request) -> str | None:
    """The token of ``Authorization: Bearer <token>``; an ApiTokenError naming what is wrong with another
    header (never echoing what could be a token)."""
    header = request.headers.get("authorization")
    if header is None or not header.strip():
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() == "bearer":
        return token.strip() or None
    if scheme.startswith(PREFIX) or not token:
        raise ApiTokenError("the Authorization header lacks the word Bearer before the token; put "
                            "`Bearer`, a space, then the token in it")
    named = repr(scheme) if len(scheme) <= 20 and scheme.isalpha() else "an unknown"
    raise ApiTokenError(f"the Authorization header uses {named} scheme, which this API does not take; put "
                        "`Bearer`, a space, then an API token in it (create one with `brandpulse tokens create`)")


def identify(request: Request) -> Caller:
    """The calling token's Caller, re-read from the database once per request, within its rate limit."""
    found = getattr(request.state, "caller", None)
    if found is None:
        found = authenticate(settings_of(request), _secret(request))
        request.state.rate_headers = request.app.state.limiter.take(found.token_id, found.rate_per_minute)
        request.state.caller = found
    return found


def caller(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Caller:
    """The token's Caller (``credentials`` only documents the Bearer scheme in OpenAPI)."""
    return identify(request)


def needs(scope: str) -> Callable[..., Actor]:
    """A dependency giving the Actor of a token that holds ``scope`` and whose role allows it now."""
    def dependency(found: Caller = Depends(caller)) -> Actor:
        return found.require(scope)
    dependency.__name__ = f"needs_{scope.replace(':', '_')}"
    return dependency
