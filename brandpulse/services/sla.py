"""SLA clocks: due times that only run inside a team's business hours, time left and breaches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from brandpulse.core.settings_care import BusinessHours, TeamSettings

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def add_working_time(start: datetime, minutes: float, hours: BusinessHours | None) -> datetime:
    """``start`` plus ``minutes`` of working time (plain wall-clock time when ``hours`` is None)."""
    if hours is None:
        return start + timedelta(minutes=minutes)
    zone = ZoneInfo(hours.timezone)
    local = start.astimezone(zone)
    left = timedelta(minutes=minutes)
    day = local.date()
    for _ in range(366 * 2):
        if WEEKDAYS[day.weekday()] in hours.days:
            opens = datetime.combine(day, hours.start, zone)
            closes = datetime.combine(day, hours.end, zone)
            begin = max(local, opens)
            if begin < closes:
                if begin + left <= closes:
                    return (begin + left).astimezone(start.tzinfo)
                left -= closes - begin
        day += timedelta(days=1)
    raise ValueError(f"business hours {hours} leave no working time within two years")


def sla_deadlines(created_at: datetime, team: TeamSettings) -> tuple[datetime, datetime]:
    """First-response and resolution due times of a ticket opened at ``created_at``."""
    return (add_working_time(created_at, team.first_response_minutes, team.business_hours),
            add_working_time(created_at, team.resolution_hours * 60, team.business_hours))


@dataclass(frozen=True)
class SlaStatus:
    """Where a ticket stands against its SLA at one moment."""
    first_response_left: timedelta | None  # None once answered
    first_response_breached: bool
    resolution_left: timedelta | None  # None once resolved or dismissed
    resolution_breached: bool
    closed_unanswered: bool = False  # resolved or dismissed with no reply to the customer

    @property
    def breached(self) -> bool:
        return self.first_response_breached or self.resolution_breached

    def summary(self) -> str:
        """A short human reading, e.g. 'reply in 42m' or 'BREACHED: reply 1h 5m late'."""
        if self.first_response_left is not None:
            return _describe("reply", self.first_response_left)
        if self.resolution_left is not None:
            return _describe("resolve", self.resolution_left)
        if self.closed_unanswered:
            return "closed without a reply" + (" (SLA breached)" if self.breached else "")
        return "breached" if self.breached else "met"


def _clock(delta: timedelta) -> str:
    minutes = int(abs(delta).total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    return " ".join(part for part in (f"{days}d" if days else "", f"{hours}h" if hours else "",
                                      f"{minutes}m") if part)


def _describe(what: str, left: timedelta) -> str:
    return f"{what} in {_clock(left)}" if left >= timedelta(0) else f"BREACHED: {what} {_clock(left)} late"


def sla_status(*, now: datetime, first_response_due: datetime | None, first_response_at: datetime | None,
               resolution_due: datetime | None, resolved_at: datetime | None) -> SlaStatus:
    """Time left and breach for the first response and the resolution."""
    def one(due: datetime | None, done: datetime | None) -> tuple[timedelta | None, bool]:
        if due is None:
            return None, False
        if done is not None:
            return None, done > due
        return due - now, now > due

    # closed without a reply: the first-response clock stops at the close, and says so
    first_left, first_breached = one(first_response_due, first_response_at or resolved_at)
    resolution_left, resolution_breached = one(resolution_due, resolved_at)
    return SlaStatus(first_left, first_breached, resolution_left, resolution_breached,
                     closed_unanswered=resolved_at is not None and first_response_at is None)
