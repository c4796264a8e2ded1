"""Engineers' availability on the database: the rows (writes are the ``Writer``'s to call)
and ``SqlAvailability``, the workspace's port to read and set it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, delete, insert, select

from ticketd.routing.assign import Availability, on_duty
from ticketd.routing.model import EngineerInfo
from ticketd.store.schema import availability

if TYPE_CHECKING:
    from ticketd.store.db import Store


def stored(connection: Connection) -> dict[str, Availability]:
    """What each engineer set, by email."""
    query = select(availability.c.email, availability.c.away, availability.c.back_at)
    return {row.email: Availability(row.away, row.back_at) for row in connection.execute(query)}


def away_owners(
    connection: Connection, engineers: Sequence[EngineerInfo], now: datetime
) -> frozenset[str]:
    """The engineers away at ``now`` (stored availability, else the TOML), by email."""
    found = on_duty(engineers, stored(connection), now)
    return frozenset(e.email for e in found if not e.available)


def put(connection: Connection, email: str, state: Availability, actor: str, now: datetime) -> None:
    connection.execute(delete(availability).where(availability.c.email == email))
    connection.execute(
        insert(availability).values(
            email=email, away=state.away, back_at=state.back_at, set_by=actor, updated_at=now
        )
    )


class SqlAvailability:
    """``web.staff.availability.AvailabilityBook`` on the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def stored(self) -> dict[str, Availability]:
        with self.store.engine.connect() as connection:
            return stored(connection)

    def set(self, email: str, state: Availability, actor: str) -> None:
        with self.store.write() as writer:
            writer.set_availability(email, state, actor)
