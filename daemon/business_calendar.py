"""The SLA policy the writer counts in: the configured targets on a business calendar
whose public holidays come from the ``holidays`` library (a country's calendar, Korea's
lunar 설날 and 추석 included), computed for the years around today and computed again
when the date changes, so a daemon that runs for years keeps counting them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

import holidays

from ticketd.daemon.config import SlaConfig
from ticketd.routing.calendar import BusinessCalendar
from ticketd.routing.sla import SlaPolicy

YEARS_BEHIND = 1
YEARS_AHEAD = 3
"""The holidays known on any day: from last year to three years on (a ticket's due time
is never more than weeks away; last year covers tickets created before New Year)."""


def public_holidays(country: str, years: range) -> frozenset[date]:
    """A country's public holidays in ``years`` (observed substitute days included)."""
    return frozenset(holidays.country_holidays(country, years=list(years)))


def sla_policy(config: SlaConfig, timezone: str, today: date) -> SlaPolicy:
    """The policy as it stands on ``today``."""
    years = range(today.year - YEARS_BEHIND, today.year + YEARS_AHEAD + 1)
    official = public_holidays(config.holidays, years) if config.holidays else frozenset()
    calendar = BusinessCalendar(
        timezone=timezone,
        week=config.business_hours,
        holidays=official | config.extra_holidays,
        workdays=config.extra_workdays,
    )
    return SlaPolicy(
        first_response_hours=config.first_response_hours,
        priority_hours=config.priority_hours,
        next_response_hours=config.next_response_hours,
        calendar=calendar,
    )


class SlaPolicies:
    """``current()``: the policy for the service's local date, rebuilt when it changes."""

    def __init__(self, config: SlaConfig, timezone: str, now: Callable[[], datetime]) -> None:
        self.config = config
        self.timezone = timezone
        self.now = now
        self._zone = ZoneInfo(timezone)
        self._built: tuple[date, SlaPolicy] | None = None

    def current(self) -> SlaPolicy:
        today = self.now().astimezone(self._zone).date()
        if self._built is None or self._built[0] != today:
            self._built = (today, sla_policy(self.config, self.timezone, today))
        return self._built[1]
