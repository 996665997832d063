"""Alert rules over hourly series: volume spikes and negative-share spikes, stored with evidence."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from brandpulse.access import Actor, require
from brandpulse.settings import Settings
from store.alerts import (
    acknowledge_alert,
    how_many_mentions_per_hour,
    save_alert,
    when_did_rule_last_fire,
    when_was_brand_first_mentioned,
    which_mentions_lead_window,
)
from store.brands import which_brands_are_tracked
from store.buckets import bucket_label
from store.engine import session_scope
from store.models import utcnow


@dataclass
class Finding:
    """A rule that fired on one window, with the numbers that made it fire."""
    rule: str
    title: str
    severity: str
    window_start: datetime
    window_end: datetime
    observed: float
    baseline: float
    detail: dict


def _window_sums(series: dict[str, tuple[int, int, int]], end: datetime, hours: int,
                 count: int) -> list[tuple[int, int, int]]:
    """Sums of (mentions, analysed, negative) for ``count`` windows ending at ``end``, oldest first."""
    sums = []
    for k in range(count, 0, -1):
        start = end - timedelta(hours=hours * k)
        totals = [0, 0, 0]
        for h in range(hours):
            row = series.get(bucket_label(start + timedelta(hours=h), "hour"), (0, 0, 0))
            totals = [a + b for a, b in zip(totals, row)]
        sums.append(tuple(totals))
    return sums


def robust_z(value: float, history: list[float]) -> tuple[float, float]:
    """(z, median): distance from the median in robust standard deviations (MAD, floored)."""
    median = statistics.median(history)
    mad = statistics.median(abs(x - median) for x in history)
    spread = max(1.4826 * mad, median ** 0.5, 1.0)
    return (value - median) / spread, median


def detect(settings: Settings, series: dict[str, tuple[int, int, int]], end: datetime,
           data_since: datetime | None = None) -> list[Finding]:
    """Evaluate every enabled rule on the window ending at ``end``.

    The volume rule only runs when its whole baseline lies after ``data_since``
    (the first hour with data), so the start of collection is never a "spike".
    """
    findings = []
    volume = settings.alerts.volume_spike
    baseline_start = end - timedelta(hours=volume.window_hours * (volume.baseline_windows + 1))
    if volume.enabled and (data_since is None or baseline_start >= data_since):
        sums = _window_sums(series, end, volume.window_hours, volume.baseline_windows + 1)
        current = sums[-1][0]
        z, median = robust_z(current, [s[0] for s in sums[:-1]])
        if current >= volume.min_count and z >= volume.threshold:
            findings.append(Finding(
                "volume_spike", f"{current} mentions in {volume.window_hours}h, usual {median:g}",
                "critical" if z >= 2 * volume.threshold else "warning",
                end - timedelta(hours=volume.window_hours), end, current, median, {"z": round(z, 2)}))
    negative = settings.alerts.negative_share
    if negative.enabled:
        (_, scored, neg), = _window_sums(series, end, negative.window_hours, 1)
        share = neg / scored if scored else 0.0
        if scored >= negative.min_count and share >= negative.max_share:
            findings.append(Finding(
                "negative_share", f"{share:.0%} of {scored} mentions negative in "
                f"{negative.window_hours}h", "warning", end - timedelta(hours=negative.window_hours),
                end, round(share, 3), negative.max_share, {"negative": neg, "analysed": scored}))
    return findings


def evaluate_alerts(settings: Settings, now: datetime | None = None, hours_back: int = 0) -> int:
    """Run the rules for every own brand on windows ending at each hour up to now; store new alerts.

    ``hours_back`` > 0 replays history (used by the demo and backfills); cooldown
    and dedupe keys keep one alert per episode. Returns how many alerts were stored.
    """
    now = (now or utcnow()).replace(minute=0, second=0, microsecond=0)
    rules = settings.alerts
    longest = max(rules.volume_spike.window_hours * (rules.volume_spike.baseline_windows + 1),
                  rules.negative_share.window_hours)
    stored = 0
    with session_scope(settings.database.url) as session:
        for brand in which_brands_are_tracked(session, include_competitors=False):
            series = how_many_mentions_per_hour(session, brand.id,
                                                now - timedelta(hours=longest + hours_back), now)
            data_since = when_was_brand_first_mentioned(session, brand.id)
            for back in range(hours_back, -1, -1):
                end = now - timedelta(hours=back)
                for finding in detect(settings, series, end, data_since):
                    last = when_did_rule_last_fire(session, brand.id, finding.rule)
                    cooldown = timedelta(minutes=rules.cooldown_minutes)
                    if last is not None and end - last < max(cooldown, timedelta(hours=1)):
                        continue
                    evidence = {"observed": finding.observed, "baseline": finding.baseline,
                                **finding.detail,
                                "window": [finding.window_start.isoformat(), end.isoformat()],
                                "top_mentions": which_mentions_lead_window(
                                    session, brand.id, finding.window_start, end)}
                    stored += save_alert(session, {
                        "brand_id": brand.id, "rule": finding.rule, "severity": finding.severity,
                        "title": f"{brand.name}: {finding.title}", "evidence": evidence,
                        "window_start": finding.window_start, "window_end": end,
                        "dedupe_key": f"{finding.rule}:{brand.id}:{end:%Y%m%dT%H}",
                        "fired_at": utcnow()})
                    session.flush()
    return stored


def acknowledge(settings: Settings, actor: Actor, alert_id: int) -> None:
    """Acknowledge an alert as ``actor`` (roles with alert.acknowledge only)."""
    require(actor, "alert.acknowledge")
    with session_scope(settings.database.url) as session:
        acknowledge_alert(session, alert_id, actor.id)
