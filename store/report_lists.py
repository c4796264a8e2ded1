"""The tickets behind a dashboard figure (``web.staff.ports.TicketLists``), counted as
``store/reports.py`` counts them: new, code, type, channel and SLA breached are tickets
created in the range (a code with its subtree; breached: counted by the SLA ratio and not
answered by the due time); resolved and closed a ``status_changed`` event to that status
in it; reopened one back to an open status from resolved or closed; duplicates a
``duplicate`` event; owner the tickets that (current) owner resolved in it; csat a standing
``csat`` event with that rating. Days are the service timezone's. Paged by ticket id
(keyset)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Engine, and_, exists, not_, select
from sqlalchemy.sql.elements import literal

from ticketd.routing.dashboard import DrillDown, Measure
from ticketd.routing.model import OPEN_STATUSES, EventKind, Status
from ticketd.routing.workspace import BadCursor, QueueRow
from ticketd.store.report_days import previous_status, sla_counted, sla_met, standing
from ticketd.store.schema import UTCDateTime, codes, events, tickets
from ticketd.store.staff_queue import ROW_COLUMNS, queue_row

MAX_LIMIT = 200
ENDED = (Status.RESOLVED.value, Status.CLOSED.value)
STATUS_REACHED = {Measure.RESOLVED: Status.RESOLVED, Measure.CLOSED: Status.CLOSED}
RATINGS = {Measure.CSAT_GOOD: "good", Measure.CSAT_BAD: "bad"}


def _instant(day: date, zone: ZoneInfo) -> ColumnElement[datetime]:
    return literal(datetime.combine(day, time(), zone), UTCDateTime())


def _like(path: str) -> str:
    escaped = path.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "/%"


class SqlReportLists:
    """Drill-down lists read on ``engine``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def tickets(
        self, drill: DrillDown, cursor: str | None, limit: int, now: datetime
    ) -> tuple[tuple[QueueRow, ...], str | None]:
        after = _after(cursor)
        limit = max(1, min(limit, MAX_LIMIT))
        query = (
            select(*ROW_COLUMNS)
            .where(_which(drill, now), tickets.c.id > after)
            .order_by(tickets.c.id)
            .limit(limit + 1)
        )
        with self.engine.connect() as connection:
            found = list(connection.execute(query))
        rows = found[:limit]
        following = str(rows[-1].id) if len(found) > limit else None
        return tuple(queue_row(row, now) for row in rows), following


def _after(cursor: str | None) -> int:
    if not cursor:
        return 0
    if not (cursor.isdigit() and len(cursor) < 19):
        raise BadCursor(cursor[:40])
    return int(cursor)


def _which(drill: DrillDown, now: datetime) -> ColumnElement[bool]:
    """The condition on ``tickets`` that picks the figure's tickets."""
    zone = ZoneInfo(drill.timezone)
    start = _instant(drill.start, zone)
    end = _instant(drill.end + timedelta(days=1), zone)
    created = and_(tickets.c.created_at >= start, tickets.c.created_at < end)
    measure = drill.measure
    if measure is Measure.NEW:
        return created
    if measure is Measure.TYPE:
        return and_(created, tickets.c.type == drill.key)
    if measure is Measure.CHANNEL:
        return and_(created, tickets.c.channel == drill.key)
    if measure is Measure.SLA_BREACHED:
        return and_(created, sla_counted(now), not_(sla_met()))
    if measure is Measure.CODE:
        tree = select(codes.c.id).where(
            (codes.c.path == drill.key) | codes.c.path.like(_like(drill.key), escape="\\")
        )
        return and_(created, tickets.c.code_id.in_(tree))
    during = and_(events.c.ticket_id == tickets.c.id, events.c.at >= start, events.c.at < end)
    if measure is Measure.DUPLICATES:
        return exists().where(during, events.c.type == EventKind.DUPLICATE.value)
    if measure is Measure.REOPENED:
        return exists().where(during, *_reopening())
    if measure is Measure.OWNER:
        kind, value = EventKind.STATUS_CHANGED, Status.RESOLVED.value
        return and_(
            tickets.c.owner == drill.key,
            exists().where(during, events.c.type == kind.value, events.c.value == value),
        )
    if measure in RATINGS:
        return exists().where(during, standing(events), events.c.value == RATINGS[measure])
    reached = STATUS_REACHED[measure].value
    return exists().where(
        during, events.c.type == EventKind.STATUS_CHANGED.value, events.c.value == reached
    )


def _reopening() -> tuple[ColumnElement[bool], ...]:
    """A status change to an open status whose previous status change ended the ticket."""
    previous = previous_status(events)
    return (
        events.c.type == EventKind.STATUS_CHANGED.value,
        events.c.value.in_([s.value for s in OPEN_STATUSES]),
        previous.in_(ENDED),
    )
