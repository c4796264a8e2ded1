"""What the staff workspace needs from the rest of ticketd (implemented on the database)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from ticketd.routing.reports import Report, ReportRequest
from ticketd.routing.views import AttachmentFile
from ticketd.routing.workspace import QueuePage, QueueQuery, SearchHit, StaffTicket, StaffUser


class StaffReader(Protocol):
    """Read-only views of the whole inbox for signed-in engineers."""

    def queue(self, viewer: StaffUser, query: QueueQuery, now: datetime) -> QueuePage:
        """One page of the queue as ``viewer`` sees it, with every tab's count."""

    def ticket(self, tracking: str, now: datetime) -> StaffTicket | None:
        """The whole ticket (any status, merged ones included), or None."""

    def attachment(self, tracking: str, attachment_id: int) -> AttachmentFile | None:
        """Any attachment of the ticket (internal messages included), or None."""


class Searcher(Protocol):
    """Full-text search over subjects, message texts and notes (Korean substrings too)."""

    def search(
        self, query: str, cursor: str | None, limit: int, now: datetime
    ) -> tuple[tuple[SearchHit, ...], str | None]:
        """Tickets matching every word of ``query``, best first, and the next cursor."""


class ReportReader(Protocol):
    """The report figures (``store/reports.py`` ``SqlReports``)."""

    def report(self, request: ReportRequest, now: datetime) -> Report:
        """The request's periods, its whole range, the range before it and the state now."""
