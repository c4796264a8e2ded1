"""``web.staff.ports.StaffReader`` on the database (see ``staff_queue`` and
``staff_ticket``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine

from ticketd.routing.model import EngineerInfo
from ticketd.routing.views import AttachmentFile
from ticketd.routing.workspace import QueuePage, QueueQuery, StaffTicket, StaffUser
from ticketd.store.attachments import any_file
from ticketd.store.staff_queue import queue_page
from ticketd.store.staff_ticket import staff_ticket


class SqlStaffReader:
    """The queue, the whole ticket and its files, read on ``engine``; the teams of the
    ``teams`` tab come from ``engineers`` (the config's)."""

    def __init__(self, engine: Engine, engineers: Sequence[EngineerInfo]) -> None:
        self.engine = engine
        self.engineers = tuple(engineers)

    def queue(self, viewer: StaffUser, query: QueueQuery, now: datetime) -> QueuePage:
        """One page of the queue (``staff_queue.BadCursor`` for a cursor not handed out)."""
        with self.engine.connect() as connection:
            return queue_page(connection, self.engineers, viewer, query, now)

    def ticket(self, tracking: str, now: datetime) -> StaffTicket | None:
        with self.engine.connect() as connection:
            return staff_ticket(connection, tracking, now)

    def attachment(self, tracking: str, attachment_id: int) -> AttachmentFile | None:
        return any_file(self.engine, tracking, attachment_id)
