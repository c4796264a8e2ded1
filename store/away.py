"""Engineers away (the workspace's availability, else the TOML's ``available`` and
``away_until``) and the tickets they leave at risk: open, unmerged, with an SLA clock
running and an owner who is away."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, and_, or_, select

from ticketd.routing.model import OPEN_STATUSES, EngineerInfo
from ticketd.routing.workspace import QueueRow
from ticketd.store.availability import away_owners
from ticketd.store.schema import tickets
from ticketd.store.staff_queue import ROW_COLUMNS, queue_row


def away_owner_tickets(
    connection: Connection, engineers: Sequence[EngineerInfo], now: datetime
) -> tuple[QueueRow, ...]:
    """Open tickets with a first-response or next-reply promise still running whose owner
    is away at ``now``, soonest due first."""
    away = away_owners(connection, engineers, now)
    if not away:
        return ()
    running = or_(
        and_(tickets.c.first_response_at.is_(None), tickets.c.first_response_due_at.is_not(None)),
        tickets.c.next_response_due_at.is_not(None),
    )
    query = (
        select(*ROW_COLUMNS)
        .where(
            tickets.c.status.in_([s.value for s in OPEN_STATUSES]),
            tickets.c.merged_into.is_(None),
            tickets.c.owner.in_(sorted(away)),
            running,
        )
        .order_by(tickets.c.first_response_due_at, tickets.c.id)
    )
    return tuple(queue_row(row, now, away) for row in connection.execute(query))
