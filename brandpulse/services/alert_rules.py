"""Alert rules as pure functions over hourly series and mention lists (testable, back-testable).

Series map an hour label ('YYYY-MM-DD HH') to (mentions, analysed, negative); the newest hours can
also be counted post by post, so a window ending at any minute (a sliding window) sums exactly.
"""

from __future__ import annotations

import bisect
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np

from brandpulse.core.settings_alerts import AlertSettings
from store.buckets import parse_bucket

WEEK = timedelta(days=7)


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
    detail: dict = field(default_factory=dict)
    key: str = ""  # extra dedupe part (a mention id for per-mention rules)
    mentions: list[dict[str, Any]] = field(default_factory=list)  # evidence when the rule is about posts


class HourlySeries:
    """Hour label -> (mentions, analysed, negative), with O(1) window sums from prefix sums.

    ``recent`` (created_at, analysed, negative) per post since ``recent_since`` lets a window that
    starts after ``recent_since`` and does not fall on whole hours be summed to the second; other
    windows off the hour are taken at the whole hours before them.
    """

    def __init__(self, counts: dict[str, tuple[int, int, int]],
                 recent: list[tuple[datetime, bool, bool]] | None = None,
                 recent_since: datetime | None = None) -> None:
        if isinstance(counts, HourlySeries):
            counts = counts.counts
        self.counts = counts
        recent = sorted(recent or [])
        self.recent_since = recent_since
        self.recent_times = [when for when, _, _ in recent]
        rows = np.array([(1, int(scored), int(negative)) for _, scored, negative in recent],
                        dtype=np.int64).reshape(-1, 3)
        self.recent_prefix = np.vstack([np.zeros((1, 3), dtype=np.int64), rows.cumsum(axis=0)])
        hours = [parse_bucket(label, "hour") for label in counts]
        self.start = min(hours) if hours else datetime(1970, 1, 1, tzinfo=timezone.utc)
        size = int((max(hours) - self.start).total_seconds() // 3600) + 1 if hours else 0
        values = np.zeros((size + 1, 3), dtype=np.int64)
        for moment, row in zip(hours, counts.values()):
            values[int((moment - self.start).total_seconds() // 3600) + 1] = row
        self.prefix = values.cumsum(axis=0)

    def _index(self, moment: datetime) -> int:
        offset = int((moment - self.start).total_seconds() // 3600)
        return min(max(offset, 0), len(self.prefix) - 1)

    def window(self, end: datetime, hours: float) -> tuple[int, int, int]:
        """(mentions, analysed, negative) summed over the ``hours`` before ``end``."""
        start = end - timedelta(hours=hours)
        on_the_hour = end.minute == end.second == end.microsecond == 0
        if not on_the_hour and self.recent_since is not None and start >= self.recent_since:
            total = (self.recent_prefix[bisect.bisect_left(self.recent_times, end)]
                     - self.recent_prefix[bisect.bisect_left(self.recent_times, start)])
        else:
            total = self.prefix[self._index(end)] - self.prefix[self._index(start)]
        return int(total[0]), int(total[1]), int(total[2])


def window_sum(series, end: datetime, hours: int) -> tuple[int, int, int]:
    """(mentions, analysed, negative) summed over the ``hours`` before ``end``."""
    return (series if isinstance(series, HourlySeries) else HourlySeries(series)).window(end, hours)


def robust_z(value: float, history: list[float]) -> tuple[float, float]:
    """(z, median): distance from the median in robust standard deviations.

    The spread is the MAD, floored by Poisson noise (√median) and by 15% of the median, so a
    lucky calm baseline never turns ordinary noise into an alert.
    """
    median, spread = robust_spread(history)
    return (value - median) / spread, median


def robust_spread(history: list[float]) -> tuple[float, float]:
    """(median, spread) of a baseline, the spread floored as :func:`robust_z` explains."""
    median = statistics.median(history)
    mad = statistics.median(abs(x - median) for x in history)
    return median, max(1.4826 * mad, median ** 0.5, 0.15 * median, 1.0)


def _volume(rules: AlertSettings, series, end: datetime, data_since: datetime | None,
            episode_start: datetime | None = None) -> Finding | None:
    rule = rules.volume_spike
    hours = timedelta(hours=rule.window_hours)
    if data_since is None or end - 2 * hours - WEEK * rule.baseline_weeks >= data_since:
        # the same hours of the week in earlier weeks, plus the window just before and just after
        # each (not overlapping it): 3 independent samples a week, so the spread is estimated from
        # 12 windows rather than 4
        history = [series.window(end - WEEK * k + hours * shift, rule.window_hours)[0]
                   for k in range(1, rule.baseline_weeks + 1) for shift in (-1, 0, 1)]
        basis = f"same hours of the week and the windows beside them, {rule.baseline_weeks} weeks"
    elif (before := _before_episode(end - hours, episode_start)) - hours * rule.baseline_windows >= data_since:
        history = [series.window(before - hours * k, rule.window_hours)[0]
                   for k in range(0, rule.baseline_windows)]
        basis = f"previous {rule.baseline_windows} windows (less than {rule.baseline_weeks} weeks of data)"
    else:
        return None  # too little history: the start of collection is never a spike
    current = series.window(end, rule.window_hours)[0]
    median, spread = robust_spread(history)
    z = (current - median) / spread
    if current < rule.min_count or z < rule.threshold or current < rule.min_ratio * median:
        return None
    floor = max(rule.min_count, rule.min_ratio * median)
    return Finding("volume_spike", f"{current} mentions in {rule.window_hours}h, usual {median:g}",
                   "critical" if z >= 2 * rule.threshold else "warning", end - hours, end, current, median,
                   {"z": round(z, 2), "ratio": round(current / max(median, 1), 2), "baseline_basis": basis,
                    "baseline_values": history,
                    "thresholds": {"warning": round(max(floor, median + rule.threshold * spread), 2),
                                   "critical": round(max(floor, median + 2 * rule.threshold * spread), 2)}})


def _before_episode(end: datetime, episode_start: datetime | None) -> datetime:
    """Where a baseline must end: before the window judged and before the episode under way."""
    return end if episode_start is None else min(end, episode_start)


def _negative(rules: AlertSettings, series, end: datetime, episode_start: datetime | None = None) -> Finding | None:
    rule = rules.negative_share
    _, scored, negative = series.window(end, rule.window_hours)
    if scored < rule.min_count:
        return None
    share = negative / scored
    # the baseline never contains the episode it judges: neither this window nor, while an alert
    # of this rule is recent, the windows of that alert (a long episode would lift its own bar)
    baseline_end = _before_episode(end - timedelta(hours=rule.window_hours), episode_start)
    _, base_scored, base_negative = series.window(baseline_end, rule.baseline_days * 24)
    baseline = base_negative / base_scored if base_scored else 0.0
    rose = share - baseline >= rule.min_increase
    if not rose and (rule.max_share is None or share < rule.max_share):
        return None
    warning = baseline + rule.min_increase if rule.max_share is None else min(baseline + rule.min_increase,
                                                                              rule.max_share)
    return Finding("negative_share", f"{share:.0%} of {scored} mentions negative in {rule.window_hours}h "
                   f"(usual {baseline:.0%})", "critical" if share - baseline >= 2 * rule.min_increase else "warning",
                   end - timedelta(hours=rule.window_hours), end, round(share, 3), round(baseline, 3),
                   {"negative": negative, "analysed": scored, "baseline_days": rule.baseline_days,
                    "baseline_end": baseline_end.isoformat(),
                    "thresholds": {"warning": round(warning, 3),
                                   "critical": round(min(baseline + 2 * rule.min_increase, 1.0), 3)}})


def detect(rules: AlertSettings, series, end: datetime, data_since: datetime | None = None,
           episodes: dict[str, datetime] | None = None) -> list[Finding]:
    """The series rules (volume spike, negative share) on the window ending at ``end``.

    ``series`` is a HourlySeries or its hour-label dict; ``episodes`` maps a rule to the start of
    its episode under way (its recent alerts' windows), which its baseline leaves out."""
    series = series if isinstance(series, HourlySeries) else HourlySeries(series)
    episodes = episodes or {}
    found = []
    if rules.volume_spike.enabled:
        found.append(_volume(rules, series, end, data_since, episodes.get("volume_spike")))
    if rules.negative_share.enabled:
        found.append(_negative(rules, series, end, episodes.get("negative_share")))
    return [f for f in found if f is not None]


def detect_posts(rules: AlertSettings, complaints: list[dict], keyword_hits: list[dict],
                 end: datetime) -> list[Finding]:
    """Per-post rules on the trailing windows ending at ``end``: big-author complaints and crisis keywords.

    ``complaints`` and ``keyword_hits`` are mentions (dicts with created_at, author, followers,
    text, ...) over any span; only those inside the rule's window count. A complaint stays in its
    window for ``lookback_hours`` (it may be collected or analysed late); its key (the mention)
    makes it fire once.
    """
    found = []
    if rules.influencer_complaint.enabled:
        since = end - timedelta(hours=rules.influencer_complaint.lookback_hours)
        for post in complaints:
            if since <= post["created_at"] < end:
                found.append(Finding(
                    "influencer_complaint", f"complaint from @{post['author']} ({post['followers']:,} followers, "
                    f"{post['tier']}) on {post['network']}", "critical", post["created_at"], end, post["followers"],
                    0, {"min_tier": rules.influencer_complaint.min_tier}, key=str(post["mention_id"]),
                    mentions=[post]))
    crisis = rules.crisis_keywords
    if crisis.enabled:
        start = end - timedelta(hours=crisis.window_hours)
        hits = [p for p in keyword_hits if start <= p["created_at"] < end]
        if len(hits) >= crisis.min_count:
            words = sorted({w for p in hits for w in p["keywords"]})
            found.append(Finding("crisis_keywords", f"{len(hits)} posts say {', '.join(words)}",
                                 "critical", start, end, len(hits), crisis.min_count, {"keywords": words},
                                 mentions=hits[:5]))
    return found


def evidence_series(rules: AlertSettings, series, finding: Finding, hours: int = 48) -> list[dict[str, Any]]:
    """What a finding's rule measured at each hour over the ``hours`` before it fired (chart points).

    Volume: mentions in the rule's window; negative share: the window's share; post rules: mentions
    per hour. The last point is the window that fired."""
    series = series if isinstance(series, HourlySeries) else HourlySeries(series)
    if finding.rule == "volume_spike":
        width, measure = rules.volume_spike.window_hours, lambda n, scored, neg: n
    elif finding.rule == "negative_share":
        width = rules.negative_share.window_hours
        measure = lambda n, scored, neg: round(neg / scored, 3) if scored else None  # noqa: E731
    else:
        width, measure = 1, lambda n, scored, neg: n
    points = []
    for k in range(hours, -1, -1):
        end = finding.window_end - timedelta(hours=k)
        value = measure(*series.window(end, width))
        if value is not None:
            points.append({"end": end.isoformat(), "value": value})
    return points
