"""The one Collector protocol: fetch one page since a cursor; never touch SQL."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from brandpulse.records import Page
from brandpulse.settings import BrandSettings


@runtime_checkable
class Collector(Protocol):
    """A source of mentions. ``fetch`` returns one page and the cursor to resume from.

    The runner stores the page and its cursor in one transaction and calls again
    with ``page.next_cursor`` until ``page.done``; a crash between pages loses
    nothing and duplicates nothing. Errors are raised as ``CollectorError``.
    """

    name: str
    network: str

    def fetch(self, brand: BrandSettings, cursor: str | None) -> Page:
        """One page of normalized mentions about ``brand`` after ``cursor``."""
