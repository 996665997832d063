"""The FastAPI application: versioned under /v1, problem+json errors, OpenAPI 3.1 at /openapi.json."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles

from api import problems
from api.deps import RateLimiter
from api.idempotency import IdempotencyMiddleware
from api.routers import ROUTERS
from brandpulse.core.settings import Settings

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
    app.state.limiter = RateLimiter()
    problems.install(app)
    app.add_middleware(IdempotencyMiddleware)

    @app.middleware("http")
    async def _rate_headers(request: Request, call_next):
        response = await call_next(request)
        for name, value in getattr(request.state, "rate_headers", {}).items():
            response.headers.setdefault(name, value)
        return response

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
