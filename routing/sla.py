"""The SLA clocks (first and next response, in business time) and auto-close (pure)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ticketd.routing.calendar import ALWAYS, BusinessCalendar
from ticketd.routing.model import Priority

REMINDER_FRACTION = 0.75


class SlaStep(enum.StrEnum):
    NONE = "none"
    REMIND = "remind"
    BREACH = "breach"


@dataclass(frozen=True, slots=True)
class Deadline:
    """When a clock's 75 % reminder and its breach fall due (instants in business time)."""

    remind_at: datetime
    due_at: datetime


def clock_step(
    deadline: Deadline | None,
    now: datetime,
    *,
    answered: bool,
    reminded: bool,
    breached: bool,
) -> SlaStep:
    """What a clock asks for now: nothing, the 75 % reminder, or the breach. Past both
    instants at once (the daemon was down, or the clock jumped forward) it asks only for
    the breach; a clock set back never asks again for what was recorded."""
    if deadline is None or answered or breached:
        return SlaStep.NONE
    if now >= deadline.due_at:
        return SlaStep.BREACH
    if not reminded and now >= deadline.remind_at:
        return SlaStep.REMIND
    return SlaStep.NONE


def auto_close_due(
    resolved_at: datetime | None,
    last_customer_at: datetime | None,
    now: datetime,
    days: float,
) -> bool:
    """A resolved ticket closes after ``days`` without a customer message since resolution."""
    if resolved_at is None:
        return False
    quiet_since = max(resolved_at, last_customer_at or resolved_at)
    return now - quiet_since >= timedelta(days=days)


DEFAULT_FIRST_RESPONSE_HOURS = 24.0


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    """The promises and the business calendar they are counted in: the first public reply
    within ``first_response_hours`` (or the ticket's priority's override) of creation, and
    with ``next_response_hours`` the next public reply after a customer's message."""

    first_response_hours: float = DEFAULT_FIRST_RESPONSE_HOURS
    priority_hours: Mapping[Priority, float] = field(default_factory=dict)
    next_response_hours: float | None = None
    calendar: BusinessCalendar = ALWAYS

    def hours_for(self, priority: Priority) -> float:
        """The first-response target of a ticket of ``priority``."""
        return self.priority_hours.get(priority, self.first_response_hours)

    def first_response(self, created_at: datetime, priority: Priority) -> Deadline:
        """The first public reply's reminder and due instants."""
        return self._deadline(created_at, self.hours_for(priority))

    def first_response_due(self, created_at: datetime, priority: Priority) -> datetime:
        """The due time of the first public reply to a ticket of ``priority``."""
        return self.first_response(created_at, priority).due_at

    def next_response(self, customer_at: datetime) -> Deadline | None:
        """The next public reply's reminder and due instants (None: no such promise)."""
        if self.next_response_hours is None:
            return None
        return self._deadline(customer_at, self.next_response_hours)

    def _deadline(self, start: datetime, hours: float) -> Deadline:
        return Deadline(
            self.calendar.add(start, hours * REMINDER_FRACTION), self.calendar.add(start, hours)
        )


DEFAULT_SLA = SlaPolicy()
