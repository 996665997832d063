"""The ``alerts:``, ``influence:``, ``topics:`` and ``reports:`` sections of config.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from brandpulse.core.settings_base import Strict
from brandpulse.core.tiers import Tier

Severity = Literal["info", "warning", "critical"]
MAX_COUNT = 10_000_000  # mentions in a window
WEEK_MINUTES = 7 * 24 * 60
YEAR_MINUTES = 365 * 24 * 60


class VolumeSpikeRule(Strict):
    """Mentions in a window against the same hours of the week in earlier weeks (median, MAD)."""
    enabled: bool = True
    window_hours: int = Field(default=6, ge=1, le=168)
    baseline_weeks: int = Field(default=4, ge=2, le=26)  # seasonal baseline: same hour-of-week
    baseline_windows: int = Field(default=28, ge=4, le=1000)  # fallback while fewer weeks of history exist
    min_count: int = Field(default=20, ge=1, le=MAX_COUNT)
    threshold: float = Field(default=4.0, gt=0, le=1000, description="robust z-score that fires")
    min_ratio: float = Field(default=1.5, ge=1, le=1000)  # and at least this many times the usual count


class NegativeShareRule(Strict):
    """The negative share of a window against the share over the baseline days before it."""
    enabled: bool = True
    window_hours: int = Field(default=6, ge=1, le=168)
    baseline_days: int = Field(default=7, ge=1, le=90)
    min_count: int = Field(default=20, ge=1, le=MAX_COUNT)
    min_increase: float = Field(default=0.2, gt=0, le=1)  # share points above the baseline share
    max_share: float | None = Field(default=None, gt=0, le=1)  # also fire at this share, whatever the baseline


class InfluencerComplaintRule(Strict):
    """A complaint from an author at or above a tier, alerted once at the first evaluation that sees it."""
    enabled: bool = True
    min_tier: Tier = "macro"
    lookback_hours: int = Field(default=24, ge=1, le=168)  # a complaint collected or analysed late still alerts


class CrisisKeywordsRule(Strict):
    """Posts about the brand using crisis words (recall, lawsuit, data breach, ...)."""
    enabled: bool = True
    keywords: list[str] = Field(default_factory=lambda: ["recall", "lawsuit", "data breach", "hacked",
                                                         "boycott", "class action", "food poisoning"])
    window_hours: int = Field(default=1, ge=1, le=48)
    min_count: int = Field(default=1, ge=1, le=MAX_COUNT)


class AlertChannel(Strict):
    """Where alerts go: an apprise URL kept in an environment variable (it holds a secret)."""
    name: str
    url_env: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")  # e.g. BRANDPULSE_ALERT_SLACK_URL
    min_severity: Severity = "warning"
    rules: list[str] = Field(default_factory=list)  # empty: every rule


class AlertSettings(Strict):
    interval_seconds: float = Field(default=300, gt=0, le=86_400)  # also run after each analysis that scored
    # one alert per (rule, brand, severity) and episode: a warning escalates to critical at once,
    # a warning inside a critical's cooldown stays quiet
    cooldown_minutes: int = Field(default=360, ge=0, le=YEAR_MINUTES)
    volume_spike: VolumeSpikeRule = VolumeSpikeRule()
    negative_share: NegativeShareRule = NegativeShareRule()
    influencer_complaint: InfluencerComplaintRule = InfluencerComplaintRule()
    crisis_keywords: CrisisKeywordsRule = CrisisKeywordsRule()
    channels: list[AlertChannel] = Field(default_factory=list)


class InfluenceSettings(Strict):
    window_days: int = Field(default=90, ge=1, le=3650)
    recency_days: float = Field(default=30, gt=0, le=3650)  # a brand post this old weighs 1/e
    interval_minutes: float = Field(default=60, gt=0, le=WEEK_MINUTES)
    vip: dict[str, list[str]] = Field(default_factory=dict)  # network -> handles always flagged

    @field_validator("vip")
    @classmethod
    def _known_networks(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = sorted(set(value) - {"x", "reddit", "bluesky", "mastodon", "rss", "file"})
        if unknown:
            raise ValueError(f"vip lists name unknown networks {unknown}; use x, reddit, bluesky, mastodon")
        return value


class TopicSettings(Strict):
    days: int = Field(default=14, ge=1, le=90)
    max_mentions: int = Field(default=4000, ge=50, le=1_000_000)
    max_topics: int = Field(default=12, ge=2, le=50)
    interval_minutes: float = Field(default=360, gt=0, le=WEEK_MINUTES)


class ReportSettings(Strict):
    cadence: Literal["off", "daily", "weekly"] = "off"
    folder: Path = Path("reports")
    deliver: bool = False  # also send each report through the alert channels

    @field_validator("cadence", mode="before")
    @classmethod
    def _yaml_off(cls, value):
        return "off" if value is False else value  # YAML reads a bare `off` as false
