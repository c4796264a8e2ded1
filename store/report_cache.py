"""The report cache: past local days' figures kept in ``report_days``, marked stale by the
writer whenever a ticket it touches may change one (``mark_stale``), brought up to date by
the poller's jobs (``refresh``, through the writer). Reports read the days kept and
gather the rest (today, stale and never-kept days) live, so a cache that lags is slower,
never wrong."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, delete, func, insert, select, text, tuple_, union_all

from ticketd.store.report_days import Day, gather
from ticketd.store.schema import events, report_days, report_stale, tickets

CHUNK = 500
REFRESH_DAYS = 400
"""Never-kept days filled by one refresh (a big desk's first fill takes a few)."""

MARK = text(
    "INSERT INTO report_stale (day, generation) VALUES (:day, 1) "
    "ON CONFLICT (day) DO UPDATE SET generation = report_stale.generation + 1"
)


def days_between(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def mark_stale(connection: Connection, ticket_ids: Iterable[int]) -> None:
    """Mark the UTC dates of every event and the creation of these tickets."""
    ids = sorted(ticket_ids)
    dates: set[date] = set()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        times = union_all(
            select(events.c.at).where(events.c.ticket_id.in_(chunk)).distinct(),
            select(tickets.c.created_at).where(tickets.c.id.in_(chunk)),
        )
        dates.update(_utc(at).date() for (at,) in connection.execute(times))
    for day in sorted(dates):
        connection.execute(MARK, {"day": day.isoformat()})


def cached(connection: Connection, timezone: str, start: date, end: date) -> dict[date, Day]:
    """The kept days from ``start`` to ``end`` that are not stale."""
    stale = _local(_stale(connection), timezone)
    rows = connection.execute(
        select(report_days.c.day, report_days.c.figures).where(
            report_days.c.timezone == timezone,
            report_days.c.day >= start.isoformat(),
            report_days.c.day <= end.isoformat(),
        )
    )
    found = {}
    for text_day, figures in rows:
        day, kept = date.fromisoformat(text_day), Day.loads(figures)
        if kept is not None and day not in stale:
            found[day] = kept
    return found


def refresh(connection: Connection, timezone: str, now: datetime) -> int:
    """Gather and keep the stale days and up to ``REFRESH_DAYS`` never-kept ones, from
    the first ticket's day to yesterday; returns how many days were kept."""
    marks = _stale(connection)
    connection.execute(delete(report_days).where(report_days.c.timezone != timezone))
    start = first_day(connection, timezone)
    yesterday = now.astimezone(ZoneInfo(timezone)).date() - timedelta(days=1)
    todo: set[date] = set()
    if start is not None:
        kept = {
            date.fromisoformat(day)
            for (day,) in connection.execute(
                select(report_days.c.day).where(report_days.c.timezone == timezone)
            )
        }
        missing = (day for day in days_between(start, yesterday) if day not in kept)
        todo = {day for day, _ in zip(missing, range(REFRESH_DAYS), strict=False)}
        todo |= {day for day in _local(marks, timezone) if start <= day <= yesterday}
    figures = gather(connection, sorted(todo), timezone)
    keys = sorted(day.isoformat() for day in figures)
    for begin in range(0, len(keys), CHUNK):
        connection.execute(
            delete(report_days).where(
                report_days.c.timezone == timezone,
                report_days.c.day.in_(keys[begin : begin + CHUNK]),
            )
        )
    if figures:
        connection.execute(
            insert(report_days),
            [
                {
                    "timezone": timezone,
                    "day": day.isoformat(),
                    "figures": day_figures.dumps(),
                    "computed_at": now,
                }
                for day, day_figures in sorted(figures.items())
            ],
        )
    seen = sorted(marks.items())
    for begin in range(0, len(seen), CHUNK):
        connection.execute(
            delete(report_stale).where(
                tuple_(report_stale.c.day, report_stale.c.generation).in_(
                    seen[begin : begin + CHUNK]
                )
            )
        )
    return len(figures)


def first_day(connection: Connection, timezone: str) -> date | None:
    """The local day the first ticket was created (no figure is older), or None."""
    first = connection.execute(select(func.min(tickets.c.created_at))).scalar()
    return None if first is None else _utc(first).astimezone(ZoneInfo(timezone)).date()


def _stale(connection: Connection) -> dict[str, int]:
    rows = connection.execute(select(report_stale.c.day, report_stale.c.generation))
    return {day: generation for day, generation in rows}


def _local(utc_days: Iterable[str], timezone: str) -> set[date]:
    """The local days a UTC date overlaps."""
    zone = ZoneInfo(timezone)
    found: set[date] = set()
    for text_day in utc_days:
        start = datetime.combine(date.fromisoformat(text_day), time(), UTC)
        last = start + timedelta(days=1) - timedelta(microseconds=1)
        found.update({start.astimezone(zone).date(), last.astimezone(zone).date()})
    return found


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
