"""A report as the JSON and CSV that ``ticketd report`` prints and the dashboard offers
for download (one serialisation, so both give the same bytes for the same figures)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from ticketd.routing.reports import PeriodFigures, Report

CSV_COLUMNS = ("period", "measure", "key", "value")
BOM = "\ufeff"
"""Spreadsheets in Korea open UTF-8 CSV correctly only with a byte-order mark."""

SCALARS = {
    "new": 0,
    "resolved": 0,
    "closed": 0,
    "reopened": 0,
    "duplicates": 0,
    "first_response_median_hours": 2,
    "first_response_p90_hours": 2,
    "sla_met_ratio": 4,
    "duplicate_rate": 4,
}
"""Each period's single figures and the decimals they are given with (hours to 0.01,
ratios to 0.0001)."""
COUNTS = ("by_code", "by_type", "by_channel")


def report_json(report: Report) -> dict[str, Any]:
    """The report's JSON object: the range, its periods, and (beyond it) the range's
    total with its codes split by ticket type, the previous range and the state now."""
    request = report.request
    return {
        "from": request.start.isoformat(),
        "to": request.end.isoformat(),
        "by": request.by.value,
        "timezone": request.timezone,
        "periods": [period_json(period) for period in report.periods],
        "total": period_json(report.total) | {"code_types": _code_types(report.total)},
        "previous": period_json(report.previous),
        "status_now": dict(report.status_now),
        "open_by_owner": dict(report.open_by_owner),
    }


def period_json(period: PeriodFigures) -> dict[str, Any]:
    """One period's figures."""
    found: dict[str, Any] = {"start": period.start.isoformat()}
    for name, digits in SCALARS.items():
        found[name] = _number(getattr(period, name), digits)
    for name in COUNTS:
        found[name] = dict(getattr(period, name))
    found["by_owner"] = {
        email: {
            "open": owner.open,
            "handled": owner.handled,
            "first_response_median_hours": _number(owner.first_response_median_hours, 2),
        }
        for email, owner in period.by_owner.items()
    }
    found["csat"] = {"good": period.csat.good, "bad": period.csat.bad}
    return found


def report_csv(report: Report) -> str:
    """The same figures, one row per period and measure (``period,measure,key,value``),
    then the range's codes by ticket type (period ``total``, key ``CODE|TYPE``), with a
    byte-order mark."""
    periods = (row for period in report.periods for row in _rows(period))
    return spreadsheet_csv([CSV_COLUMNS, *periods, *_code_type_rows(report.total)])


def _code_types(period: PeriodFigures) -> dict[str, dict[str, int]]:
    return {code: dict(types) for code, types in period.code_types.items()}


def _code_type_rows(period: PeriodFigures) -> Iterator[tuple[str, str, str, str]]:
    for code, types in period.code_types.items():
        for kind, count in types.items():
            yield "total", "code_types", f"{code}|{kind}", str(count)


def spreadsheet_csv(rows: Iterable[Sequence[object]]) -> str:
    """Rows as CSV that spreadsheets open as UTF-8: CRLF lines after a byte-order mark."""
    out = _Text()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return BOM + "".join(out.parts)


class _Text:
    """What ``csv.writer`` writes into: the text's parts, kept in memory."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)


def _rows(period: PeriodFigures) -> Iterator[tuple[str, str, str, str]]:
    start = period.start.isoformat()
    for name, digits in SCALARS.items():
        number = _number(getattr(period, name), digits)
        yield start, name, "", "" if number is None else str(number)
    for name in COUNTS:
        for key, count in getattr(period, name).items():
            yield start, name, key, str(count)
    for email, owner in period.by_owner.items():
        yield start, "by_owner.open", email, str(owner.open)
        yield start, "by_owner.handled", email, str(owner.handled)
    yield start, "csat", "good", str(period.csat.good)
    yield start, "csat", "bad", str(period.csat.bad)


def _number(value: float | None, digits: int) -> float | None:
    return value if value is None or not digits else round(value, digits)
