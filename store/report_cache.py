"""The report cache: past local days' figures kept as rows (``report_days`` the days,
``report_counts`` their counts, ``report_responses`` their response times), marked stale
by the writer whenever a ticket it touches may change one (``mark_stale``), brought up to
date by the poller's jobs (``refresh``, through the writer). Reports add up the kept rows
of their periods' largest kept blocks (``kept_counts``, ``kept_responses``; by day, and
summed by week and month: ``store/report_blocks.py``) and gather the rest (today, stale
and never-kept days) live, so a cache that lags is slower, never wrong."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Table,
    and_,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    tuple_,
    union_all,
)

from ticketd.store.report_blocks import DAY, containing, end_of, whole
from ticketd.store.report_days import CODE_TYPE_MEASURE, Day, due_key, gather
from ticketd.store.schema import (
    events,
    report_counts,
    report_days,
    report_responses,
    report_stale,
    tickets,
)

CHUNK = 500
ROWS: tuple[tuple[Table, tuple[str, str], Callable[[Day], Iterable[tuple[Any, ...]]]], ...] = (
    (report_counts, ("measure", "key"), Day.counts),
    (report_responses, ("owner", "seconds"), Day.response_counts),
)
"""The kept rows' tables, the keys of their counts ``n``, and what a day gives them."""
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


def cached(connection: Connection, timezone: str, start: date, end: date) -> set[date]:
    """The kept days from ``start`` to ``end`` that are not stale."""
    stale = _local(_stale(connection), timezone)
    rows = connection.execute(
        select(report_days.c.day).where(
            report_days.c.timezone == timezone,
            report_days.c.day >= start.isoformat(),
            report_days.c.day <= end.isoformat(),
        )
    )
    return {day for (text_day,) in rows if (day := date.fromisoformat(text_day)) not in stale}


def kept_counts(
    connection: Connection, timezone: str, blocks: Collection[tuple[str, str]], now: datetime
) -> Iterator[tuple[str, str, str, dict[str, int]]]:
    """The counts of kept ``blocks`` ((block, ISO start) pairs) as (block, start, measure,
    key → n), and per block, as measure ``due_later``, its unanswered tickets due at
    ``now`` or later (each due time read on the index). A block's measure may come in
    more than one piece: add them up. Code types are left out: ``kept_code_types``."""
    c = report_counts.c
    queries = []
    for chosen in _chosen(report_counts, timezone, blocks):
        queries.append(
            select(c.block, c.day, c.measure, c.key, c.n).where(
                chosen, c.measure.not_in(("due_at", CODE_TYPE_MEASURE))
            )
        )
        queries.append(
            select(c.block, c.day, literal("due_later"), literal(""), func.sum(c.n))
            .where(chosen, c.measure == "due_at", c.key >= due_key(now))
            .group_by(c.block, c.day)
        )
    return _pieces(connection, queries)


def kept_code_types(
    connection: Connection, timezone: str, blocks: Collection[tuple[str, str]]
) -> Iterator[tuple[str, int]]:
    """The code types of kept ``blocks`` summed by the database: (``code_key``, n)."""
    if not blocks:
        return
    c = report_counts.c
    chosen = or_(*_chosen(report_counts, timezone, blocks))
    query = (
        select(c.key, func.sum(c.n)).where(chosen, c.measure == CODE_TYPE_MEASURE).group_by(c.key)
    )
    for counted, n in connection.execute(query):
        yield counted, int(n)


def kept_responses(
    connection: Connection, timezone: str, blocks: Collection[tuple[str, str]]
) -> Iterator[tuple[str, str, str, dict[int, int]]]:
    """The response times of kept ``blocks`` as (block, start, owner, seconds → how
    many), in pieces as ``kept_counts``."""
    c = report_responses.c
    return _pieces(
        connection,
        [
            select(c.block, c.day, c.owner, c.seconds, c.n).where(chosen)
            for chosen in _chosen(report_responses, timezone, blocks)
        ],
    )


def _pieces(connection: Connection, queries: Sequence[Select[Any]]) -> Iterator[Any]:
    """The (block, start, a, b, n) rows of ``queries`` as (block, start, a, b → n), one
    piece per run of rows of one (block, start, a): the rows come in index order, so a
    block's measure is usually one piece, built in one go."""
    if not queries:
        return
    rows = connection.execute(union_all(*queries)).all()
    for (kind, start, name), run in groupby(rows, itemgetter(0, 1, 2)):
        yield kind, start, name, {row[3]: row[4] for row in run}


def _chosen(
    table: Table, timezone: str, blocks: Collection[tuple[str, str]]
) -> list[ColumnElement[bool]]:
    """The rows of ``blocks``, one condition (an index range) per kind of block."""
    starts: dict[str, list[str]] = defaultdict(list)
    for kind, start in blocks:
        starts[kind].append(start)
    c = table.c
    return [
        and_(c.timezone == timezone, c.block == kind, c.day.in_(days))
        for kind, days in sorted(starts.items())
    ]


def refresh(connection: Connection, timezone: str, now: datetime) -> int:
    """Gather and keep the stale days and up to ``REFRESH_DAYS`` never-kept ones, from
    the first ticket's day to yesterday; returns how many days were kept."""
    marks = _stale(connection)
    for table in (report_days, report_counts, report_responses):
        connection.execute(delete(table).where(table.c.timezone != timezone))
    start = first_day(connection, timezone)
    yesterday = now.astimezone(ZoneInfo(timezone)).date() - timedelta(days=1)
    todo: set[date] = set()
    kept: set[date] = set()
    if start is not None:
        kept |= {
            date.fromisoformat(day)
            for (day,) in connection.execute(
                select(report_days.c.day).where(report_days.c.timezone == timezone)
            )
        }
        missing = (day for day in days_between(start, yesterday) if day not in kept)
        todo = {day for day, _ in zip(missing, range(REFRESH_DAYS), strict=False)}
        todo |= {day for day in _local(marks, timezone) if start <= day <= yesterday}
        kept |= todo
    figures = gather(connection, sorted(todo), timezone)
    keys = sorted(day.isoformat() for day in figures)
    for table in (report_days, report_counts, report_responses):
        for begin in range(0, len(keys), CHUNK):
            connection.execute(
                delete(table).where(
                    table.c.timezone == timezone, table.c.day.in_(keys[begin : begin + CHUNK])
                )
            )
    days = sorted(figures.items())
    _insert(
        connection,
        report_days,
        [{"timezone": timezone, "day": day.isoformat(), "computed_at": now} for day, _ in days],
    )
    for table, names, rows in ROWS:
        _insert(
            connection,
            table,
            [
                {"timezone": timezone, "block": DAY, "day": day.isoformat()}
                | dict(zip((*names, "n"), row, strict=True))
                for day, kept in days
                for row in rows(kept)
            ],
        )
    for kind, block in sorted(containing(figures)):
        _sum_block(
            connection, timezone, kind, block, start is not None and whole(kind, block, kept, start)
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


def _sum_block(connection: Connection, timezone: str, kind: str, start: date, keep: bool) -> None:
    """Replace the sums of the block of ``kind`` starting on ``start`` by those of its
    kept days (none unless ``keep``: every day of it is kept)."""
    span = (start.isoformat(), end_of(kind, start).isoformat())
    for table, keys, _ in ROWS:
        c = table.c
        this = and_(c.timezone == timezone, c.block == kind, c.day == span[0])
        connection.execute(delete(table).where(this))
        if not keep:
            continue
        grouped = [c[key] for key in keys]
        days = select(
            literal(timezone), literal(kind), literal(span[0]), *grouped, func.sum(c.n)
        ).where(c.timezone == timezone, c.block == DAY, c.day >= span[0], c.day < span[1])
        connection.execute(
            insert(table).from_select(
                ["timezone", "block", "day", *keys, "n"], days.group_by(*grouped)
            )
        )


def _insert(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    for begin in range(0, len(rows), CHUNK * 10):
        connection.execute(insert(table), rows[begin : begin + CHUNK * 10])


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
