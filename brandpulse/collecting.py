"""The collector runner: page → store + cursor in one transaction, health recorded."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from brandpulse.errors import (
    BrandpulseError,
    CollectorError,
    ConfigError,
    MissingSecretError,
    RateLimitedError,
    UsageCappedError,
)
from brandpulse.query import parse_query
from brandpulse.settings import BrandSettings, Secrets, Settings, tracked_brands
from collectors.base import Collector
from store.brands import sync_brands
from store.collectors import (
    record_collector_failure,
    record_collector_success,
    record_gap,
    record_spend,
    save_cursor,
    what_cursor_is_saved,
    what_did_source_spend_today,
    when_did_source_last_succeed,
    when_may_source_run,
)
from store.engine import session_scope
from store.leases import give_back_lease, take_lease, who_holds_lease
from store.mentions import quarantine, save_mentions
from store.models import utcnow

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
    skipped: bool = False
    gap_backfilled: bool = False
    errors: list[str] = field(default_factory=list)


def _require(secrets: Secrets, source: str) -> None:
    missing = secrets.missing_for(source)
    if missing:
        raise MissingSecretError(f"sources.{source} is enabled but {', '.join(missing)} is not set; "
                                 f"put it in the environment or .env, or disable sources.{source}")


def enabled_collectors(settings: Settings) -> dict[str, Collector]:
    """The collectors of every enabled source, by source name."""
    from collectors.inbox import InboxCollector
    from collectors.rss import RssCollector

    found: dict[str, Collector] = {}
    if settings.sources.file.enabled:
        found["file"] = InboxCollector(settings.sources.file)
    if settings.sources.rss.enabled:
        found["rss"] = RssCollector(settings.sources.rss)
    secrets = Secrets()
    if settings.sources.x.enabled:
        from collectors.x import XCollector

        _require(secrets, "x")
        found["x"] = XCollector(settings.sources.x, secrets.x_bearer_token)
    if settings.sources.reddit.enabled:
        from collectors.reddit import RedditCollector

        _require(secrets, "reddit")
        found["reddit"] = RedditCollector(settings.sources.reddit, secrets.reddit_client_id,
                                          secrets.reddit_client_secret, secrets.reddit_user_agent)
    if settings.sources.mastodon.enabled:
        from collectors.mastodon import MastodonCollector

        found["mastodon"] = MastodonCollector(settings.sources.mastodon, secrets.mastodon_token)
    if settings.sources.bluesky.enabled:
        from collectors.bluesky import BlueskyCollector

        found["bluesky"] = BlueskyCollector(settings.sources.bluesky, secrets.bluesky_handle,
                                            secrets.bluesky_app_password)
    return found


def _next_midnight(moment: datetime) -> datetime:
    return (moment + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


def _hold(url: str, collector: Collector, brand: str, message: str, until: datetime | None,
          state: str) -> None:
    with session_scope(url) as session:
        record_collector_failure(session, collector.name, brand, message, until, state)


def collect_once(settings: Settings, collector: Collector, brand: BrandSettings) -> CollectResult:
    """Fetch pages until the source has no more; each page, its cursor and spend commit together.

    A (source, brand) that is rate-limited, usage-capped or over its daily spend cap is
    skipped until it may run again; other sources are never blocked by it.
    """
    result = CollectResult(source=collector.name, brand=brand.name)
    url = settings.database.url
    query = parse_query(brand.query)
    now = utcnow()
    with session_scope(url) as session:
        cursor = what_cursor_is_saved(session, collector.name, brand.name)
        wait_until, state = when_may_source_run(session, collector.name, brand.name)
        last_success = when_did_source_last_succeed(session, collector.name, brand.name)
    if wait_until and wait_until > now:
        result.errors.append(f"{collector.name} is {state.replace('_', ' ')} until "
                             f"{wait_until:%Y-%m-%d %H:%M} UTC; skipped")
        result.skipped = True
        return result
    price = getattr(collector, "price_per_item", 0.0)
    cap = getattr(getattr(settings.sources, collector.name, None), "daily_cap_usd", None)
    day = now.strftime("%Y-%m-%d")
    try:
        for _ in range(MAX_PAGES):
            if price and cap is not None:
                with session_scope(url) as session:
                    spent = what_did_source_spend_today(session, collector.name, day)
                if spent >= cap:
                    message = (f"{collector.name} spent ${spent:.2f} today, its daily cap is ${cap:.2f}; "
                               "paused until midnight UTC (raise daily_cap_usd to read more)")
                    result.errors.append(message)
                    _hold(url, collector, brand.name, message, _next_midnight(now), "daily_cap")
                    return result
            page = collector.fetch(brand, cursor)
            matching = [m for m in page.mentions if query.matches(m.text)]
            result.rejected_by_query += len(page.mentions) - len(matching)
            for mention in matching:
                mention.brands = sorted(set(mention.brands) | {brand.name})
            read = page.items_read if page.items_read is not None else len(page.mentions)
            with session_scope(url) as session:
                saved = save_mentions(session, matching)
                for location, reason, payload in page.quarantined:
                    quarantine(session, collector.name, location, reason, payload)
                save_cursor(session, collector.name, brand.name, page.next_cursor)
                if price:
                    record_spend(session, collector.name, brand.name, price * read, day)
            result.pages += 1
            result.fetched += len(page.mentions)
            result.stored += saved.inserted
            result.quarantined += len(page.quarantined)
            result.errors.extend(page.partial_errors)
            cursor = page.next_cursor
            if page.done:
                break
    except UsageCappedError as exc:
        result.errors.append(str(exc))
        _hold(url, collector, brand.name, str(exc), now + timedelta(hours=24), "usage_capped")
        return result
    except RateLimitedError as exc:
        result.errors.append(str(exc))
        _hold(url, collector, brand.name, str(exc), exc.until, "rate_limited")
        return result
    except CollectorError as exc:
        result.errors.append(str(exc))
        _hold(url, collector, brand.name, str(exc), None, "error")
        return result
    cadence = getattr(getattr(settings.sources, collector.name, None), "cadence_minutes", None)
    with session_scope(url) as session:
        if last_success and cadence and now - last_success > timedelta(minutes=2 * cadence):
            record_gap(session, collector.name, brand.name, last_success, now, result.fetched)
            result.gap_backfilled = True
        record_collector_success(session, collector.name, brand.name, result.fetched,
                                 now + timedelta(minutes=cadence) if cadence else None)
    return result


def process_holder() -> str:
    """This process's name in leases."""
    return f"{socket.gethostname()}:{os.getpid()}"


def collect_leased(settings: Settings, collector: Collector, brand: BrandSettings,
                   holder: str | None = None) -> CollectResult:
    """``collect_once`` under the source's lease: skipped while another process holds it."""
    holder = holder or process_holder()
    cadence = getattr(getattr(settings.sources, collector.name, None), "cadence_minutes", 5)
    name, ttl = f"collect:{collector.name}", max(120.0, 2 * 60 * cadence)
    with session_scope(settings.database.url) as session:
        taken = take_lease(session, name, holder, ttl)
        owner = None if taken else who_holds_lease(session, name)
        if owner and _is_dead_local_process(owner[0]):  # crashed here: no need to wait for expiry
            give_back_lease(session, name, owner[0])
            taken, owner = take_lease(session, name, holder, ttl), None
    if not taken:
        result = CollectResult(source=collector.name, brand=brand.name, skipped=True)
        result.errors.append(f"{collector.name} is being collected by {owner[0] if owner else 'another process'}"
                             "; skipped")
        return result
    return collect_once(settings, collector, brand)


def _is_dead_local_process(holder: str) -> bool:
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def release_leases(settings: Settings, holder: str | None = None) -> None:
    """Give back every collector lease this process holds (on shutdown)."""
    holder = holder or process_holder()
    with session_scope(settings.database.url) as session:
        for name in enabled_source_names(settings):
            give_back_lease(session, f"collect:{name}", holder)


def enabled_source_names(settings: Settings) -> list[str]:
    """Names of the sources enabled in config.yaml."""
    return [name for name in type(settings.sources).model_fields
            if getattr(settings.sources, name).enabled]


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
                    results.append(collect_leased(settings, collector, item))
                except BrandpulseError as exc:  # one source failing never stops the others
                    results.append(CollectResult(name, item.name, errors=[str(exc)]))
    release_leases(settings)
    return results
