"""Each local day's report figures, gathered in SQL: the unit the report cache keeps
(``store/report_cache.py``) and reports add up into their periods (``store/reports.py``).

A day is a local day in the service timezone (zoneinfo: a DST day has 23 or 25 hours). A
run of consecutive days is read at once: every row is bucketed by a binary CASE over the
days' bounds, so a year of tickets is aggregated by the database, never looped over in
Python. Per day:

- ``new``, ``channels``, ``codes`` (by code id), ``types``, ``code_types``: tickets created
  on it (merged ones included);
- ``responses``: seconds from creation to the first public reply (wall clock) of the
  tickets created on it and answered, by owner (``""``: none);
- ``sla_answered`` / ``sla_met``: of those answered with a due time, how many, and how
  many by it (``first_response_late``, kept by the writer at the first reply);
  ``due_open``: the due times of the unanswered ones (``due_key``: they count once past);
- ``resolved`` / ``closed``: tickets with a ``status_changed`` event to that status on it;
  ``handled``: the resolved ones by their current owner;
- ``reopened``: status changes on it from resolved or closed (the ticket's previous
  ``status_changed`` value) back to open, pending or waiting;
- ``duplicates``: ``duplicate`` events on it (a resent claim, or a ticket merged into
  another);
- ``good`` / ``bad``: ratings given on it, a later rating of the same resolution replacing
  an earlier one;
- ``owner_created`` / ``owner_done``: owned tickets created on it, and owned tickets
  resolved or closed now whose latest resolution (else their closing) fell on it: what
  turns the owners' open tickets now into those open at any earlier day's end.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Connection,
    FromClause,
    and_,
    case,
    exists,
    false,
    func,
    literal,
    not_,
    or_,
    select,
)

from ticketd.routing.model import OPEN_STATUSES, EventKind, Status
from ticketd.store.schema import UTCDateTime, events, tickets

DONE = (Status.RESOLVED.value, Status.CLOSED.value)
OPEN = tuple(sorted(status.value for status in OPEN_STATUSES))


def _counts() -> defaultdict[str, int]:
    return defaultdict(int)


@dataclass
class Day:
    """One local day's figures (keys are strings, due times ``due_key`` text)."""

    new: int = 0
    channels: dict[str, int] = field(default_factory=_counts)
    codes: dict[str, int] = field(default_factory=_counts)
    types: dict[str, int] = field(default_factory=_counts)
    code_types: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(_counts))
    responses: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    sla_answered: int = 0
    sla_met: int = 0
    due_open: list[str] = field(default_factory=list)
    resolved: int = 0
    closed: int = 0
    handled: dict[str, int] = field(default_factory=_counts)
    reopened: int = 0
    duplicates: int = 0
    good: int = 0
    bad: int = 0
    owner_created: dict[str, int] = field(default_factory=_counts)
    owner_done: dict[str, int] = field(default_factory=_counts)

    def counts(self) -> Iterator[tuple[str, str, int]]:
        """Every count as (measure, key, n): the plain ones keyed ``""`` (``due_open``: how
        many), a code's type as ``code_type`` keyed ``code_key(code, type)``, the due times
        as ``due_at`` keyed ``due_key``."""
        for measure in SCALARS:
            n = getattr(self, measure)
            if n:
                yield measure, "", n
        if self.due_open:
            yield "due_open", "", len(self.due_open)
        for measure, keyed in zip(
            (*KEYED[:-1], "due_at"),
            (
                self.channels,
                self.codes,
                self.types,
                self.handled,
                self.owner_created,
                self.owner_done,
                Counter(self.due_open),
            ),
            strict=True,
        ):
            for key, n in keyed.items():
                yield measure, key, n
        for code, types in self.code_types.items():
            for kind, n in types.items():
                yield CODE_TYPE_MEASURE, code_key(code, kind), n

    def response_counts(self) -> Iterator[tuple[str, int, int]]:
        """The response times as (owner, seconds, how many)."""
        for owner, taken in self.responses.items():
            for seconds, n in Counter(taken).items():
                yield owner, seconds, n


SCALARS = (
    "new",
    "sla_answered",
    "sla_met",
    "resolved",
    "closed",
    "reopened",
    "duplicates",
    "good",
    "bad",
)
"""The plain counts of a day, by their ``Day`` field and measure name."""

CODE_TYPE_MEASURE = "code_type"
KEYED = ("channel", "code", "type", "handled", "owner_created", "owner_done", CODE_TYPE_MEASURE)

CODE_TYPE = "\x1f"


def code_key(code: str, kind: str) -> str:
    """The ``code_type`` key of a code id and a ticket type (``""``: none)."""
    return f"{code}{CODE_TYPE}{kind}"


def due_key(at: datetime) -> str:
    """A due time as fixed-width UTC text: its order is the times' order."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def bounds(days: Sequence[date], timezone: str) -> tuple[datetime, ...]:
    """The UTC instants of each day's local midnight, and of the one after the last."""
    zone = ZoneInfo(timezone)
    edges = [*days, days[-1] + timedelta(days=1)]
    return tuple(datetime.combine(day, time(), zone).astimezone(UTC) for day in edges)


def runs(days: Sequence[date]) -> Iterator[list[date]]:
    """Sorted ``days`` cut into runs of consecutive days."""
    run: list[date] = []
    for day in sorted(days):
        if run and day != run[-1] + timedelta(days=1):
            yield run
            run = []
        run.append(day)
    if run:
        yield run


def gather(connection: Connection, days: Sequence[date], timezone: str) -> dict[date, Day]:
    """The figures of ``days`` (any set of local days), a few queries per run of them."""
    found: dict[date, Day] = {}
    for run in runs(days):
        edges = bounds(run, timezone)
        gathered = [Day() for _ in run]
        for part in PARTS:
            part(connection, edges, gathered)
        found.update(zip(run, gathered, strict=True))
    return found


def bucket(column: ColumnElement[Any], edges: Sequence[Any], low: int = 0) -> ColumnElement[Any]:
    """The day number of ``column`` among ``edges`` (``edges[i] <= column < edges[i+1]``
    is day ``i``), as a binary CASE: a handful of comparisons a row."""
    if len(edges) == 2:
        return literal(low)
    middle = len(edges) // 2
    return case(
        (column < literal(edges[middle], column.type), bucket(column, edges[: middle + 1], low)),
        else_=bucket(column, edges[middle:], low + middle),
    )


def within(column: ColumnElement[Any], edges: Sequence[datetime]) -> ColumnElement[bool]:
    """``column`` falls on one of the days."""
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


def _created(connection: Connection, edges: Sequence[datetime], found: list[Day]) -> None:
    """Tickets created each day: counted, then grouped by each key on its own (one
    grouping by all of them gives a group for nearly every ticket)."""
    t = tickets.c
    day = bucket(t.created_at, edges)
    on_days = within(t.created_at, edges)
    due = t.first_response_due_at.is_not(None)
    answered = t.first_response_late.is_not(None)
    totals = (
        select(
            day.label("day"),
            func.count().label("n"),
            func.sum(case((answered, 1), else_=0)).label("answered"),
            func.sum(case((sla_met(), 1), else_=0)).label("met"),
        )
        .where(on_days)
        .group_by(day)
    )
    for row in connection.execute(totals):
        figures = found[row.day]
        figures.new += row.n
        figures.sla_answered += int(row.answered or 0)
        figures.sla_met += int(row.met or 0)
    for column, name in ((t.channel, "channels"), (t.type, "types"), (t.owner, "owner_created")):
        keyed = select(day.label("day"), column.label("key"), func.count().label("n"))
        for row in connection.execute(keyed.where(on_days).group_by(day, column)):
            if row.key:
                getattr(found[row.day], name)[row.key] += row.n
    coded = (
        select(day.label("day"), t.code_id, t.type, func.count().label("n"))
        .where(on_days, t.code_id.is_not(None))
        .group_by(day, t.code_id, t.type)
    )
    for row in connection.execute(coded):
        figures = found[row.day]
        figures.codes[str(row.code_id)] += row.n
        figures.code_types[str(row.code_id)][row.type or ""] += row.n
    unanswered = select(day.label("day"), t.first_response_due_at).where(
        on_days, due, t.first_response_at.is_(None)
    )
    for row in connection.execute(unanswered):
        found[row.day].due_open.append(due_key(row.first_response_due_at))


def _responses(connection: Connection, edges: Sequence[datetime], found: list[Day]) -> None:
    t = tickets.c
    query = select(
        bucket(t.created_at, edges).label("day"),
        t.owner,
        hours(connection, t.created_at, t.first_response_at).label("hours"),
    ).where(within(t.created_at, edges), t.first_response_at.is_not(None))
    for row in connection.execute(query):
        found[row.day].responses[row.owner or ""].append(round(float(row.hours) * 3600))


def _status_changes(connection: Connection, edges: Sequence[datetime], found: list[Day]) -> None:
    """Tickets resolved and closed each day, the resolved ones by their owner."""
    e, t = events.c, tickets.c
    day = bucket(e.at, edges)
    query = (
        select(day.label("day"), e.value, t.owner, func.count(e.ticket_id.distinct()).label("n"))
        .join_from(events, tickets, t.id == e.ticket_id)
        .where(e.type == EventKind.STATUS_CHANGED.value, within(e.at, edges), e.value.in_(DONE))
        .group_by(day, e.value, t.owner)
    )
    for row in connection.execute(query):
        figures = found[row.day]
        if row.value == Status.RESOLVED.value:
            figures.resolved += row.n
            if row.owner:
                figures.handled[row.owner] += row.n
        else:
            figures.closed += row.n


def previous_status(change: FromClause) -> ColumnElement[Any]:
    """The status an event of ``change`` (an alias of events) changed from: the value of
    the ticket's previous ``status_changed`` event."""
    earlier = events.alias("earlier")
    return (
        select(earlier.c.value)
        .where(
            earlier.c.ticket_id == change.c.ticket_id,
            earlier.c.type == EventKind.STATUS_CHANGED.value,
            earlier.c.id < change.c.id,
        )
        .order_by(earlier.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def _reopened(connection: Connection, edges: Sequence[datetime], found: list[Day]) -> None:
    e = events.alias("change")
    before = previous_status(e)
    day = bucket(e.c.at, edges)
    query = (
        select(day.label("day"), func.count().label("n"))
        .where(
            e.c.type == EventKind.STATUS_CHANGED.value,
            within(e.c.at, edges),
            e.c.value.in_(OPEN),
            before.in_(DONE),
        )
        .group_by(day)
    )
    for row in connection.execute(query):
        found[row.day].reopened = row.n


def _duplicates(connection: Connection, edges: Sequence[datetime], found: list[Day]) -> None:
    e = events.c
    day = bucket(e.at, edges)
    query = (
        select(day.label("day"), func.count().label("n"))
        .where(e.type == EventKind.DUPLICATE.value, within(e.at, edges))
        .group_by(day)
    )
    for row in connection.execute(query):
        found[row.day].duplicates = row.n


def sla_counted(now: datetime) -> ColumnElement[bool]:
    """A ticket the SLA ratio counts: answered with a due time, or unanswered past it."""
    t = tickets.c
    return or_(
        t.first_response_late.is_not(None),
        and_(
            t.first_response_at.is_(None),
            t.first_response_due_at < literal(now, UTCDateTime()),
        ),
    )


def sla_met() -> ColumnElement[bool]:
    """A ticket answered by its due time."""
    return tickets.c.first_response_late.is_(false())


def standing(rating: FromClause) -> ColumnElement[bool]:
    """A ``csat`` event of ``rating`` (an alias of events) that no later rating of the same
    resolution replaced (a later one with no resolution between them)."""
    later = events.alias("later")
    resolution = events.alias("resolution")
    resolved_between = (
        exists()
        .where(
            resolution.c.ticket_id == rating.c.ticket_id,
            resolution.c.type == EventKind.STATUS_CHANGED.value,
            resolution.c.value == Status.RESOLVED.value,
            resolution.c.id > rating.c.id,
            resolution.c.id < later.c.id,
        )
        .correlate_except(resolution)
    )
    superseded = exists().where(
        later.c.ticket_id == rating.c.ticket_id,
        later.c.type == EventKind.CSAT.value,
        later.c.id > rating.c.id,
        not_(resolved_between),
    )
    return and_(rating.c.type == EventKind.CSAT.value, not_(superseded))


def _ratings(connection: Connection, edges: Sequence[datetime], found: list[Day]) -> None:
    """Ratings each day, a later rating of the same resolution replacing an earlier one."""
    rating = events.alias("rating")
    day = bucket(rating.c.at, edges)
    query = (
        select(day.label("day"), rating.c.value, func.count().label("n"))
        .where(standing(rating), within(rating.c.at, edges))
        .group_by(day, rating.c.value)
    )
    for row in connection.execute(query):
        if row.value == "good":
            found[row.day].good = row.n
        elif row.value == "bad":
            found[row.day].bad = row.n


def _done(connection: Connection, edges: Sequence[datetime], found: list[Day]) -> None:
    """Owned tickets resolved or closed now, by the day of their latest resolution, else
    of their closing (two queries, each on its column's index: never resolved is tested
    row by row, not looked up)."""
    t = tickets.c
    never_resolved = case((t.resolved_at.is_(None), 1), else_=0) == 1
    for ended, condition in (
        (t.resolved_at, within(t.resolved_at, edges)),
        (t.closed_at, and_(never_resolved, within(t.closed_at, edges))),
    ):
        day = bucket(ended, edges)
        query = (
            select(day.label("day"), t.owner, func.count().label("n"))
            .where(condition, t.status.in_(DONE), t.owner.is_not(None))
            .group_by(day, t.owner)
        )
        for row in connection.execute(query):
            found[row.day].owner_done[row.owner] += row.n


PARTS = (_created, _responses, _status_changes, _reopened, _duplicates, _ratings, _done)
