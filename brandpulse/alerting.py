"""Alerts: run the rules per brand, store what fires with its evidence, replay history (backtest)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from brandpulse.access import Actor
from brandpulse.alert_rules import WEEK, Finding, HourlySeries, detect, detect_posts
from brandpulse.errors import BrandpulseError
from brandpulse.settings import Settings
from brandpulse.tiers import TIERS, tier_of
from store.alerts import (
    acknowledge_alert,
    how_many_mentions_per_hour,
    save_alert,
    when_did_rule_last_fire,
    when_was_brand_first_mentioned,
    which_complaints_came_from_big_authors,
    which_mentions_lead_window,
    which_mentions_use_words,
)
from store.brands import the_brand_named, which_brands_are_tracked
from store.engine import session_scope
from store.models import utcnow

SERIES_RULES = ("volume_spike", "negative_share", "crisis_keywords")  # one alert per episode (cooldown)


@dataclass
class BrandHistory:
    """Everything the rules read for one brand over a span: hourly series and candidate posts."""
    series: HourlySeries
    data_since: datetime | None
    complaints: list[dict[str, Any]]
    keyword_hits: list[dict[str, Any]]


def _lookback(settings: Settings) -> timedelta:
    rules = settings.alerts
    volume = rules.volume_spike
    return max(timedelta(hours=2 * volume.window_hours) + WEEK * volume.baseline_weeks,
               timedelta(hours=volume.window_hours * (volume.baseline_windows + 1)),
               timedelta(hours=rules.negative_share.window_hours, days=rules.negative_share.baseline_days),
               timedelta(hours=rules.crisis_keywords.window_hours))


def load_history(session, settings: Settings, brand_id: int, since: datetime, until: datetime) -> BrandHistory:
    """Read a brand's series and candidate posts for windows ending between ``since`` and ``until``."""
    rules = settings.alerts
    start = since - _lookback(settings)
    min_followers = dict(TIERS)[rules.influencer_complaint.min_tier]
    complaints = which_complaints_came_from_big_authors(session, brand_id, since - timedelta(hours=1), until,
                                                        min_followers) if rules.influencer_complaint.enabled else []
    for post in complaints:
        post["tier"] = tier_of(post["followers"])
    hits = which_mentions_use_words(session, brand_id, start, until, rules.crisis_keywords.keywords) \
        if rules.crisis_keywords.enabled else []
    return BrandHistory(HourlySeries(how_many_mentions_per_hour(session, brand_id, start, until)),
                        when_was_brand_first_mentioned(session, brand_id), complaints, hits)


def replay(settings: Settings, history: BrandHistory, since: datetime, until: datetime,
           last_fired: dict[str, datetime]) -> list[Finding]:
    """Every finding for windows ending at each hour in [since, until], cooldown applied."""
    cooldown = max(timedelta(minutes=settings.alerts.cooldown_minutes), timedelta(hours=1))
    fired = []
    end = since.replace(minute=0, second=0, microsecond=0)
    while end <= until:
        findings = detect(settings.alerts, history.series, end, history.data_since)
        findings += detect_posts(settings.alerts, history.complaints, history.keyword_hits, end)
        for finding in findings:
            if finding.rule in SERIES_RULES:
                last = last_fired.get(finding.rule)
                if last is not None and end - last < cooldown:
                    continue
                last_fired[finding.rule] = end
            fired.append(finding)
        end += timedelta(hours=1)
    return fired


def evaluate_alerts(settings: Settings, now: datetime | None = None, hours_back: int = 0) -> int:
    """Run the rules for every own brand on windows ending at each hour up to now; store new alerts.

    ``hours_back`` > 0 replays history (the demo, back-fills); cooldown and dedupe keys keep
    one alert per episode. Returns how many alerts were stored.
    """
    now = (now or utcnow()).replace(minute=0, second=0, microsecond=0)
    since = now - timedelta(hours=hours_back)
    stored = 0
    with session_scope(settings.database.url) as session:
        for brand in which_brands_are_tracked(session, include_competitors=False):
            history = load_history(session, settings, brand.id, since, now)
            last_fired = {rule: when for rule in SERIES_RULES
                          if (when := when_did_rule_last_fire(session, brand.id, rule)) is not None}
            for finding in replay(settings, history, since, now, last_fired):
                stored += save_alert(session, _alert_row(session, brand, finding))
                session.flush()
    return stored


def _alert_row(session, brand, finding: Finding) -> dict[str, Any]:
    top = finding.mentions or which_mentions_lead_window(session, brand.id, finding.window_start,
                                                         finding.window_end)
    evidence = {"observed": finding.observed, "baseline": finding.baseline, **finding.detail,
                "window": [finding.window_start.isoformat(), finding.window_end.isoformat()],
                "top_mentions": [{"mention_id": m["mention_id"], "network": m["network"], "text": m["text"][:280]}
                                 for m in top]}
    key = f"{finding.rule}:{brand.id}:" + (finding.key or f"{finding.window_end:%Y%m%dT%H}")
    return {"brand_id": brand.id, "rule": finding.rule, "severity": finding.severity,
            "title": f"{brand.name}: {finding.title}", "evidence": evidence,
            "window_start": finding.window_start, "window_end": finding.window_end,
            "dedupe_key": key, "fired_at": utcnow()}


def backtest(settings: Settings, brand_name: str, since: datetime, until: datetime | None = None) -> list[Finding]:
    """What the rules would have fired for a brand between ``since`` and ``until``; stores nothing."""
    until = (until or utcnow()).replace(minute=0, second=0, microsecond=0)
    if since >= until:
        raise BrandpulseError(f"backtest start {since:%Y-%m-%d %H:%M} is not before its end {until:%Y-%m-%d %H:%M}")
    with session_scope(settings.database.url) as session:
        brand = the_brand_named(session, brand_name)
        history = load_history(session, settings, brand.id, since, until)
    return replay(settings, history, since, until, {})


def acknowledge(settings: Settings, actor: Actor, alert_id: int) -> None:
    """Acknowledge an alert as ``actor`` (roles with alert.acknowledge only, re-read from the store)."""
    from brandpulse.accounts import authorize

    actor = authorize(settings, actor, "alert.acknowledge")
    with session_scope(settings.database.url) as session:
        acknowledge_alert(session, alert_id, actor.id)
