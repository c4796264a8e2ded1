"""A report reads a span of kept days as the fewest blocks: whole months, then weeks that
stop where a whole month begins, then days."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from ticketd.store.report_blocks import DAY, MONTH, WEEK, cover, end_of


def days(start: date, end: date) -> set[date]:
    return {start + timedelta(days=n) for n in range((end - start).days)}


def test_a_year_from_a_monday_is_read_as_months_with_weeks_and_days_only_at_its_ends() -> None:
    start, end = date(2024, 11, 25), date(2025, 11, 25)  # a Monday, mid-month
    blocks = list(cover(start, end, days(start, end), start))
    assert Counter(kind for kind, _ in blocks) == {MONTH: 11, WEEK: 3, DAY: 9}
    assert blocks[0] == (DAY, date(2024, 11, 25))  # no week reaching into December
    assert (MONTH, date(2024, 12, 1)) in blocks
    assert blocks[-1] == (DAY, date(2025, 11, 24))


def test_blocks_cover_every_kept_day_once_and_skip_the_rest() -> None:
    start, end = date(2025, 1, 6), date(2025, 6, 30)
    kept = days(start, end) - {date(2025, 3, 12)}
    blocks = list(cover(start, end, kept, start))
    covered = [day for kind, first in blocks for day in sorted(days(first, end_of(kind, first)))]
    assert sorted(covered) == sorted(kept)
    assert len(covered) == len(set(covered))
    assert (MONTH, date(2025, 3, 1)) not in blocks  # a day of March is not kept
    assert (MONTH, date(2025, 4, 1)) in blocks


def test_a_week_may_cross_into_a_month_that_cannot_be_read_whole() -> None:
    start, end = date(2025, 3, 24), date(2025, 4, 14)  # April is cut short by the end
    blocks = list(cover(start, end, days(start, end), start))
    assert blocks == [
        (WEEK, date(2025, 3, 24)),
        (WEEK, date(2025, 3, 31)),
        (WEEK, date(2025, 4, 7)),
    ]
