"""How a report's range is cut into periods, its percentiles, its JSON and CSV."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from ticketd.routing.report_format import report_csv, report_json
from ticketd.routing.reports import (
    Csat,
    Granularity,
    OwnerFigures,
    PeriodFigures,
    Report,
    ReportRequest,
    percentile,
    period_starts,
    previous_range,
)


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


def test_the_csv_and_the_json_carry_the_same_figures() -> None:
    period = PeriodFigures(
        start=date(2027, 1, 4),
        new=3,
        duplicates=1,
        first_response_median_hours=2.3456,
        sla_met_ratio=2 / 3,
        by_code={"배송/파손": 2},
        by_owner={"alice@example.com": OwnerFigures(open=1, handled=2)},
        csat=Csat(good=1),
    )
    request = ReportRequest(date(2027, 1, 4), date(2027, 1, 10), Granularity.WEEK, "Asia/Seoul")
    report = Report(request, (period,), period, PeriodFigures(start=date(2026, 12, 28)))
    data = report_json(report)
    assert data["from"] == "2027-01-04" and data["by"] == "week"
    (first,) = data["periods"]
    assert first["first_response_median_hours"] == 2.35 and first["sla_met_ratio"] == 0.6667
    assert first["duplicate_rate"] == 0.25 and first["by_code"] == {"배송/파손": 2}
    assert first["by_owner"]["alice@example.com"]["handled"] == 2
    text = report_csv(report)
    assert text.startswith("\ufeffperiod,measure,key,value\r\n")
    rows = {(r[1], r[2]): r[3] for r in csv.reader(io.StringIO(text.lstrip("\ufeff")))}
    assert rows[("new", "")] == "3" and rows[("by_code", "배송/파손")] == "2"
    assert rows[("first_response_median_hours", "")] == "2.35"
    assert rows[("first_response_p90_hours", "")] == ""
    assert rows[("by_owner.handled", "alice@example.com")] == "2"
    assert rows[("csat", "good")] == "1"
