"""What the queue's jobs do, on PostgreSQL workers: each calls the same services as `run` on
SQLite, and every effect is idempotent, so a retried job never changes anything twice."""

from __future__ import annotations

import logging
import threading

from brandpulse.core.errors import ConfigError
from brandpulse.core.settings import Settings, tracked_brands
from brandpulse.services.pipeline import AnalyzeResult, score_claimed
from nlp.analyzer import Analyzer, build_analyzer
from store.analyses import mark_analysis_failed, save_analyses
from store.analysis_claims import (
    claim_these_mentions,
    which_claims_are_still_open,
    which_mentions_await_analysis,
)
from store.engine import session_scope
from store.job_queue import enqueue_analysis, enqueue_job, which_jobs_are_queued

log = logging.getLogger("brandpulse.jobs")
SWEEP_BATCHES = 20  # analysis jobs one sweep adds at most
# what an analysis that scored something asks for next (each waits at most once: queueing lock)
AFTER_ANALYSIS = (("triage", "triage"), ("alerts", "alerts"), ("insight", "refresh_overview"),
                  ("deliver", "deliver"))


def analyze_mentions(settings: Settings, mention_ids: list[int], take_over: bool = False,
                     analyzer: Analyzer | None = None) -> AnalyzeResult:
    """Analyse the named mentions that still await it, ``nlp.batch_size`` at a time.

    Claims make it safe beside other workers and `brandpulse analyze`: a mention analysed already
    is skipped, and a batch is saved only while its claims are open, so two runs of one job (a
    stalled job retried while its worker lived on) store, ticket and announce it once. Saving
    also defers triage, the alert rules, the overview refresh and webhook delivery, in the same
    transaction.
    """
    analyzer = analyzer or build_analyzer(settings)
    result = AnalyzeResult(model=f"{analyzer.model_name}@{analyzer.model_version}")
    url, size = settings.database.url, settings.nlp.batch_size
    for start in range(0, len(mention_ids), size):
        with session_scope(url) as session:
            claimed = claim_these_mentions(session, mention_ids[start:start + size], take_over)
        if not claimed:
            continue
        results, failures = score_claimed(settings, analyzer, claimed)
        with session_scope(url) as session:
            still_ours = which_claims_are_still_open(session, [mid for mid, _, _ in claimed])
            results = {key: value for key, value in results.items() if key in still_ours}
            failures = {key: value for key, value in failures.items() if key in still_ours}
            save_analyses(session, results)
            mark_analysis_failed(session, failures)
            if results:
                for queue, task in AFTER_ANALYSIS:
                    enqueue_job(session, queue, task, queueing_lock=task)
        result.add_batch(results, failures)
    return result


def sweep_pending(settings: Settings) -> int:
    """While no analysis job waits or runs, defer jobs for mentions still pending (stored before
    the queue existed, or given back by a batch that failed as a whole); return how many."""
    with session_scope(settings.database.url) as session:
        if which_jobs_are_queued(session, "analyze") > 1:  # this sweep itself runs in the queue
            return 0
        ids = which_mentions_await_analysis(session, SWEEP_BATCHES * settings.nlp.batch_size)
        enqueue_analysis(session, ids)
    return len(ids)


COLLECT_LEASE_WAIT_SECONDS = 60  # brands of one source are collected one after the other, not skipped


def collect_job(settings: Settings, source: str, brand: str):
    """One queued collect of (source, brand) under the source's lease, held by this job alone and
    given back when its pass ends: another job of the same source (another brand's, in this
    worker's other threads or in another worker) waits for it up to a minute, then is skipped
    until its next period (a killed worker's lease is taken over at once on its own host, or
    lapses after its time to live)."""
    from brandpulse.services.collecting import collect_leased, process_holder
    from store.leases import give_back_lease

    collector, tracked = find_source(settings, source, brand)
    holder = f"{process_holder()}:{threading.get_ident()}"
    try:
        return collect_leased(settings, collector, tracked, holder, wait_seconds=COLLECT_LEASE_WAIT_SECONDS)
    finally:
        with session_scope(settings.database.url) as session:
            give_back_lease(session, f"collect:{collector.name}", holder)


def find_source(settings: Settings, source: str, brand: str):
    """The enabled collector and the tracked brand a collect job names (ConfigError when config
    no longer has them: the job fails and shows as dead)."""
    from brandpulse.services.collecting import enabled_collectors

    collector = enabled_collectors(settings).get(source)
    tracked = next((b for b in tracked_brands(settings) if b.name == brand), None)
    if collector is None or tracked is None:
        raise ConfigError(f"the job collects {source!r} for {brand!r}, but config.yaml no longer enables "
                          f"that source or tracks that brand; nothing to do (the scheduler stops deferring it)")
    return collector, tracked


def describe(name: str, result) -> str | None:
    """The log line of a finished job, in the words `run` uses on SQLite."""
    if hasattr(result, "stored"):
        return f"{name}: " + ("; ".join(result.errors) if result.skipped else
                              f"stored {result.stored} of {result.fetched} fetched"
                              + (f" ({'; '.join(result.errors)[:300]})" if result.errors else ""))
    if isinstance(result, AnalyzeResult):
        return (f"{name}: analysed {result.analysed}, {result.unsupported_language} in unsupported languages, "
                f"{result.failed} failed") if result.handled else None
    return None
