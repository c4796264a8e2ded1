"""How a report's range is cut into periods, and its percentiles."""

from __future__ import annotations

from datetime import date

import pytest

from ticketd.routing.reports import Granularity, percentile, period_starts, previous_range


def test_weeks_start_on_monday_and_the_first_is_clipped_to_the_range() -> None:
    starts = period_starts(date(2026, 12, 3), date(2026, 12, 21), Granularity.WEEK)
    assert starts == (date(2026, 12, 3), date(2026, 12, 7), date(2026, 12, 14), date(2026, 12, 21))


def test_months_cross_a_year_end_and_february() -> None:
    starts = period_starts(date(2026, 12, 15), date(2027, 3, 1), Granularity.MONTH)
    assert starts == (date(2026, 12, 15), date(2027, 1, 1), date(2027, 2, 1), date(2027, 3, 1))


def test_days_are_every_day_of_the_range() -> None:
    starts = period_starts(date(2027, 2, 27), date(2027, 3, 2), Granularity.DAY)
    assert [d.day for d in starts] == [27, 28, 1, 2]


def test_the_previous_range_has_as_many_days() -> None:
    assert previous_range(date(2027, 3, 1), date(2027, 3, 31)) == (
        date(2027, 1, 29),
        date(2027, 2, 28),
    )


def test_percentiles_interpolate_between_neighbours() -> None:
    assert percentile([], 0.5) is None
    assert percentile([3.0], 0.9) == 3.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile([float(n) for n in range(1, 11)], 0.9) == pytest.approx(9.1)
