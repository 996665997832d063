"""One router per resource, all mounted under /v1."""

from api.routers import mentions
from api.routers import analyze, brands, influencers
from api.routers import customers
from api.routers import tickets
from api.routers import alerts
from api.routers import webhooks
from api.routers import people

ROUTERS = [mentions.router, brands.router, influencers.router, analyze.router, customers.router, tickets.router, alerts.router, webhooks.router,
           people.router]
