"""The voice of the customer in figures: what a report asks for and what it answers, as
frozen values the store builds (``store/reports.py``) and the dashboard, ``ticketd report``
and the digest render. Periods are calendar days, ISO weeks (Monday first) or months in
the service timezone."""

from __future__ import annotations

import enum
import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate


class Granularity(enum.StrEnum):
    """How a report's range is cut into periods."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True, slots=True)
class ReportRequest:
    """Figures from ``start`` to ``end`` (both days included, in ``timezone``) by ``by``;
    ``top`` codes are named on the dashboard."""

    start: date
    end: date
    by: Granularity
    timezone: str
    top: int = 10


@dataclass(frozen=True, slots=True)
class OwnerFigures:
    """One owner in one period: open at its end, handled (resolved) in it, and the median
    hours to the first public reply of the tickets created in it."""

    open: int = 0
    handled: int = 0
    first_response_median_hours: float | None = None


@dataclass(frozen=True, slots=True)
class Csat:
    """Satisfaction ratings given in a period."""

    good: int = 0
    bad: int = 0


@dataclass(frozen=True, slots=True)
class PeriodFigures:
    """Every figure of one period (or of a whole range). ``by_code`` names each ticket's
    own code path (retired codes included); tickets without a code or type are left out
    of ``by_code`` and ``by_type``. ``code_types`` splits each code by ticket type, for a
    report's whole range only (empty for its periods and the range before it)."""

    start: date
    new: int = 0
    resolved: int = 0
    closed: int = 0
    reopened: int = 0
    duplicates: int = 0
    first_response_median_hours: float | None = None
    first_response_p90_hours: float | None = None
    sla_met_ratio: float | None = None
    by_code: Mapping[str, int] = field(default_factory=dict)
    by_type: Mapping[str, int] = field(default_factory=dict)
    by_owner: Mapping[str, OwnerFigures] = field(default_factory=dict)
    by_channel: Mapping[str, int] = field(default_factory=dict)
    code_types: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    csat: Csat = field(default_factory=Csat)

    @property
    def duplicate_rate(self) -> float | None:
        """Duplicates per claim received (new tickets plus their duplicates)."""
        received = self.new + self.duplicates
        return self.duplicates / received if received else None


@dataclass(frozen=True, slots=True)
class Report:
    """A range's periods, the range as a whole, the range of the same length before it
    (for change), and the state now (tickets by status, open tickets by owner)."""

    request: ReportRequest
    periods: Sequence[PeriodFigures]
    total: PeriodFigures
    previous: PeriodFigures
    status_now: Mapping[str, int] = field(default_factory=dict)
    open_by_owner: Mapping[str, int] = field(default_factory=dict)


def period_starts(start: date, end: date, by: Granularity) -> tuple[date, ...]:
    """The first day of every period that meets ``start``…``end`` (a week starts on
    Monday, a month on its first), the first one clipped to ``start``."""
    starts = [start]
    day = _next_start(_floor(start, by), by)
    while day <= end:
        starts.append(day)
        day = _next_start(day, by)
    return tuple(starts)


def previous_range(start: date, end: date) -> tuple[date, date]:
    """The range of the same number of days just before ``start``…``end``."""
    days = (end - start).days + 1
    return start - timedelta(days=days), start - timedelta(days=1)


def percentile(sorted_values: Sequence[float], fraction: float) -> float | None:
    """The ``fraction`` percentile of ascending values (linear between neighbours), None
    for none."""
    return counted_percentile([(value, 1) for value in sorted_values], fraction)


def counted_percentile(counts: Sequence[tuple[float, int]], fraction: float) -> float | None:
    """``percentile`` of ascending values given as (value, how many times) pairs."""
    if not counts:
        return None
    ends = list(accumulate(n for _, n in counts))
    rank = (ends[-1] - 1) * fraction
    low = math.floor(rank)
    high = min(low + 1, ends[-1] - 1)
    below, above = counts[bisect_right(ends, low)][0], counts[bisect_right(ends, high)][0]
    return below + (above - below) * (rank - low)


def _floor(day: date, by: Granularity) -> date:
    if by is Granularity.WEEK:
        return day - timedelta(days=day.weekday())
    if by is Granularity.MONTH:
        return day.replace(day=1)
    return day


def _next_start(day: date, by: Granularity) -> date:
    if by is Granularity.WEEK:
        return day + timedelta(days=7)
    if by is Granularity.MONTH:
        return (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return day + timedelta(days=1)
