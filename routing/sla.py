"""First-response SLA and auto-close decisions (pure)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from ticketd.routing.model import Priority

REMINDER_FRACTION = 0.75


class SlaStep(enum.StrEnum):
    NONE = "none"
    REMIND = "remind"
    BREACH = "breach"


def first_response_step(
    created_at: datetime,
    now: datetime,
    hours: float,
    *,
    answered: bool,
    reminded: bool,
    breached: bool,
) -> SlaStep:
    """What the first-response clock asks for now: nothing, the 75 % reminder, or a breach."""
    if answered or breached:
        return SlaStep.NONE
    elapsed = now - created_at
    if elapsed >= timedelta(hours=hours):
        return SlaStep.BREACH
    if not reminded and elapsed >= timedelta(hours=hours * REMINDER_FRACTION):
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
    """When a ticket's first response is due (today: a fixed number of hours from its
    creation, whatever its priority)."""

    first_response_hours: float = DEFAULT_FIRST_RESPONSE_HOURS

    def first_response_due(self, created_at: datetime, priority: Priority) -> datetime:
        """The due time of the first public reply to a ticket of ``priority``."""
        return created_at + timedelta(hours=self.first_response_hours)


DEFAULT_SLA = SlaPolicy()
