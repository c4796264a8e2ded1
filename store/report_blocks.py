"""Blocks of kept report days: a day, an ISO week (Monday first) or a calendar month, each
kept summed (``store/report_cache.py``) so a report reads a year as some fifty rows of
blocks instead of 365 days. A block counts only when every one of its days is kept and
fresh; a report covers each of its spans with the largest such blocks."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from datetime import date, timedelta

DAY, WEEK, MONTH = "d", "w", "m"


def end_of(kind: str, start: date) -> date:
    """The day after the block of ``kind`` that starts on ``start``."""
    if kind == MONTH:
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=7 if kind == WEEK else 1)


def containing(days: Iterable[date]) -> set[tuple[str, date]]:
    """The weeks and months that hold any of ``days``."""
    found: set[tuple[str, date]] = set()
    for day in days:
        found.add((WEEK, day - timedelta(days=day.weekday())))
        found.add((MONTH, day.replace(day=1)))
    return found


def whole(kind: str, start: date, kept: Collection[date], first: date) -> bool:
    """Every day of the block is kept, or before ``first`` (the first ticket's day)."""
    day, end = max(start, first), end_of(kind, start)
    while day < end:
        if day not in kept:
            return False
        day += timedelta(days=1)
    return True


def cover(
    start: date, end: date, kept: Collection[date], first: date
) -> Iterator[tuple[str, date]]:
    """The blocks of kept days from ``start`` to ``end`` (not included), largest first:
    a whole kept month, else a whole kept week that does not reach into the next month
    when that month can be read whole, else a kept day (``whole``); days not kept are
    left out (they are gathered live)."""

    def fits(kind: str, day: date) -> bool:
        return end_of(kind, day) <= end and whole(kind, day, kept, first)

    day = start
    while day < end:
        month = day if day.day == 1 else end_of(MONTH, day.replace(day=1))
        limit = month if day < month and fits(MONTH, month) else end
        for kind, aligned in ((MONTH, day == month), (WEEK, day.weekday() == 0), (DAY, True)):
            if aligned and end_of(kind, day) <= limit and fits(kind, day):
                yield kind, day
                day = end_of(kind, day)
                break
        else:
            day += timedelta(days=1)
