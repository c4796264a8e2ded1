"""The poller's leadership term, the fence on its commits.

Each election raises the term (while the new poller holds its lock), and every write
transaction of the poller's work reads the stored term, locking its row (``FOR UPDATE`` on
PostgreSQL; SQLite's writers hold the database lock), and goes on only while the term is
the one this process was elected for. A poller that lost its lock without knowing it can
therefore commit nothing once another has been elected: that election waits for the
commit in hand, and every later commit of the old poller fails."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from ticketd.store.schema import leadership

ROW = 1
TERM = select(leadership.c.term).where(leadership.c.id == ROW)


class LostLeadership(Exception):
    """This process is not (any longer) the poller: its work must not commit."""


def begin_term(connection: Connection, holder: str, now: datetime) -> int:
    """Raise the term for a newly elected ``holder``; returns the new term."""
    term = connection.execute(
        update(leadership)
        .where(leadership.c.id == ROW)
        .values(term=leadership.c.term + 1, holder=holder[:300], elected_at=now)
        .returning(leadership.c.term)
    ).scalar()
    if term is None:
        term = 1
        connection.execute(
            insert(leadership).values(id=ROW, term=term, holder=holder[:300], elected_at=now)
        )
    return int(term)


def current_term(connection: Connection) -> int | None:
    """The term stored now, without locking (the heartbeat's read)."""
    value = connection.execute(TERM).scalar()
    return None if value is None else int(value)


def holder(connection: Connection) -> str | None:
    """Who was elected last (``host:pid``), or None before the first election."""
    return connection.execute(select(leadership.c.holder).where(leadership.c.id == ROW)).scalar()


def fence(connection: Connection, term: int | None) -> None:
    """Raise ``LostLeadership`` unless ``term`` is the stored term; the row stays locked
    until the transaction ends, so no election can slip in before it commits."""
    stored = connection.execute(TERM.with_for_update()).scalar()
    if term is None or stored != term:
        raise LostLeadership(f"term {term} is over (the poller's term is now {stored})")
