"""The digest's reads and rows: ``SqlDigestFacts`` gathers what a digest says (the period's
report from ``store/reports.py``, open tickets, bad ratings, availability); ``last_day``
and ``record`` are the ``digests`` rows (writes are the ``Writer``'s to call)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection, Engine, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ticketd.routing.digest import DigestFacts, DigestPeriod, OpenTicketFact, RatingFact
from ticketd.routing.model import EventKind, Status
from ticketd.routing.reports import Granularity, ReportRequest
from ticketd.store import availability
from ticketd.store.report_days import OPEN, bounds, within
from ticketd.store.reports import SqlReports
from ticketd.store.schema import digests, events, tickets

OPEN_TICKETS_READ = 1000
"""Open tickets read per digest (soonest due first); the digest names a few of each kind."""


def last_day(connection: Connection) -> date | None:
    """The last day covered by a digest sent."""
    day: date | None = connection.execute(select(func.max(digests.c.day))).scalar()
    return day


def record(connection: Connection, period: DigestPeriod, recipients: int, now: datetime) -> bool:
    """Keep the period as sent; False when a digest for it was recorded already (by this
    process earlier or by another one)."""
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(digests)
        .values(day=period.end, start_day=period.start, sent_at=now, recipients=recipients)
        .on_conflict_do_nothing(index_elements=["day"])
        .returning(digests.c.day)
    )
    return connection.execute(statement).first() is not None


class SqlDigestFacts:
    """What a digest says, read on ``engine``."""

    def __init__(self, engine: Engine, timezone: str) -> None:
        self.engine = engine
        self.timezone = timezone

    def last_day(self) -> date | None:
        with self.engine.connect() as connection:
            return last_day(connection)

    def facts(self, period: DigestPeriod, now: datetime) -> DigestFacts:
        request = ReportRequest(period.start, period.end, Granularity.DAY, self.timezone)
        report = SqlReports(self.engine).report(request, now)
        edges = bounds((period.start, period.end), self.timezone)
        with self.engine.connect() as connection:
            return DigestFacts(
                report=report,
                open_tickets=_open_tickets(connection),
                bad_ratings=_bad_ratings(connection, edges),
                availability=availability.stored(connection),
            )


def _open_tickets(connection: Connection) -> tuple[OpenTicketFact, ...]:
    t = tickets.c
    running = (t.first_response_at.is_(None)) & (t.first_response_due_at.is_not(None))
    query = (
        select(
            t.tracking,
            t.subject,
            t.status,
            t.owner,
            t.created_at,
            t.first_response_due_at,
            t.first_response_at,
            t.sla_breached_at,
        )
        .where(t.status.in_(OPEN), t.merged_into.is_(None), or_(t.owner.is_(None), running))
        .order_by(t.first_response_due_at.is_(None), t.first_response_due_at, t.id)
        .limit(OPEN_TICKETS_READ)
    )
    return tuple(
        OpenTicketFact(
            tracking=row.tracking,
            subject=row.subject,
            status=Status(row.status),
            owner=row.owner,
            created_at=row.created_at,
            due=row.first_response_due_at,
            answered=row.first_response_at is not None,
            breached=row.sla_breached_at is not None,
        )
        for row in connection.execute(query)
    )


def _bad_ratings(connection: Connection, edges: tuple[datetime, ...]) -> tuple[RatingFact, ...]:
    query = (
        select(tickets.c.tracking, tickets.c.subject, tickets.c.owner, events.c.summary)
        .join(tickets, tickets.c.id == events.c.ticket_id)
        .where(
            events.c.type == EventKind.CSAT.value,
            events.c.value == "bad",
            within(events.c.at, edges),
        )
        .order_by(events.c.at, events.c.id)
    )
    return tuple(
        RatingFact(row.tracking, row.subject, row.owner, row.summary)
        for row in connection.execute(query)
    )
