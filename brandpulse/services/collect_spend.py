"""Before each page: a hold met by any process stops the pass, and a billed source reserves the page.

The daily cap (``sources.<name>.daily_cap_usd``) is a ceiling shared by every worker on the database:
a page is fetched only once its worst-case cost (``max_results`` × ``price_per_post``) is reserved
within what is left of the day's cap; the page's transaction then settles the reservation to what
was really read, and a page that failed gives it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from brandpulse.core.settings import Settings
from collectors.base import Collector
from store.engine import session_scope
from store.spend import reserve_spend, settle_spend, when_may_source_run

DEFAULT_PAGE_ITEMS = 100  # a billed source that does not say its page size is assumed to read this many
HELD_AS = {"rate_limited": "rate limited", "usage_capped": "usage capped", "daily_cap": "at its daily spend cap"}


def held_as(state: str) -> str:
    """A hold's state in words: 'rate limited', 'at its daily spend cap', ..."""
    return HELD_AS.get(state, state.replace("_", " "))


@dataclass
class Reservation:
    """Spend reserved for one page on ``day`` (0 for a source that is not billed)."""
    day: str
    amount: float = 0.0


@dataclass
class Stop:
    """Why the pass may not fetch its next page, until when, and the state it leaves the source in."""
    message: str
    until: datetime | None
    state: str


def _next_midnight(moment: datetime) -> datetime:
    return (moment + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


class PageGate:
    """What a (source, brand) pass asks before each page; the spend of billed sources."""

    def __init__(self, settings: Settings, collector: Collector, brand: str) -> None:
        source = getattr(settings.sources, collector.name, None)
        self.url, self.source, self.brand = settings.database.url, collector.name, brand
        self.price = float(getattr(collector, "price_per_item", 0.0) or 0.0)
        self.cap = getattr(source, "daily_cap_usd", None)
        self.page_items = getattr(source, "max_results", None) or DEFAULT_PAGE_ITEMS

    def open(self, now: datetime) -> Reservation | Stop:
        """A reservation for the next page, or why it must not be fetched (held, or over the cap)."""
        day = now.strftime("%Y-%m-%d")
        worst = self.price * self.page_items
        with session_scope(self.url) as session:
            until, state = when_may_source_run(session, self.source, self.brand, now)
            if until and until > now:
                return Stop(f"{self.source} is {held_as(state)} until {until:%Y-%m-%d %H:%M:%S} UTC "
                            "(met by this or another worker); paused until then", until, state)
            if not self.price:
                return Reservation(day)
            reserved, spent = reserve_spend(session, self.source, self.brand, worst, day, self.cap)
        if reserved:
            return Reservation(day, worst)
        return Stop(f"{self.source} spent ${spent:.2f} today (pages being read by other workers included), "
                    f"its daily cap is ${self.cap:.2f} and a page of up to {self.page_items} posts may cost "
                    f"${worst:.2f}; paused until midnight UTC (raise daily_cap_usd to read more)",
                    _next_midnight(now), "daily_cap")

    def settle(self, session, reservation: Reservation, items_read: int) -> None:
        """In the page's transaction: the reservation becomes what the page really cost."""
        if self.price:
            settle_spend(session, self.source, self.brand, reservation.amount, self.price * items_read,
                         reservation.day)

    def give_back(self, reservation: Reservation) -> None:
        """The page was not read (the fetch failed): its reservation is released."""
        if reservation.amount:
            with session_scope(self.url) as session:
                settle_spend(session, self.source, self.brand, reservation.amount, 0.0, reservation.day)
