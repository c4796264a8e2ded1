"""``ticketd report``: its options read into a ``ReportRequest`` and the report printed
as the dashboard's JSON or as CSV."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from ticketd.routing.report_format import report_csv, report_json
from ticketd.routing.reports import Granularity, ReportRequest
from ticketd.store.reports import SqlReports

DEFAULT_DAYS = 30
"""``--from`` defaults to 29 days before ``--to``: the last 30 days."""


class BadOption(Exception):
    """An option that cannot be read, named in the message."""


def report_request(
    start: str | None, end: str | None, by: str, timezone: str, now: datetime
) -> ReportRequest:
    """The request the options ask for; ``--to`` is today in ``timezone`` by default."""
    last = _day("--to", end) if end else now.astimezone(ZoneInfo(timezone)).date()
    first = _day("--from", start) if start else last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise BadOption(f"--from {first.isoformat()} is after --to {last.isoformat()}")
    return ReportRequest(first, last, Granularity(by), timezone)


def render_report(engine: Engine, request: ReportRequest, now: datetime, form: str) -> str:
    """The report as JSON (indented, UTF-8 as is) or CSV (with a byte-order mark)."""
    report = SqlReports(engine).report(request, now)
    if form == "csv":
        return report_csv(report)
    return json.dumps(report_json(report), ensure_ascii=False, indent=2) + "\n"


def _day(option: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadOption(f"{option}: expected a date YYYY-MM-DD, not {value!r}") from None
