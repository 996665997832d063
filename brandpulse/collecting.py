"""The collector runner: page → store + cursor in one transaction, health recorded."""

from __future__ import annotations

from dataclasses import dataclass, field

from brandpulse.errors import BrandpulseError, CollectorError, ConfigError, RateLimitedError
from brandpulse.query import parse_query
from brandpulse.settings import BrandSettings, Settings, tracked_brands
from collectors.base import Collector
from store.collectors import (record_collector_failure, record_collector_success, save_cursor,
                              what_cursor_is_saved)
from store.brands import sync_brands
from store.engine import session_scope
from store.mentions import quarantine, save_mentions

MAX_PAGES = 1000


@dataclass
class CollectResult:
    """What one pass of one (source, brand) did."""
    source: str
    brand: str
    pages: int = 0
    fetched: int = 0
    stored: int = 0
    quarantined: int = 0
    rejected_by_query: int = 0
    errors: list[str] = field(default_factory=list)


def enabled_collectors(settings: Settings) -> dict[str, Collector]:
    """The collectors of every enabled source, by source name."""
    from collectors.inbox import InboxCollector
    from collectors.rss import RssCollector

    found: dict[str, Collector] = {}
    if settings.sources.file.enabled:
        found["file"] = InboxCollector(settings.sources.file)
    if settings.sources.rss.enabled:
        found["rss"] = RssCollector(settings.sources.rss)
    return found


def collect_once(settings: Settings, collector: Collector, brand: BrandSettings) -> CollectResult:
    """Fetch pages until the source has no more; each page and its cursor commit together."""
    result = CollectResult(source=collector.name, brand=brand.name)
    url = settings.database.url
    query = parse_query(brand.query)
    with session_scope(url) as session:
        cursor = what_cursor_is_saved(session, collector.name, brand.name)
    try:
        for _ in range(MAX_PAGES):
            page = collector.fetch(brand, cursor)
            matching = [m for m in page.mentions if query.matches(m.text)]
            result.rejected_by_query += len(page.mentions) - len(matching)
            for mention in matching:
                mention.brands = sorted(set(mention.brands) | {brand.name})
            with session_scope(url) as session:
                saved = save_mentions(session, matching)
                for location, reason, payload in page.quarantined:
                    quarantine(session, collector.name, location, reason, payload)
                save_cursor(session, collector.name, brand.name, page.next_cursor)
            result.pages += 1
            result.fetched += len(page.mentions)
            result.stored += saved.inserted
            result.quarantined += len(page.quarantined)
            result.errors.extend(page.partial_errors)
            cursor = page.next_cursor
            if page.done:
                break
    except CollectorError as exc:
        result.errors.append(str(exc))
        with session_scope(url) as session:
            record_collector_failure(session, collector.name, brand.name, str(exc),
                                     exc.until if isinstance(exc, RateLimitedError) else None)
        return result
    with session_scope(url) as session:
        record_collector_success(session, collector.name, brand.name, result.fetched)
    return result


def collect_all(settings: Settings, source: str | None = None,
                brand: str | None = None) -> list[CollectResult]:
    """One pass over every enabled (source, brand), or the ones named."""
    collectors = enabled_collectors(settings)
    if source is not None and source not in collectors:
        raise ConfigError(f"source {source!r} is not enabled; enabled sources: "
                          f"{', '.join(collectors) or 'none'} (set sources.{source}.enabled: true)")
    brands = [b for b in tracked_brands(settings) if brand is None or b.name == brand]
    if brand is not None and not brands:
        raise ConfigError(f"brand {brand!r} is not in config.yaml; configured: "
                          f"{', '.join(b.name for b in settings.brands)}")
    with session_scope(settings.database.url) as session:
        sync_brands(session, settings.brands)
    results = []
    for name, collector in collectors.items():
        if source is None or name == source:
            for item in brands:
                try:
                    results.append(collect_once(settings, collector, item))
                except BrandpulseError as exc:  # one source failing never stops the others
                    results.append(CollectResult(name, item.name, errors=[str(exc)]))
    return results
