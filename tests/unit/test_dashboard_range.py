"""The dashboard's ranges: the default, the presets and the periods' last days."""

from __future__ import annotations

from datetime import date

from ticketd.routing.dashboard import default_range, period_ends, presets
from ticketd.routing.reports import Granularity, period_starts


def test_the_default_is_the_last_30_days_today_included() -> None:
    assert default_range(date(2026, 3, 31)) == (date(2026, 3, 2), date(2026, 3, 31))


def test_presets_on_a_wednesday_in_january() -> None:
    found = {name: (start, end) for name, start, end in presets(date(2026, 1, 7))}
    assert found["this_week"] == (date(2026, 1, 5), date(2026, 1, 7))
    assert found["last_week"] == (date(2025, 12, 29), date(2026, 1, 4))
    assert found["this_month"] == (date(2026, 1, 1), date(2026, 1, 7))
    assert found["last_month"] == (date(2025, 12, 1), date(2025, 12, 31))
    assert found["last_90_days"] == (date(2025, 10, 10), date(2026, 1, 7))
    assert found["this_year"] == (date(2026, 1, 1), date(2026, 1, 7))


def test_each_period_ends_the_day_before_the_next_and_the_last_at_the_range_end() -> None:
    starts = period_starts(date(2026, 3, 4), date(2026, 3, 17), Granularity.WEEK)
    assert period_ends(starts, date(2026, 3, 17)) == (
        date(2026, 3, 8),
        date(2026, 3, 15),
        date(2026, 3, 17),
    )
    assert period_ends((), date(2026, 3, 17)) == ()
