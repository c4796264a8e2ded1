"""``web.staff.ports.StaffReader`` and ``Searcher`` on the database (see ``staff_queue``,
``staff_ticket`` and ``search``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine, select

from ticketd.routing.model import EngineerInfo
from ticketd.routing.views import AttachmentFile
from ticketd.routing.workspace import (
    QueuePage,
    QueueQuery,
    QueueRow,
    SearchHit,
    StaffTicket,
    StaffUser,
)
from ticketd.store.attachments import any_file
from ticketd.store.away import away_owner_tickets
from ticketd.store.schema import tickets
from ticketd.store.search import SearchIndex
from ticketd.store.staff_queue import ROW_COLUMNS, queue_page, queue_row
from ticketd.store.staff_ticket import staff_ticket


class SqlStaffReader:
    """The queue, the whole ticket and its files, read on ``engine``; the teams of the
    ``teams`` tab come from ``engineers`` (the config's)."""

    def __init__(self, engine: Engine, engineers: Sequence[EngineerInfo]) -> None:
        self.engine = engine
        self.engineers = tuple(engineers)
        self.index = SearchIndex()

    def queue(self, viewer: StaffUser, query: QueueQuery, now: datetime) -> QueuePage:
        """One page of the queue (``BadCursor`` for a cursor not handed out)."""
        with self.engine.connect() as connection:
            return queue_page(connection, self.engineers, viewer, query, now)

    def ticket(self, tracking: str, now: datetime) -> StaffTicket | None:
        with self.engine.connect() as connection:
            return staff_ticket(connection, tracking, now, self.engineers)

    def away_owner_tickets(self, now: datetime) -> tuple[QueueRow, ...]:
        """Open tickets with a running SLA promise whose owner is away (for the digest)."""
        with self.engine.connect() as connection:
            return away_owner_tickets(connection, self.engineers, now)

    def attachment(self, tracking: str, attachment_id: int) -> AttachmentFile | None:
        return any_file(self.engine, tracking, attachment_id)

    def search(
        self, query: str, cursor: str | None, limit: int, now: datetime
    ) -> tuple[tuple[SearchHit, ...], str | None]:
        """The index's hits as queue rows, in its order (``BadCursor`` as the queue)."""
        with self.engine.connect() as connection:
            found, following = self.index.find(connection, query, cursor, limit)
            ids = [hit.ticket_id for hit in found]
            rows = {
                row.id: row
                for row in connection.execute(select(*ROW_COLUMNS).where(tickets.c.id.in_(ids)))
            }
        hits = tuple(
            SearchHit(queue_row(rows[hit.ticket_id], now), hit.excerpt, hit.where)
            for hit in found
            if hit.ticket_id in rows
        )
        return hits, following
