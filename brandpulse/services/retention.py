"""Retention: remove what is older than ``retention:`` allows, in batches, audited.

- ``raw_days``: raw payloads of posts older than that are emptied;
- ``text_days``: post text (and its search-index copy) is erased, the link kept, authors with
  no post and no update since lose their profile fields (name, counts, link), and alerts fired
  before then no longer quote posts' text in their evidence;
- ``closed_ticket_days``: tickets closed longer ago are deleted with their history and replies.

Counts, analyses, brand links and the dashboard rollups stay, so totals do not change. Each
batch commits on its own: a stopped run resumes where it left off. A dry run counts only.
Removed bytes leave no copy behind, as with a forget: SQLite zeroes them (``secure_delete``), merges
the search index and truncates the WAL; PostgreSQL VACUUMs the tables.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from brandpulse.core.settings import Settings
from brandpulse.services.access import Actor
from brandpulse.services.accounts import authorize
from store import retention as store
from store.engine import session_scope
from store.forgetting import protect_deleted_bytes, wipe_traces
from store.leases import exclusive
from store.models import utcnow

LEASE, LEASE_SECONDS = "retention", 3600  # one run at a time; a killed run's lease lapses in an hour
KINDS = ("texts", "author_profiles", "alert_quotes", "raw_payloads", "closed_tickets")
Progress = Callable[[str, int], None]  # (kind, rows done so far in this kind)


@dataclass
class RetentionReport:
    """What a retention run removed (or, dry, would remove), per kind, and how fast."""
    dry_run: bool
    cutoffs: dict[str, datetime | None]
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    seconds: float = 0.0
    erasure_id: int | None = None
    busy: bool = False  # another process was applying retention: this run did nothing

    @property
    def rows(self) -> int:
        return sum(self.counts.values())

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def _cutoffs(settings: Settings, now: datetime) -> dict[str, datetime | None]:
    kept = settings.retention
    days = {"texts": kept.days("text"), "author_profiles": kept.days("text"), "alert_quotes": kept.days("text"),
            "raw_payloads": kept.days("raw"),
            "closed_tickets": kept.days("closed_ticket")}
    return {kind: now - timedelta(days=value) if value else None for kind, value in days.items()}


def _count(url: str, cutoffs: dict[str, datetime | None]) -> dict[str, int]:
    questions = {"texts": store.how_many_mentions_hold_text_before,
                 "author_profiles": store.how_many_authors_are_silent_since,
                 "alert_quotes": store.how_many_alerts_quote_posts_before,
                 "raw_payloads": store.how_many_mentions_hold_raw_before,
                 "closed_tickets": store.how_many_tickets_closed_before}
    counts = dict.fromkeys(KINDS, 0)
    with session_scope(url) as session:
        for kind, cutoff in cutoffs.items():
            if cutoff is not None:
                counts[kind] = questions[kind](session, cutoff)
    if cutoffs["texts"] is not None and cutoffs["raw_payloads"] is not None:  # erasing text empties raw too
        with session_scope(url) as session:
            counts["raw_payloads"] -= store.how_many_mentions_hold_raw_before(
                session, min(cutoffs["raw_payloads"], cutoffs["texts"]), unerased_only=True)
    return counts


def _walk(url: str, find, change, cutoff: datetime, size: int, progress, kind: str, audit: int, start=None,
          ids_of=lambda rows: rows) -> int:
    """Find and change ``size`` rows per committed batch, each batch resuming after the last row of
    the one before (``start`` first) and counted in the ``audit`` row with it, until ``find`` returns
    nothing; return how many changed."""
    done, resume = 0, start
    while True:
        with session_scope(url) as session:
            store.start_writing(session)
            protect_deleted_bytes(session)  # SQLite zeroes what a batch removes
            rows = find(session, cutoff, resume, size)
            if rows:
                changed = change(session, ids_of(rows))
                store.count_retention_batch(session, audit, kind, changed)
                done += changed
            protect_deleted_bytes(session, on=False)
        if not rows:
            return done
        resume = rows[-1]
        if progress:
            progress(kind, done)


def _walk_mentions(url: str, find, change, cutoff: datetime, size: int, progress, kind: str, audit: int) -> int:
    """:func:`_walk` over (created_at, id) rows of mentions."""
    return _walk(url, find, change, cutoff, size, progress, kind, audit, None, lambda rows: [mid for _, mid in rows])


def _walk_ids(url: str, find, change, cutoff: datetime, size: int, progress, kind: str, audit: int) -> int:
    """:func:`_walk` over ids, from the first."""
    return _walk(url, find, change, cutoff, size, progress, kind, audit, 0)


def apply_retention(settings: Settings, actor: Actor | None = None, dry_run: bool = False, *,
                    by: str = "scheduler", now: datetime | None = None,
                    progress: Progress | None = None) -> RetentionReport:
    """Remove what is older than the retention settings (see the module text); with ``dry_run``
    only count it. ``actor`` (an admin) is checked and named in the audit log; without one the
    run is recorded as ``by`` (the scheduler, the command line)."""
    if actor is not None:
        actor = authorize(settings, actor, "retention.apply")
        by = actor.username
    url, size = settings.database.url, settings.retention.batch_size
    cutoffs = _cutoffs(settings, now or utcnow())
    report = RetentionReport(dry_run=dry_run, cutoffs=cutoffs)
    started = time.perf_counter()
    if dry_run or not any(cutoffs.values()):
        report.counts = _count(url, cutoffs) if dry_run else report.counts
        report.seconds = time.perf_counter() - started
        return report
    with exclusive(url, LEASE, LEASE_SECONDS, wait_seconds=0) as mine:
        if mine:
            _remove(url, report, by, size, progress)
        report.busy = not mine  # another process is applying retention right now
    report.seconds = time.perf_counter() - started
    return report


def _remove(url: str, report: RetentionReport, by: str, size: int, progress: Progress | None) -> None:
    cutoffs = report.cutoffs
    scope = " ".join(f"{kind}<{cutoff:%Y-%m-%d}" for kind, cutoff in cutoffs.items() if cutoff)
    with session_scope(url) as session:  # committed first: a run that was stopped shows as running
        audit = report.erasure_id = store.open_retention_run(session, by, scope)
    walks = []
    if cutoffs["texts"]:
        walks += [("texts", _walk_mentions, store.which_mentions_hold_text_before, store.erase_old_texts),
                  ("author_profiles", _walk_ids, store.which_authors_are_silent_since, store.erase_old_profiles),
                  ("alert_quotes", _walk_ids, store.which_alerts_fired_before, store.erase_alert_quotes)]
    if cutoffs["raw_payloads"]:
        walks.append(("raw_payloads", _walk_mentions, store.which_mentions_hold_raw_before, store.empty_raw))
    if cutoffs["closed_tickets"]:
        walks.append(("closed_tickets", _walk_ids, store.which_tickets_closed_before, store.delete_tickets))
    for kind, walk, find, change in walks:
        report.counts[kind] = walk(url, find, change, cutoffs[kind], size, progress, kind, audit)
    with session_scope(url) as session:
        if not any(store.close_retention_run(session, audit).values()):
            report.erasure_id = None  # nothing removed: no audit row
    if report.rows and (cutoffs["texts"] or cutoffs["raw_payloads"]):
        wipe_traces(url)  # no old copy of removed text in the search index, the WAL or dead rows
