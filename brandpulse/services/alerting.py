"""Alerts: run the rules per brand, store what fires with its evidence, replay history (backtest)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from brandpulse.services.access import Actor
from brandpulse.services.alert_rules import WEEK, Finding, HourlySeries, detect, detect_posts, evidence_series
from brandpulse.core.errors import BrandpulseError
from brandpulse.core.settings import Settings
from brandpulse.core.tiers import TIERS, tier_of
from store.alerts import (
    acknowledge_alert,
    how_many_mentions_per_hour,
    save_alert,
    when_did_rule_last_fire_per_severity,
    where_did_rule_episode_start,
    which_mentions_came_between,
    when_was_brand_first_mentioned,
    which_complaints_came_from_big_authors,
    which_mentions_lead_window,
    which_mentions_use_words,
)
from store.brands import the_brand_named, which_brands_are_tracked
from store.engine import session_scope
from store.leases import exclusive
from store.models import utcnow

SERIES_RULES = ("volume_spike", "negative_share", "crisis_keywords")  # one alert per episode (cooldown)
SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}
ALERTS_LEASE, ALERTS_LEASE_SECONDS = "alerts", 300  # a killed evaluator frees the lease after this


@dataclass
class BrandHistory:
    """Everything the rules read for one brand over a span: hourly series and candidate posts."""
    series: HourlySeries
    data_since: datetime | None
    complaints: list[dict[str, Any]]
    keyword_hits: list[dict[str, Any]]


@dataclass
class Cooldowns:
    """Per rule: when each severity last fired (window end) and where the episode under way began.

    A finding is quiet while the same or a higher severity of its rule fired within the cooldown,
    so a rising episode escalates from warning to critical at once and never back down."""
    cooldown: timedelta
    last: dict[str, dict[str, datetime]] = field(default_factory=dict)
    episode_start: dict[str, datetime] = field(default_factory=dict)
    seen: set[tuple[str, str]] = field(default_factory=set)  # keyed findings (posts) already fired

    def episodes(self, end: datetime) -> dict[str, datetime]:
        """Rules with an episode still under way at ``end``, and where it began."""
        return {rule: start for rule, start in self.episode_start.items()
                if self.last.get(rule) and end - max(self.last[rule].values()) < self.cooldown}

    def admit(self, finding: Finding, end: datetime) -> bool:
        """Whether ``finding`` fires at ``end``; records it when it does."""
        if finding.key:
            if (finding.rule, finding.key) in self.seen:
                return False
            self.seen.add((finding.rule, finding.key))
            return True
        if finding.rule not in SERIES_RULES:
            return True
        rank = SEVERITY_RANK.get(finding.severity, 1)
        fired = self.last.setdefault(finding.rule, {})
        if any(end - when < self.cooldown for severity, when in fired.items()
               if SEVERITY_RANK.get(severity, 1) >= rank):
            return False
        if finding.rule not in self.episodes(end):
            self.episode_start[finding.rule] = finding.window_start
        fired[finding.severity] = end
        return True


def _lookback(settings: Settings) -> timedelta:
    rules = settings.alerts
    volume = rules.volume_spike
    return max(timedelta(hours=2 * volume.window_hours) + WEEK * volume.baseline_weeks,
               timedelta(hours=volume.window_hours * (volume.baseline_windows + 1)),
               timedelta(hours=rules.negative_share.window_hours, days=rules.negative_share.baseline_days),
               timedelta(hours=rules.crisis_keywords.window_hours))


def _cooldown(settings: Settings) -> timedelta:
    return max(timedelta(minutes=settings.alerts.cooldown_minutes), timedelta(hours=1))


def load_history(session, settings: Settings, brand_id: int, since: datetime, until: datetime) -> BrandHistory:
    """Read a brand's series and candidate posts for windows ending between ``since`` and ``until``.

    When ``until`` is not a whole hour, the posts of its trailing windows are counted one by one
    so the window ending at ``until`` (a sliding window) is exact."""
    rules = settings.alerts
    start = since - _lookback(settings)
    min_followers = dict(TIERS)[rules.influencer_complaint.min_tier]
    complaints = which_complaints_came_from_big_authors(
        session, brand_id, since - timedelta(hours=rules.influencer_complaint.lookback_hours), until,
        min_followers) if rules.influencer_complaint.enabled else []
    for post in complaints:
        post["tier"] = tier_of(post["followers"])
    hits = which_mentions_use_words(session, brand_id, start, until, rules.crisis_keywords.keywords) \
        if rules.crisis_keywords.enabled else []
    recent, recent_since = None, None
    if until != _hour(until):
        width = max(rules.volume_spike.window_hours, rules.negative_share.window_hours) + 1
        recent_since = _hour(until) - timedelta(hours=width)
        recent = which_mentions_came_between(session, brand_id, recent_since, until)
    series = HourlySeries(how_many_mentions_per_hour(session, brand_id, start, until), recent, recent_since)
    return BrandHistory(series, when_was_brand_first_mentioned(session, brand_id), complaints, hits)


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def evaluation_ends(since: datetime, until: datetime) -> list[datetime]:
    """Each whole hour in [since, until], then ``until`` itself (the sliding window ending now)."""
    end = _hour(since) if since == _hour(since) else _hour(since) + timedelta(hours=1)
    ends = []
    while end <= until:
        ends.append(end)
        end += timedelta(hours=1)
    return ends if ends and ends[-1] == until else ends + [until]


def replay(settings: Settings, history: BrandHistory, since: datetime, until: datetime,
           last_fired: Cooldowns | None = None) -> list[Finding]:
    """Every finding for windows ending at each hour in [since, until] and at ``until``, cooldown applied."""
    state = last_fired or Cooldowns(_cooldown(settings))
    fired = []
    for end in evaluation_ends(since, until):
        findings = detect(settings.alerts, history.series, end, history.data_since, state.episodes(end))
        findings += detect_posts(settings.alerts, history.complaints, history.keyword_hits, end)
        fired += [finding for finding in findings if state.admit(finding, end)]
    return fired


def _stored_cooldowns(session, settings: Settings, brand_id: int, now: datetime) -> Cooldowns:
    state = Cooldowns(_cooldown(settings))
    for rule in SERIES_RULES:
        state.last[rule] = when_did_rule_last_fire_per_severity(session, brand_id, rule)
        if (start := where_did_rule_episode_start(session, brand_id, rule, now - state.cooldown)) is not None:
            state.episode_start[rule] = start
    return state


def evaluate_alerts(settings: Settings, now: datetime | None = None, hours_back: int = 0) -> int:
    """Run the rules for every own brand on the windows ending now (to the second); store new alerts.

    ``hours_back`` > 0 also replays the windows ending at each whole hour before (the demo,
    back-fills); cooldown and dedupe keys keep one alert per episode and severity. Returns how
    many alerts were stored. One process evaluates at a time (a lease in the store), so two
    schedulers a minute apart never store one episode twice.
    """
    with exclusive(settings.database.url, ALERTS_LEASE, ALERTS_LEASE_SECONDS) as mine:
        return _evaluate(settings, now, hours_back) if mine else 0


def _evaluate(settings: Settings, now: datetime | None, hours_back: int) -> int:
    now = (now or utcnow()).replace(microsecond=0)
    since = now - timedelta(hours=hours_back)
    stored = 0
    with session_scope(settings.database.url) as session:
        for brand in which_brands_are_tracked(session, include_competitors=False):
            history = load_history(session, settings, brand.id, since, now)
            state = _stored_cooldowns(session, settings, brand.id, since)
            for finding in replay(settings, history, since, now, state):
                stored += save_alert(session, _alert_row(session, settings, brand, finding, history.series))
                session.flush()
    return stored


def _alert_row(session, settings: Settings, brand, finding: Finding, series: HourlySeries) -> dict[str, Any]:
    top = finding.mentions or which_mentions_lead_window(session, brand.id, finding.window_start,
                                                         finding.window_end)
    evidence = {"observed": finding.observed, "baseline": finding.baseline, **finding.detail,
                "window": [finding.window_start.isoformat(), finding.window_end.isoformat()],
                "top_mentions": [{"mention_id": m["mention_id"], "network": m["network"], "text": m["text"][:280]}
                                 for m in top],
                "series": evidence_series(settings.alerts, series, finding)}
    key = f"{finding.rule}:{brand.id}:" + (finding.key or f"{finding.severity}:{finding.window_end:%Y%m%dT%H%M}")
    return {"brand_id": brand.id, "rule": finding.rule, "severity": finding.severity,
            "title": f"{brand.name}: {finding.title}", "evidence": evidence,
            "window_start": finding.window_start, "window_end": finding.window_end,
            "dedupe_key": key, "fired_at": utcnow()}


def backtest(settings: Settings, brand_name: str, since: datetime, until: datetime | None = None) -> list[Finding]:
    """What the rules would have fired for a brand between ``since`` and ``until``; stores nothing."""
    until = _hour(until or utcnow())
    if since >= until:
        raise BrandpulseError(f"backtest start {since:%Y-%m-%d %H:%M} is not before its end {until:%Y-%m-%d %H:%M}")
    with session_scope(settings.database.url) as session:
        brand = the_brand_named(session, brand_name)
        history = load_history(session, settings, brand.id, since, until)
    return replay(settings, history, since, until)


def acknowledge(settings: Settings, actor: Actor, alert_id: int) -> None:
    """Acknowledge an alert as ``actor`` (roles with alert.acknowledge only, re-read from the store)."""
    from brandpulse.services.accounts import authorize

    actor = authorize(settings, actor, "alert.acknowledge")
    with session_scope(settings.database.url) as session:
        acknowledge_alert(session, alert_id, actor.id)
