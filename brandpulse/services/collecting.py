"""The collector runner: page → store + cursor in one transaction, health recorded."""

from __future__ import annotations

import logging
import os
import socket
from datetime import datetime, timedelta

from brandpulse.core.errors import (
    BrandpulseError,
    CollectorError,
    ConfigError,
    RateLimitedError,
    UsageCappedError,
)
from brandpulse.core.query import parse_query
from brandpulse.services.collect_spend import PageGate, Reservation, Stop, held_as
from brandpulse.services.collect_results import CollectResult, Progress, every_source_failed, unexpected  # noqa: F401
from brandpulse.services.collect_sources import enabled_collectors, enabled_source_names  # noqa: F401
from brandpulse.core.records import Page
from brandpulse.core.redaction import redact_secrets
from brandpulse.core.settings import BrandSettings, Settings, tracked_brands
from collectors.base import Collector, payload_text, problem
from store.brands import sync_brands
from store.collectors import (
    record_collector_degraded,
    record_collector_failure,
    record_collector_success,
    record_gap,
    save_cursor,
    what_cursor_is_saved,
    when_did_source_last_succeed,
    when_may_source_run,
)
from store.engine import session_scope
from store.leases import give_back_lease, take_lease_waiting, who_holds_lease
from store.deletions import erase_deleted_posts
from store.mentions import quarantine, save_mentions
from store.models import utcnow

MAX_PAGES = 1000
log = logging.getLogger("brandpulse.services.collecting")


def _hold(url: str, collector: Collector, brand: str, message: str, until: datetime | None,
          state: str) -> None:
    with session_scope(url) as session:
        record_collector_failure(session, collector.name, brand, message, until, state)


def _store_page(url: str, collector: Collector, brand: BrandSettings, page: Page, matching: list,
                gate: PageGate, reservation: Reservation, read: int):
    """The page's mentions, quarantined items, cursor and spend in one transaction."""
    with session_scope(url) as session:
        saved = save_mentions(session, matching)
        saved.erased += erase_deleted_posts(session, page.deleted, f"collector:{collector.name}")
        page.quarantined.extend((f"{record.network}:{record.native_id}"[:200], reason,
                                 payload_text(record.raw if record.raw is not None else record.text))
                                for record, reason in saved.rejected)
        for location, reason, payload in page.quarantined:
            quarantine(session, collector.name, location, reason, payload)
        save_cursor(session, collector.name, brand.name, page.next_cursor)
        gate.settle(session, reservation, read)
    return saved


def _matching(query, page: Page) -> list:
    """The page's mentions that match the brand query; one whose text is not text is quarantined."""
    matching = []
    for mention in page.mentions:
        try:
            if query.matches(mention.text):
                matching.append(mention)
        except Exception as exc:  # noqa: BLE001 - a collector let an odd record through
            page.quarantined.append((f"{getattr(mention, 'network', '?')}:{getattr(mention, 'native_id', '?')}",
                                     f"the record's text cannot be matched ({problem(exc)})",
                                     payload_text(getattr(mention, "raw", None))))
    return matching


def _fetch(collector: Collector, brand: BrandSettings, cursor: str | None) -> Page:
    """One page; anything but a CollectorError (a library's own bug, a reply of the wrong shape)
    becomes one that names the source, the brand and what to do."""
    try:
        page = collector.fetch(brand, cursor)
    except CollectorError:
        raise
    except Exception as exc:  # noqa: BLE001 - the edge: every other failure is translated here
        raise unexpected(collector.name, brand.name, "fetching a page", exc) from exc
    if not isinstance(page, Page):
        raise CollectorError(f"{collector.name} returned {type(page).__name__} instead of a page for "
                             f"brand {brand.name!r}; this is a bug in the collector", source=collector.name)
    return page


def collect_once(settings: Settings, collector: Collector, brand: BrandSettings,
                 progress: Progress | None = None) -> CollectResult:
    """Fetch pages until the source has no more; each page, its cursor and spend commit together.

    A (source, brand) that is rate-limited, usage-capped or over its daily spend cap is
    skipped until it may run again; other sources are never blocked by it. Before each page a hold
    met by another worker (a 429 on another brand of the source) stops the pass, and a billed
    source reserves the page's worst-case cost within its daily cap (shared by all workers). A cursor that
    comes back unchanged (or comes round again) while the source says there is more ends
    the pass with a partial error instead of reading the same page again. Partial errors
    leave the source 'degraded' in its health, which ``brandpulse doctor`` shows.
    """
    result = CollectResult(source=collector.name, brand=brand.name)
    url = settings.database.url
    query = parse_query(brand.query)
    now = utcnow()
    with session_scope(url) as session:
        cursor = what_cursor_is_saved(session, collector.name, brand.name)
        wait_until, state = when_may_source_run(session, collector.name, brand.name, now)
        last_success = when_did_source_last_succeed(session, collector.name, brand.name)
    if wait_until and wait_until > now:
        result.errors.append(f"{collector.name} is {held_as(state)} until "
                             f"{wait_until:%Y-%m-%d %H:%M} UTC; skipped")
        result.skipped, result.outcome = True, "waiting"
        return result
    gate = PageGate(settings, collector, brand.name)
    visited = {cursor}
    try:
        for _ in range(MAX_PAGES):
            reservation = gate.open(utcnow())
            if isinstance(reservation, Stop):
                stop = reservation
                return _held(url, collector, brand, result, stop.message, stop.until, stop.state)
            try:
                page = _fetch(collector, brand, cursor)
            except BaseException:
                gate.give_back(reservation)
                raise
            matching = _matching(query, page)
            result.rejected_by_query += len(page.mentions) - len(matching)
            for mention in matching:
                mention.brands = sorted(set(mention.brands) | {brand.name})
            read = page.items_read if page.items_read is not None else len(page.mentions)
            saved = _store_page(url, collector, brand, page, matching, gate, reservation, read)
            result.pages += 1
            result.fetched += len(page.mentions)
            result.stored += saved.inserted
            result.erased += saved.erased
            result.suppressed += saved.suppressed
            result.quarantined += len(page.quarantined)
            result.errors.extend(redact_secrets(error) for error in page.partial_errors)
            if progress:
                progress(result, False)
            if page.done:
                break
            if page.next_cursor in visited:
                result.errors.append(f"{collector.name} gave the same cursor again while saying there is "
                                     "more; the pass ended here instead of reading the same page again "
                                     "(the next pass resumes from it)")
                break
            cursor = page.next_cursor
            visited.add(cursor)
    except UsageCappedError as exc:
        return _held(url, collector, brand, result, exc, now + timedelta(hours=24), "usage_capped")
    except RateLimitedError as exc:
        return _held(url, collector, brand, result, exc, exc.until, "rate_limited")
    except CollectorError as exc:
        return _held(url, collector, brand, result, exc, None, "error")
    cadence = getattr(getattr(settings.sources, collector.name, None), "cadence_minutes", None)
    with session_scope(url) as session:
        if last_success and cadence and now - last_success > timedelta(minutes=2 * cadence):
            record_gap(session, collector.name, brand.name, last_success, now, result.fetched)
            result.gap_backfilled = True
        next_run = now + timedelta(minutes=cadence) if cadence else None
        if result.errors:
            record_collector_degraded(session, collector.name, brand.name, result.fetched,
                                      "; ".join(result.errors), next_run)
        else:
            record_collector_success(session, collector.name, brand.name, result.fetched, next_run)
    return result


def _held(url: str, collector: Collector, brand: BrandSettings, result: CollectResult,
          exc: CollectorError | str, until: datetime | None, state: str) -> CollectResult:
    """The pass ended on ``exc`` (or a hold's message): noted in the result and in the source's health."""
    result.errors.append(str(exc))  # a BrandpulseError's text is already masked
    result.outcome = "failed" if state == "error" else "waiting"
    _hold(url, collector, brand.name, str(exc), until, state)
    return result


def process_holder() -> str:
    """This process's name in leases."""
    return f"{socket.gethostname()}:{os.getpid()}"


def collect_leased(settings: Settings, collector: Collector, brand: BrandSettings,
                   holder: str | None = None, progress: Progress | None = None,
                   wait_seconds: float = 0) -> CollectResult:
    """``collect_once`` under the source's lease: skipped while another process holds it (after
    waiting up to ``wait_seconds`` for it: a pass of the source for another brand is short)."""
    holder = holder or process_holder()
    cadence = getattr(getattr(settings.sources, collector.name, None), "cadence_minutes", 5)
    name, ttl = f"collect:{collector.name}", max(120.0, 2 * 60 * cadence)
    # a holder of this machine that crashed frees it at once
    taken = take_lease_waiting(settings.database.url, name, holder, ttl, wait_seconds)
    if not taken:
        with session_scope(settings.database.url) as session:
            owner = who_holds_lease(session, name)
        result = CollectResult(source=collector.name, brand=brand.name, skipped=True, outcome="waiting")
        result.errors.append(f"{collector.name} is being collected by {owner[0] if owner else 'another process'}"
                             "; skipped")
        return result
    return collect_once(settings, collector, brand, progress)


def release_leases(settings: Settings, holder: str | None = None) -> None:
    """Give back every collector lease this process holds (on shutdown)."""
    holder = holder or process_holder()
    with session_scope(settings.database.url) as session:
        for name in enabled_source_names(settings):
            give_back_lease(session, f"collect:{name}", holder)


def _failed(settings: Settings, name: str, brand: str, exc: BaseException) -> CollectResult:
    """A (source, brand) whose pass raised: the error is kept in its result and, when the
    database takes it, in its health, so ``brandpulse doctor`` shows it."""
    error = exc if isinstance(exc, BrandpulseError) else unexpected(name, brand, "collecting", exc)
    try:
        with session_scope(settings.database.url) as session:
            record_collector_failure(session, name, brand, str(error))
    except Exception:  # noqa: BLE001 - the database itself may be what failed
        log.warning("could not record the failure of %s / %s", name, brand, exc_info=True)
    return CollectResult(name, brand, errors=[str(error)], outcome="failed")


def collect_all(settings: Settings, source: str | None = None, brand: str | None = None,
                progress: Progress | None = None) -> list[CollectResult]:
    """One pass over every enabled (source, brand), or the ones named.

    Whatever one (source, brand) raises is recorded in its result and health; the others
    still run. ``progress(result, finished)`` is called as each pair starts, after each
    page, and when it is done.
    """
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
    try:
        for name, collector in collectors.items():
            if source is not None and name != source:
                continue
            for item in brands:
                if progress:
                    progress(CollectResult(name, item.name), False)
                try:
                    result = collect_leased(settings, collector, item, progress=progress)
                except Exception as exc:  # noqa: BLE001 - one source failing never stops the others
                    result = _failed(settings, name, item.name, exc)
                results.append(result)
                if progress:
                    progress(result, True)
    finally:
        release_leases(settings)
    return results
