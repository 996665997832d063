"""The pipeline stages the CLI and the scheduler both call: collect → analyze → triage → alerts."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Callable

from brandpulse.services.alerting import evaluate_alerts
from brandpulse.core.settings import Settings
from brandpulse.services.triage import triage_new
from nlp.analyzer import Analyzer, build_analyzer
from nlp.stage import Doc
from store.analyses import (
    claim_mentions_for_analysis,
    mark_analysis_failed,
    release_claims,
    save_analyses,
)
from store.engine import session_scope
from store.leases import exclusive
from store.maintenance import keep_statistics_fresh
from store.rollups import refresh_rollups
from store.search import refresh_search_index


@dataclass
class AnalyzeResult:
    """Counts of one analysis run."""
    analysed: int = 0
    unsupported_language: int = 0
    failed: int = 0
    model: str = ""

    @property
    def handled(self) -> int:
        return self.analysed + self.unsupported_language + self.failed

    def add_batch(self, results: dict[int, dict], failures: dict[int, str]) -> None:
        """Count one saved batch."""
        self.failed += len(failures)
        self.unsupported_language += sum(1 for r in results.values() if not r["language_supported"])
        self.analysed += sum(1 for r in results.values() if r["language_supported"])


def score_claimed(settings: Settings, analyzer: Analyzer, claimed: list[tuple[int, str, str | None]]
                  ) -> tuple[dict[int, dict], dict[int, str]]:
    """Score claimed (id, text, language) mentions: (results by id, errors by id). If the analyzer
    fails as a whole, the claims are given back before the error goes on."""
    docs = [Doc(key=mid, text=text or "", fields={"source_language": language}) for mid, text, language in claimed]
    try:
        analyzer.analyze(docs)
    except BaseException:
        with session_scope(settings.database.url) as session:
            release_claims(session, [doc.key for doc in docs])
        raise
    return ({doc.key: analyzer.result(doc) for doc in docs if not doc.error},
            {doc.key: doc.error for doc in docs if doc.error})


def analyze_pending(settings: Settings, limit: int | None = None,
                    progress: Callable[[int], None] | None = None,
                    analyzer: Analyzer | None = None) -> AnalyzeResult:
    """Analyse pending mentions in batches; a failing mention is recorded and skipped.

    Each batch is claimed first, so workers in other processes never analyse it too.
    """
    analyzer = analyzer or build_analyzer(settings)
    result = AnalyzeResult(model=f"{analyzer.model_name}@{analyzer.model_version}")
    batch_size = settings.nlp.batch_size
    while limit is None or result.handled < limit:
        size = batch_size if limit is None else min(batch_size, limit - result.handled)
        with session_scope(settings.database.url) as session:
            pending = claim_mentions_for_analysis(session, size)
        if not pending:
            break
        results, failures = score_claimed(settings, analyzer, pending)
        with session_scope(settings.database.url) as session:
            save_analyses(session, results)
            mark_analysis_failed(session, failures)
        result.add_batch(results, failures)
        if progress:
            progress(len(pending))
    if result.handled:
        refresh_overview(settings)
    return result


_ANALYZE_TEXTS = threading.Lock()  # one request's texts at a time: the analyzer already uses every core


def analyze_texts(settings: Settings, actor, items: list[tuple[str, str, str | None]]) -> list[dict]:
    """Score raw (id, text, language or None) items with the pipeline's own analyzer, storing nothing:
    one object of the ``brandpulse nlp predict`` contract per item, in order (any role may, as the
    Mentions page). The model is loaded once per process (offline: never from the network)."""
    from brandpulse.services.access import require_page
    from brandpulse.services.accounts import authorize
    from nlp.predict import BATCH, prediction

    require_page(authorize(settings, actor), "Mentions")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before transformers is first imported
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    docs = [Doc(key=key, text=text, fields={"source_language": language}) for key, text, language in items]
    with _ANALYZE_TEXTS:
        analyzer = build_analyzer(settings)
        for start in range(0, len(docs), BATCH):  # the batches `nlp predict` makes
            analyzer.analyze(docs[start:start + BATCH])
        return [prediction(analyzer, doc) for doc in docs]


def refresh_overview(settings: Settings) -> int:
    """Recount the overview's daily rollups for every day touched since the last refresh, and add
    new mentions to the text-search index; return how many days were recounted. One process
    refreshes at a time; another waits for it (its days are counted then)."""
    with exclusive(settings.database.url, "refresh-overview", 600) as mine:
        if not mine:
            return 0
        with session_scope(settings.database.url) as session:
            days = refresh_rollups(session)
            keep_statistics_fresh(session, refresh_search_index(session))
            return days


@dataclass
class PipelineResult:
    """What one full pass did."""
    collected: int
    analysis: AnalyzeResult
    tickets: int
    alerts: int


def run_pipeline_once(settings: Settings, collect: bool = True) -> PipelineResult:
    """One pass of every stage: collect enabled sources, analyse, triage, alert."""
    from brandpulse.services.collecting import collect_all

    collected = sum(r.stored for r in collect_all(settings)) if collect else 0
    analysis = analyze_pending(settings)
    tickets = triage_new(settings)
    alerts = run_alerts(settings)
    return PipelineResult(collected, analysis, tickets, alerts)


def run_alerts(settings: Settings) -> int:
    """Evaluate the alert rules, then deliver what fired; return how many alerts fired."""
    from brandpulse.services.delivery import deliver_pending

    fired = evaluate_alerts(settings)
    deliver_pending(settings)
    return fired
