"""The FastAPI application: versioned under /v1, problem+json errors, OpenAPI 3.1 at /openapi.json."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles

from api import problems
from api.limits import limiter_for
from api.idempotency import IdempotencyMiddleware
from api.routers import ROUTERS
from brandpulse.core.settings import Settings

MAX_BODY_BYTES = 16 * 1024 * 1024  # 1000 texts or events of a usual size fit many times over
STATIC = Path(__file__).resolve().parent / "static"  # Swagger UI 5 (Apache-2.0), vendored from npm
DESCRIPTION = """\
brandpulse's open API: the mentions it heard, what the model made of them, the care tickets,
alerts, influencers and share of voice; customers and their events from other systems; and
signed webhooks for every change.

Authenticate with `Authorization: Bearer <token>` (`brandpulse tokens create`). A token acts as
its user, within its scopes. Lists page with `cursor` (from `next_cursor`). Every POST accepts an
`Idempotency-Key`. Errors are RFC 9457 problem details.
"""


def create_app(settings: Settings) -> FastAPI:
    """The API application over ``settings``' database."""
    app = FastAPI(title="brandpulse API", version="1.0.0", description=DESCRIPTION,
                  openapi_url="/openapi.json", docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.limiter = limiter_for(settings)  # per process, or shared in Redis (limits.redis_url)
    problems.install(app)
    app.add_middleware(IdempotencyMiddleware)

    @app.middleware("http")
    async def _rate_headers(request: Request, call_next):
        try:
            response = await call_next(request)
        except Exception as exc:  # answered here, so the connection stays open for the client's next request
            response = await problems.unexpected(request, exc)
        for name, value in getattr(request.state, "rate_headers", {}).items():
            response.headers.setdefault(name, value)
        return response

    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/docs", include_in_schema=False)
    def docs():  # Swagger UI served from this package: the docs work without internet
        return get_swagger_ui_html(openapi_url="/openapi.json", title="brandpulse API",
                                   swagger_js_url="/static/swagger-ui/swagger-ui-bundle.js",
                                   swagger_css_url="/static/swagger-ui/swagger-ui.css",
                                   swagger_favicon_url="/static/swagger-ui/favicon-32x32.png")

    for router in ROUTERS:
        app.include_router(router, prefix="/v1")
    return app


class BodyLimit:
    """Refuses a body over ``limit`` bytes with 413: at once by its Content-Length, else once the stream
    passes it (the application then sees the client gone, and whatever it answers is replaced)."""

    def __init__(self, app, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            return await self._refuse(scope, send)
        seen, started, too_large = 0, False, False

        async def counted():
            nonlocal seen, too_large
            if too_large:
                return {"type": "http.disconnect"}
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                too_large = True
                return {"type": "http.disconnect"}
            return message

        async def watched(message) -> None:
            nonlocal started
            if too_large and not started:
                return  # the 413 below answers instead
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except Exception:
            if not too_large or started:
                raise
        if too_large and not started:
            await self._refuse(scope, send)

    async def _refuse(self, scope, send) -> None:
        detail = (f"the request body is over {self.limit // (1024 * 1024)} MiB; send fewer texts or events "
                  "per request (several smaller requests)")
        response = problems.problem(Request(scope), 413, "content-too-large", detail, {"Connection": "close"})
        await response(scope, None, send)
