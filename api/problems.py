"""Errors as RFC 9457 problem details (``application/problem+json``), translated at the edge.

Every brandpulse error already says what failed, on what input and what to do; here it only
gets its HTTP status. Bad input (422) names each field at fault.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from brandpulse.core.errors import (
    AccessDeniedError,
    ApiTokenError,
    BrandpulseError,
    NotFoundError,
    StaleTicketError,
    StoreError,
    WorkflowError,
)
from brandpulse.core.redaction import redact_secrets

log = logging.getLogger(__name__)
MEDIA_TYPE = "application/problem+json"

# most specific first
STATUSES: list[tuple[type[BrandpulseError], int, str]] = [
    (ApiTokenError, 401, "unauthenticated"),
    (AccessDeniedError, 403, "forbidden"),
    (NotFoundError, 404, "not-found"),
    (StaleTicketError, 412, "stale-write"),
    (WorkflowError, 409, "conflict"),
    (StoreError, 503, "store-unavailable"),
    (BrandpulseError, 422, "invalid-request"),
]
TITLES = {400: "Bad request", 401: "Not authenticated", 403: "Not allowed", 404: "Not found",
          405: "Method not allowed", 409: "Conflict", 412: "Precondition failed", 413: "Content too large",
          422: "Invalid request", 429: "Too many requests", 500: "Internal error", 503: "Service unavailable"}


class ApiProblem(Exception):
    """A problem raised by the API layer itself (rate limit, bad cursor, idempotency clash)."""

    def __init__(self, status: int, slug: str, detail: str, headers: dict[str, str] | None = None,
                 **extra) -> None:
        super().__init__(detail)
        self.status, self.slug, self.detail, self.headers, self.extra = status, slug, detail, headers or {}, extra


def problem(request: Request, status: int, slug: str, detail: str, headers: dict[str, str] | None = None,
            **extra) -> JSONResponse:
    """A problem+json response: type, title, status, detail, instance and any extra members."""
    body = {"type": f"https://brandpulse.dev/problems/{slug}", "title": TITLES.get(status, "Error"),
            "status": status, "detail": redact_secrets(detail), "instance": request.url.path, **extra}
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def status_of(exc: BrandpulseError) -> tuple[int, str]:
    """The HTTP status and problem slug of a brandpulse error."""
    return next((status, slug) for kind, status, slug in STATUSES if isinstance(exc, kind))


def _field(loc: tuple) -> str:
    parts = [str(p) for p in loc]
    where = parts[0] if parts else ""
    path = ".".join(p for p in parts[1:])
    return f"{where}.{path}" if path else where


def install(app: FastAPI) -> None:
    """Make every error of ``app`` a problem+json response."""

    @app.exception_handler(ApiProblem)
    async def _api_problem(request: Request, exc: ApiProblem):
        return problem(request, exc.status, exc.slug, exc.detail, exc.headers, **exc.extra)

    @app.exception_handler(BrandpulseError)
    async def _brandpulse(request: Request, exc: BrandpulseError):
        status, slug = status_of(exc)
        headers = {"WWW-Authenticate": 'Bearer realm="brandpulse"'} if status == 401 else None
        detail = str(exc)
        if isinstance(exc, StoreError):  # names the database (host, path): for the log, not for callers
            log.error("API request %s %s: %s", request.method, request.url.path, redact_secrets(detail))
            detail = ("the database did not answer this request; try again in a few seconds (the server "
                      "log says why)")
            headers = {"Retry-After": "5"}
        return problem(request, status, slug, detail, headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        errors = [{"field": _field(tuple(e.get("loc", ()))), "message": e.get("msg", "invalid")}
                  for e in exc.errors()]
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        kind = request.headers.get("content-type", "")
        if any(e["field"] == "body" for e in errors) and "json" not in kind.lower():
            summary += (f" (the body came as {kind[:60]!r}" if kind else " (the body came without a Content-Type") \
                + "; send JSON with Content-Type: application/json)"
        return problem(request, 422, "invalid-request", f"the request has invalid fields: {summary}; "
                       "fix them and send it again", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no such endpoint: {request.method} {request.url.path}; see /docs for the API"
        elif exc.status_code == 405:
            headers = {k.lower(): v for k, v in (getattr(exc, "headers", None) or {}).items()}
            allowed = headers.get("allow", "another method")
            detail = f"{request.method} is not allowed on {request.url.path}; use {allowed} (see /docs)"
        elif exc.status_code == 400 and detail == "There was an error parsing the body":
            detail = (f"the body of this {request.method} could not be read as JSON (not UTF-8, or nested "
                      "too deeply); send a JSON object with Content-Type: application/json")
        return problem(request, exc.status_code, TITLES.get(exc.status_code, "error").lower().replace(" ", "-"),
                       detail, getattr(exc, "headers", None))

    app.exception_handler(Exception)(unexpected)


async def unexpected(request: Request, exc: Exception) -> JSONResponse:
    """The 500 problem of an error nobody expected (logged with its traceback)."""
    log.error("API request %s %s failed", request.method, request.url.path, exc_info=exc)
    return problem(request, 500, "internal-error", f"the server failed on this request "
                   f"({type(exc).__name__}); it is logged, try again or report it")
