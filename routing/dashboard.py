"""What the manager dashboard asks: its range (the last 30 days by default, or a preset),
and the drill-down from a figure to the list of exactly the tickets it counts."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, timedelta

DEFAULT_DAYS = 30
MAX_DAYS = 3 * 366
"""The longest range the dashboard reads at once."""


class Measure(enum.StrEnum):
    """A figure a drill-down lists the tickets of (``key`` names the code, type, owner or
    channel where one is needed)."""

    NEW = "new"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"
    DUPLICATES = "duplicates"
    CODE = "code"
    TYPE = "type"
    OWNER = "owner"
    CHANNEL = "channel"
    CSAT_GOOD = "csat_good"
    CSAT_BAD = "csat_bad"
    SLA_BREACHED = "sla_breached"


KEYED = frozenset({Measure.CODE, Measure.TYPE, Measure.OWNER, Measure.CHANNEL})


@dataclass(frozen=True, slots=True)
class DrillDown:
    """The tickets behind one figure from ``start`` to ``end`` (days included, in
    ``timezone``)."""

    measure: Measure
    start: date
    end: date
    timezone: str
    key: str = ""


def default_range(today: date) -> tuple[date, date]:
    """The last 30 days, today included."""
    return today - timedelta(days=DEFAULT_DAYS - 1), today


def presets(today: date) -> tuple[tuple[str, date, date], ...]:
    """The named ranges offered beside the form: this and last week (Monday first), this
    and last month, the last 90 days and this year (each up to today at most)."""
    monday = today - timedelta(days=today.weekday())
    first = today.replace(day=1)
    last_month_end = first - timedelta(days=1)
    return (
        ("this_week", monday, today),
        ("last_week", monday - timedelta(days=7), monday - timedelta(days=1)),
        ("this_month", first, today),
        ("last_month", last_month_end.replace(day=1), last_month_end),
        ("last_90_days", today - timedelta(days=89), today),
        ("this_year", today.replace(month=1, day=1), today),
    )


def period_ends(starts: tuple[date, ...], end: date) -> tuple[date, ...]:
    """The last day of each period that begins at ``starts`` (the last one ends at
    ``end``)."""
    return tuple(s - timedelta(days=1) for s in starts[1:]) + ((end,) if starts else ())
