"""Satisfaction ratings as the store reads them: a ticket's status, how often it was
resolved, and the latest ``csat`` event since its latest resolution."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import Connection, and_, bindparam, func, select

from ticketd.routing.csat import RatingState, parse_rating
from ticketd.routing.model import EventKind, Status
from ticketd.store.schema import events, tickets

RESOLVED = and_(
    events.c.ticket_id == bindparam("ticket_pk"),
    events.c.type == EventKind.STATUS_CHANGED.value,
    events.c.value == Status.RESOLVED.value,
)
RESOLUTIONS = select(func.count(), func.coalesce(func.max(events.c.id), 0)).where(RESOLVED)
LATEST_RATING = (
    select(events.c.value, events.c.summary)
    .where(
        events.c.ticket_id == bindparam("ticket_pk"),
        events.c.type == EventKind.CSAT.value,
        events.c.id > bindparam("since"),
    )
    .order_by(events.c.id.desc())
    .limit(1)
)
TICKET = select(tickets.c.id, tickets.c.status, tickets.c.language).where(
    tickets.c.tracking == bindparam("tracking")
)


def rating_state(
    connection: Connection, ticket_id: int, status: Status, language: str
) -> RatingState:
    """The rating of the ticket's latest resolution (None when not rated since)."""
    count, since = connection.execute(RESOLUTIONS, {"ticket_pk": ticket_id}).one()
    found = connection.execute(LATEST_RATING, {"ticket_pk": ticket_id, "since": since}).first()
    state = RatingState(status, language, int(count))
    if found is None:
        return state
    return replace(state, rating=parse_rating(found.value), comment=found.summary)


def rating_of(connection: Connection, tracking: str) -> RatingState | None:
    """The rating state of the ticket ``tracking``, or None for an unknown number."""
    row = connection.execute(TICKET, {"tracking": tracking}).first()
    return rating_state(connection, row.id, Status(row.status), row.language) if row else None
