"""The report query layer: one ``SqlReports.report`` for ``ticketd report``, the dashboard
(``web/staff/ports.py`` ``ReportReader``) and the digest.

Periods are local days, Monday weeks or months in the service timezone; their bounds are
computed here (zoneinfo, so a DST day has 23 or 25 hours) and every row is bucketed in SQL
by a binary CASE over those bounds, so a year of tickets is aggregated by the database,
never looped over in Python. Definitions, per period:

- ``new``: tickets created in it (merged ones included);
- ``duplicates``: ``duplicate`` events in it (a resent claim, and a ticket merged into
  another, which records one on its target);
- ``resolved`` / ``closed``: distinct tickets with a ``status_changed`` event to that
  status in it (an event's ``value`` is the new status);
- ``reopened``: status changes in it from resolved or closed to an open status (open,
  pending, waiting); the old status is the value of the ticket's previous
  ``status_changed`` event;
- first response median and p90 hours: ``created_at`` to ``first_response_at`` (wall
  clock) of the tickets created in it and answered;
- ``sla_met_ratio``: among tickets created in it with a due time that were answered or
  are past due now, the share answered by ``first_response_due_at``;
- ``by_code``, ``by_type``, ``by_channel``, ``code_types``: tickets created in it;
- ``by_owner``: ``open`` is the owner's (current owner's) tickets open at the period's
  end: created before it and not resolved or closed by then, where "by then" is judged by
  the ticket's latest ``resolved_at`` (else ``closed_at``) if it is resolved or closed now
  (a ticket reopened and resolved again counts as open in between only from its latest
  resolution's view); ``handled``: distinct tickets resolved in it, by current owner;
  the median first response of the tickets created in it, by owner;
- ``csat``: ratings given in it, the latest per ticket and resolution.

The whole range and the range before it come from the same queries with two periods;
``status_now`` and ``open_by_owner`` are the tickets as they are now.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    and_,
    case,
    exists,
    func,
    literal,
    not_,
    or_,
    select,
)

from ticketd.routing.model import OPEN_STATUSES, EventKind, Status
from ticketd.routing.reports import (
    Csat,
    OwnerFigures,
    PeriodFigures,
    Report,
    ReportRequest,
    percentile,
    period_starts,
    previous_range,
)
from ticketd.store.schema import UTCDateTime, codes, events, tickets

DONE = (Status.RESOLVED.value, Status.CLOSED.value)
OPEN = tuple(sorted(status.value for status in OPEN_STATUSES))


def bounds(starts: Sequence[date], end: date, timezone: str) -> tuple[datetime, ...]:
    """The UTC instants of each period's first local midnight, and of the one after
    ``end``."""
    zone = ZoneInfo(timezone)
    days = [*starts, end + timedelta(days=1)]
    return tuple(datetime.combine(day, time(), zone).astimezone(UTC) for day in days)


def bucket(
    column: ColumnElement[Any], edges: Sequence[datetime], low: int = 0
) -> ColumnElement[Any]:
    """The period number of ``column`` among ``edges`` (``edges[i] <= column <
    edges[i+1]`` is period ``i``), as a binary CASE: a handful of comparisons a row."""
    if len(edges) == 2:
        return literal(low)
    middle = len(edges) // 2
    return case(
        (column < literal(edges[middle], UTCDateTime()), bucket(column, edges[: middle + 1], low)),
        else_=bucket(column, edges[middle:], low + middle),
    )


def within(column: ColumnElement[Any], edges: Sequence[datetime]) -> ColumnElement[bool]:
    """``column`` falls in one of the periods."""
    return and_(
        column >= literal(edges[0], UTCDateTime()), column < literal(edges[-1], UTCDateTime())
    )


def hours(
    connection: Connection, start: ColumnElement[Any], end: ColumnElement[Any]
) -> ColumnElement[Any]:
    """Hours from ``start`` to ``end`` on this database."""
    if connection.dialect.name == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 24.0
    return func.extract("epoch", end - start) / 3600.0


@dataclass
class Tally:
    """One period's figures while they are gathered."""

    new: int = 0
    resolved: int = 0
    closed: int = 0
    reopened: int = 0
    duplicates: int = 0
    sla_counted: int = 0
    sla_met: int = 0
    median: float | None = None
    p90: float | None = None

    def __post_init__(self) -> None:
        self.by_code: dict[str, int] = defaultdict(int)
        self.by_type: dict[str, int] = defaultdict(int)
        self.by_channel: dict[str, int] = defaultdict(int)
        self.code_types: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.open: dict[str, int] = {}
        self.handled: dict[str, int] = defaultdict(int)
        self.owner_median: dict[str, float | None] = {}
        self.good = 0
        self.bad = 0

    def figures(self, start: date) -> PeriodFigures:
        owners = sorted({*self.open, *self.handled, *self.owner_median})
        return PeriodFigures(
            start=start,
            new=self.new,
            resolved=self.resolved,
            closed=self.closed,
            reopened=self.reopened,
            duplicates=self.duplicates,
            first_response_median_hours=self.median,
            first_response_p90_hours=self.p90,
            sla_met_ratio=self.sla_met / self.sla_counted if self.sla_counted else None,
            by_code=_sorted(self.by_code),
            by_type=_sorted(self.by_type),
            by_channel=_sorted(self.by_channel),
            code_types={code: _sorted(types) for code, types in sorted(self.code_types.items())},
            by_owner={
                owner: OwnerFigures(
                    self.open.get(owner, 0),
                    self.handled.get(owner, 0),
                    self.owner_median.get(owner),
                )
                for owner in owners
            },
            csat=Csat(self.good, self.bad),
        )


class SqlReports:
    """Report figures read on ``engine`` (``web/staff/ports.py`` ``ReportReader``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def report(self, request: ReportRequest, now: datetime) -> Report:
        """The request's periods, its whole range, the range before it and the state now."""
        starts = period_starts(request.start, request.end, request.by)
        before, _ = previous_range(request.start, request.end)
        edges = bounds(starts, request.end, request.timezone)
        outer = (bounds((before,), before, request.timezone)[0], edges[0], edges[-1])
        with self.engine.connect() as connection:
            open_now = _open_by_owner(connection)
            periods = _tallies(connection, edges, now, open_now)
            previous, total = _tallies(connection, outer, now, open_now)
            status_now = _status_now(connection)
        return Report(
            request=request,
            periods=tuple(tally.figures(day) for tally, day in zip(periods, starts, strict=True)),
            total=total.figures(request.start),
            previous=previous.figures(before),
            status_now=status_now,
            open_by_owner=open_now,
        )


def _tallies(
    connection: Connection, edges: Sequence[datetime], now: datetime, open_now: Mapping[str, int]
) -> list[Tally]:
    found = [Tally() for _ in edges[1:]]
    _created(connection, edges, now, found)
    _classified(connection, edges, found)
    _first_responses(connection, edges, found)
    _status_changes(connection, edges, found)
    _handled(connection, edges, found)
    _reopened(connection, edges, found)
    _duplicates(connection, edges, found)
    _csat(connection, edges, found)
    _open_at_ends(connection, edges, open_now, found)
    return found


def _created(
    connection: Connection, edges: Sequence[datetime], now: datetime, found: list[Tally]
) -> None:
    t = tickets.c
    period = bucket(t.created_at, edges)
    due = literal(now, UTCDateTime())
    counted = and_(
        t.first_response_due_at.is_not(None),
        or_(t.first_response_at.is_not(None), t.first_response_due_at < due),
    )
    met = and_(t.first_response_at.is_not(None), t.first_response_at <= t.first_response_due_at)
    query = (
        select(
            period.label("period"),
            t.channel,
            func.count().label("n"),
            func.sum(case((counted, 1), else_=0)).label("counted"),
            func.sum(case((met, 1), else_=0)).label("met"),
        )
        .where(within(t.created_at, edges))
        .group_by(period, t.channel)
    )
    for row in connection.execute(query):
        tally = found[row.period]
        tally.new += row.n
        tally.sla_counted += int(row.counted or 0)
        tally.sla_met += int(row.met or 0)
        if row.channel:
            tally.by_channel[row.channel] += row.n


def _classified(connection: Connection, edges: Sequence[datetime], found: list[Tally]) -> None:
    t = tickets.c
    period = bucket(t.created_at, edges)
    query = (
        select(period.label("period"), t.code_id, t.type, func.count().label("n"))
        .where(within(t.created_at, edges), or_(t.code_id.is_not(None), t.type.is_not(None)))
        .group_by(period, t.code_id, t.type)
    )
    rows = connection.execute(query).all()
    ids = {row.code_id for row in rows if row.code_id is not None}
    paths = {
        row.id: row.path
        for row in connection.execute(select(codes.c.id, codes.c.path).where(codes.c.id.in_(ids)))
    }
    for row in rows:
        tally = found[row.period]
        if row.type:
            tally.by_type[row.type] += row.n
        if row.code_id is not None:
            path = paths[row.code_id]
            tally.by_code[path] += row.n
            tally.code_types[path][row.type or ""] += row.n


def _first_responses(connection: Connection, edges: Sequence[datetime], found: list[Tally]) -> None:
    """Exact median and p90 per period (and median per owner and period): the database
    ranks each period's response times and returns only the rows next to the wanted
    ranks."""
    t = tickets.c
    period = bucket(t.created_at, edges).label("period")
    taken = hours(connection, t.created_at, t.first_response_at).label("hours")
    answered = (
        select(period, t.owner, taken)
        .where(within(t.created_at, edges), t.first_response_at.is_not(None))
        .subquery()
    )
    a = answered.c
    ranked = select(
        a.period,
        a.owner,
        a.hours,
        func.row_number().over(partition_by=a.period, order_by=a.hours).label("rank"),
        func.count().over(partition_by=a.period).label("size"),
        func.row_number()
        .over(partition_by=(a.period, a.owner), order_by=a.hours)
        .label("owner_rank"),
        func.count().over(partition_by=(a.period, a.owner)).label("owner_size"),
    ).subquery()
    r = ranked.c
    query = select(r.period, r.owner, r.hours, r.rank, r.size, r.owner_rank, r.owner_size).where(
        or_(
            *(_near(r.rank, r.size, fraction) for fraction in (0.5, 0.9)),
            and_(r.owner.is_not(None), _near(r.owner_rank, r.owner_size, 0.5)),
        )
    )
    overall: dict[int, dict[int, float]] = defaultdict(dict)
    owners: dict[tuple[int, str], dict[int, float]] = defaultdict(dict)
    sizes: dict[int, int] = {}
    owner_sizes: dict[tuple[int, str], int] = {}
    for row in connection.execute(query):
        overall[row.period][row.rank] = float(row.hours)
        sizes[row.period] = row.size
        if row.owner is not None:
            owners[row.period, row.owner][row.owner_rank] = float(row.hours)
            owner_sizes[row.period, row.owner] = row.owner_size
    for number, size in sizes.items():
        found[number].median = _at_rank(overall[number], size, 0.5)
        found[number].p90 = _at_rank(overall[number], size, 0.9)
    for (number, owner), size in owner_sizes.items():
        found[number].owner_median[owner] = _at_rank(owners[number, owner], size, 0.5)


def _near(
    rank: ColumnElement[Any], size: ColumnElement[Any], fraction: float
) -> ColumnElement[bool]:
    """``rank`` (from 1) is one of the two values the ``fraction`` percentile lies
    between."""
    position = (size - 1) * fraction
    return and_(rank >= func.floor(position) + 1, rank <= func.floor(position) + 2)


def _at_rank(values: Mapping[int, float], size: int, fraction: float) -> float | None:
    """The percentile from the values next to its rank (what ``percentile`` gives over
    all of them)."""
    position = (size - 1) * fraction
    low = int(position)
    return percentile(
        [values[rank] for rank in (low + 1, low + 2) if rank in values], position - low
    )


def _status_changes(connection: Connection, edges: Sequence[datetime], found: list[Tally]) -> None:
    """Distinct tickets resolved and closed in each period."""
    e = events.c
    period = bucket(e.at, edges)
    query = (
        select(period.label("period"), e.value, func.count(e.ticket_id.distinct()).label("n"))
        .where(e.type == EventKind.STATUS_CHANGED.value, within(e.at, edges), e.value.in_(DONE))
        .group_by(period, e.value)
    )
    for row in connection.execute(query):
        tally = found[row.period]
        if row.value == Status.RESOLVED.value:
            tally.resolved = row.n
        else:
            tally.closed = row.n


def _handled(connection: Connection, edges: Sequence[datetime], found: list[Tally]) -> None:
    """Distinct tickets resolved in each period, by their owner."""
    e, t = events.c, tickets.c
    period = bucket(e.at, edges)
    query = (
        select(period.label("period"), t.owner, func.count(e.ticket_id.distinct()).label("n"))
        .join_from(events, tickets, t.id == e.ticket_id)
        .where(
            e.type == EventKind.STATUS_CHANGED.value,
            within(e.at, edges),
            e.value == Status.RESOLVED.value,
            t.owner.is_not(None),
        )
        .group_by(period, t.owner)
    )
    for row in connection.execute(query):
        found[row.period].handled[row.owner] = row.n


def _reopened(connection: Connection, edges: Sequence[datetime], found: list[Tally]) -> None:
    e = events.alias("change")
    earlier = events.alias("earlier")
    before = (
        select(earlier.c.value)
        .where(
            earlier.c.ticket_id == e.c.ticket_id,
            earlier.c.type == EventKind.STATUS_CHANGED.value,
            earlier.c.id < e.c.id,
        )
        .order_by(earlier.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    period = bucket(e.c.at, edges)
    query = (
        select(period.label("period"), func.count().label("n"))
        .where(
            e.c.type == EventKind.STATUS_CHANGED.value,
            within(e.c.at, edges),
            e.c.value.in_(OPEN),
            before.in_(DONE),
        )
        .group_by(period)
    )
    for row in connection.execute(query):
        found[row.period].reopened = row.n


def _duplicates(connection: Connection, edges: Sequence[datetime], found: list[Tally]) -> None:
    e = events.c
    period = bucket(e.at, edges)
    query = (
        select(period.label("period"), func.count().label("n"))
        .where(e.type == EventKind.DUPLICATE.value, within(e.at, edges))
        .group_by(period)
    )
    for row in connection.execute(query):
        found[row.period].duplicates = row.n


def _csat(connection: Connection, edges: Sequence[datetime], found: list[Tally]) -> None:
    """Ratings in each period, a later rating of the same resolution replacing an earlier
    one (a rating is superseded by a later one with no resolution between them)."""
    rating = events.alias("rating")
    later = events.alias("later")
    resolution = events.alias("resolution")
    resolved_between = exists().where(
        resolution.c.ticket_id == rating.c.ticket_id,
        resolution.c.type == EventKind.STATUS_CHANGED.value,
        resolution.c.value == Status.RESOLVED.value,
        resolution.c.id > rating.c.id,
        resolution.c.id < later.c.id,
    )
    superseded = exists().where(
        later.c.ticket_id == rating.c.ticket_id,
        later.c.type == EventKind.CSAT.value,
        later.c.id > rating.c.id,
        not_(resolved_between),
    )
    period = bucket(rating.c.at, edges)
    query = (
        select(period.label("period"), rating.c.value, func.count().label("n"))
        .where(rating.c.type == EventKind.CSAT.value, within(rating.c.at, edges), not_(superseded))
        .group_by(period, rating.c.value)
    )
    for row in connection.execute(query):
        tally = found[row.period]
        if row.value == "good":
            tally.good = row.n
        elif row.value == "bad":
            tally.bad = row.n


def _open_at_ends(
    connection: Connection,
    edges: Sequence[datetime],
    open_now: Mapping[str, int],
    found: list[Tally],
) -> None:
    """Open at each period's end ``T``, per owner: the tickets open now, less those
    created since ``T``, plus those resolved or closed since ``T`` (only rows from the
    range's start on are read)."""
    t = tickets.c
    start = literal(edges[0], UTCDateTime())
    created = _owner_buckets(connection, t.created_at, edges, t.created_at >= start)
    done = _owner_buckets(
        connection,
        func.coalesce(t.resolved_at, t.closed_at),
        edges,
        and_(
            t.status.in_(DONE),
            or_(t.resolved_at >= start, and_(t.resolved_at.is_(None), t.closed_at >= start)),
        ),
    )
    for owner in {*open_now, *created, *done}:
        made, ended = created.get(owner, {}), done.get(owner, {})
        count = open_now.get(owner, 0)
        for number in reversed(range(len(found))):
            count += ended.get(number + 1, 0) - made.get(number + 1, 0)
            if count:
                found[number].open[owner] = count


def _owner_buckets(
    connection: Connection,
    column: ColumnElement[Any],
    edges: Sequence[datetime],
    condition: ColumnElement[bool],
) -> dict[str, dict[int, int]]:
    """Owned tickets matching ``condition`` per owner and period of ``column``, the
    period after the last one running on to now."""
    t = tickets.c
    period = bucket(column, [*edges, datetime.max.replace(tzinfo=UTC)])
    query = (
        select(t.owner, period.label("period"), func.count().label("n"))
        .where(t.owner.is_not(None), condition)
        .group_by(t.owner, period)
    )
    found: dict[str, dict[int, int]] = defaultdict(dict)
    for row in connection.execute(query):
        found[row.owner][row.period] = row.n
    return found


def _open_by_owner(connection: Connection) -> dict[str, int]:
    t = tickets.c
    query = (
        select(t.owner, func.count())
        .where(t.status.in_(OPEN), t.merged_into.is_(None), t.owner.is_not(None))
        .group_by(t.owner)
    )
    return {row[0]: row[1] for row in sorted(connection.execute(query).all())}


def _status_now(connection: Connection) -> dict[str, int]:
    t = tickets.c
    query = select(t.status, func.count()).group_by(t.status)
    return {row[0]: row[1] for row in sorted(connection.execute(query).all())}


def _sorted(counts: Mapping[str, int]) -> dict[str, int]:
    """Biggest first, then by name."""
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
