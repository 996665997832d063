"""The ``care:`` section of config.yaml: teams with SLA policies, routing rules, canned replies."""

from __future__ import annotations

import string
from datetime import time
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from brandpulse.core.settings_base import Strict
from brandpulse.core.settings_replies import ReplyAccount
from brandpulse.core.tiers import Tier

Network = Literal["x", "reddit", "bluesky", "mastodon", "rss", "file"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
PLACEHOLDERS = ("author", "brand", "agent", "ticket", "link", "network")
YEAR_HOURS = 365 * 24


class BusinessHours(Strict):
    """When a team works; SLA clocks only run inside these hours."""
    days: list[Weekday] = Field(default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"], min_length=1)
    start: time = time(9, 0)
    end: time = time(17, 0)
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder, a name too long
            raise ValueError(f"unknown time zone {value[:60]!r}; use an IANA name such as Europe/Berlin") from None
        return value

    @model_validator(mode="after")
    def _start_before_end(self) -> "BusinessHours":
        if self.start >= self.end:
            raise ValueError(f"business hours start {self.start} is not before end {self.end}")
        return self


class TeamSettings(Strict):
    name: str = Field(min_length=1)
    first_response_minutes: int = Field(default=60, gt=0, le=YEAR_HOURS * 60)
    resolution_hours: int = Field(default=24, gt=0, le=YEAR_HOURS)
    business_hours: BusinessHours | None = None  # None: the SLA clock runs around the clock
    auto_assign: bool = True  # new tickets go to the team's agent with the fewest open tickets
    approval: bool = False  # an agent's reply waits for a care lead's (or admin's) approval


class RoutingRule(Strict):
    """Every field given must match; the first matching rule picks the team."""
    team: str
    brand: str | None = None
    network: Network | None = None
    language: str | None = None
    intent: Literal["complaint", "question", "suggestion", "praise"] | None = None
    aspect: str | None = None  # an aspect the mention is about (delivery, refund, billing, ...)
    influence_tier: Tier | None = None  # this tier or above
    min_followers: int | None = Field(default=None, ge=0, le=10**12)


class CareSettings(Strict):
    ticket_intents: list[Literal["complaint", "question"]] = Field(
        default_factory=lambda: ["complaint", "question"]
    )
    teams: list[TeamSettings] = Field(default_factory=lambda: [TeamSettings(name="care")])
    routing: list[RoutingRule] = Field(default_factory=list)
    default_team: str = "care"
    ticket_max_age_days: int = Field(default=7, ge=1, le=365)
    interval_seconds: float = Field(default=60, gt=0, le=86_400)
    merge_window_hours: int = Field(default=72, ge=0, le=YEAR_HOURS)  # same grievance within this → one ticket
    merge_similarity: float = Field(default=0.8, gt=0, le=1)  # word-set Jaccard for "near-identical"
    canned_replies: dict[str, str] = Field(default_factory=dict)
    reply_accounts: list[ReplyAccount] = Field(default_factory=list)  # who answers, per brand and network
    publish_interval_seconds: float = Field(default=5, gt=0, le=3600)  # how often `run` publishes the outbox

    @model_validator(mode="after")
    def _teams_exist(self) -> "CareSettings":
        names = {team.name for team in self.teams}
        for label, team in [("default_team", self.default_team)] + [
            (f"routing[{i}].team", rule.team) for i, rule in enumerate(self.routing)
        ]:
            if team not in names:
                raise ValueError(f"care.{label} names team {team!r}, which is not in care.teams "
                                 f"({sorted(names)}); add it to care.teams or fix the name")
        seen: dict[tuple[str, str], str] = {}
        ids: set[str] = set()
        for account in self.reply_accounts:
            if account.id in ids:
                raise ValueError(f"care.reply_accounts has two accounts with id {account.id!r}; ids must differ")
            ids.add(account.id)
            key = (account.brand, account.network)
            if key in seen:
                raise ValueError(f"care.reply_accounts: {seen[key]!r} and {account.id!r} both answer for "
                                 f"{account.brand!r} on {account.network}; keep one")
            seen[key] = account.id
        return self

    @field_validator("canned_replies")
    @classmethod
    def _known_placeholders(cls, replies: dict[str, str]) -> dict[str, str]:
        for name, template in replies.items():
            problem = template_problem(template)
            if problem:
                raise ValueError(f"canned reply {name!r} {problem}")
        return replies


def template_problem(template: str) -> str | None:
    """None when ``template`` is a valid reply template, else what is wrong (for "<what> ..." messages)."""
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
    except ValueError as exc:
        return (f"is not a valid template ({exc}); write placeholders as {{author}} and a literal brace "
                "as {{ or }}")
    unknown = sorted(fields - set(PLACEHOLDERS))
    if unknown:
        return f"uses unknown placeholders {unknown}; available: {', '.join('{' + p + '}' for p in PLACEHOLDERS)}"
    return None

