"""One router per resource, all mounted under /v1."""

from api.routers import mentions

ROUTERS = [mentions.router]
