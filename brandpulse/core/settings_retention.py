"""Settings of data retention (``retention:``) and of re-checking stored posts for deletions
(``deletions:``)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationInfo, field_validator

from brandpulse.core.settings_base import Strict

CENTURY_DAYS = 36_500


def _no_booleans(value: Any, info: ValidationInfo) -> Any:
    """YAML reads true/false/yes/no/on/off as booleans, which would pass as 1 or 0: refuse them."""
    if isinstance(value, bool):
        raise ValueError(f"{info.field_name} must be a number, not {str(value).lower()} (YAML reads true, false, "
                         "yes, no, on and off as true/false); write a number, or leave the key out for the default")
    return value


class RetentionSettings(Strict):
    """How long stored data is kept, counted from the post's time (a ticket: from its closing).
    Unset (or 0) keeps it forever. Counts, analyses and dashboard rollups are always kept."""
    raw_days: int | None = Field(default=None, ge=0, le=CENTURY_DAYS)  # raw payloads → emptied
    text_days: int | None = Field(default=None, ge=0, le=CENTURY_DAYS)  # post text, profile fields
    closed_ticket_days: int | None = Field(default=None, ge=0, le=CENTURY_DAYS)  # closed tickets deleted
    batch_size: int = Field(default=5000, ge=100, le=100_000)  # rows changed per committed batch
    interval_hours: float = Field(default=24, gt=0, le=24 * 30)  # how often `brandpulse run` applies it

    _numbers = field_validator("raw_days", "text_days", "closed_ticket_days", "batch_size", "interval_hours",
                               mode="before")(_no_booleans)

    def days(self, kind: str) -> int | None:
        """The configured days of ``kind`` (raw, text, closed_ticket), None when kept forever."""
        value = getattr(self, f"{kind}_days")
        return value or None


class DeletionSettings(Strict):
    """Re-checking recent stored posts on their network, so that deletions there are honoured:
    X (tweet lookup, billed like search), Reddit (/api/info) and Mastodon (one status per call)."""
    recheck: bool = True
    recheck_days: int = Field(default=7, ge=1, le=365)  # posts at most this old are re-checked
    recheck_per_run: int = Field(default=100, ge=1, le=10_000)  # posts re-checked per network per run
    interval_hours: float = Field(default=24, gt=0, le=24 * 30)  # how often `brandpulse run` re-checks

    _numbers = field_validator("recheck_days", "recheck_per_run", "interval_hours", mode="before")(_no_booleans)
