"""Reads of committed state for the CLI and the runner (no writes here)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from ticketd.routing.csat import RatingState
from ticketd.routing.ticket_json import iso, staff_ticket_object
from ticketd.store import inbound, leadership, queries, ratings, staff_auth
from ticketd.store.inbound import Claimed, Position
from ticketd.store.keyvalue import get_value
from ticketd.store.outbox import QueuedMail
from ticketd.store.staff_ticket import staff_ticket

__all__ = ["Claimed", "Position", "QueuedMail", "Reader"]


class Reader:
    """Named reads on one connection."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def position(self, mailbox: str) -> Position | None:
        """The mailbox's committed IMAP checkpoint."""
        return inbound.load_position(self.connection, mailbox)

    def rating(self, tracking: str) -> RatingState | None:
        """The satisfaction rating state of the ticket ``tracking`` (None: unknown)."""
        return ratings.rating_of(self.connection, tracking)

    def raw(self, inbound_id: int) -> bytes:
        """The exact bytes of a stored inbound message."""
        return inbound.load_raw(self.connection, inbound_id)

    def mark(self, key: str) -> str | None:
        return get_value(self.connection, key)

    def ticket(self, tracking: str, now: datetime, language: str = "en") -> dict[str, Any] | None:
        """The contract's whole ticket object (``staff_ticket_object``, summaries in
        ``language``), or None."""
        found = staff_ticket(self.connection, tracking, now)
        return staff_ticket_object(found, language) if found else None

    def tickets(
        self, *, status: str | None = None, owner: str | None = None
    ) -> list[dict[str, Any]]:
        rows = queries.list_tickets(self.connection, status=status, owner=owner)
        return [queries.ticket_dict(row) for row in rows]

    def quarantine(self) -> list[dict[str, Any]]:
        """Held and quarantined messages, oldest first."""
        return [
            {**dict(r), "received_at": iso(r["received_at"])}
            for r in queries.quarantine(self.connection)
        ]

    def held(self, inbound_id: int) -> dict[str, Any] | None:
        """One held or quarantined message's row, or None."""
        row = queries.quarantined(self.connection, inbound_id)
        return {**dict(row), "received_at": iso(row["received_at"])} if row else None

    def poller(self) -> str | None:
        """The last elected poller (``host:pid``), or None."""
        return leadership.holder(self.connection)

    def term(self) -> int | None:
        """The poller's current term, or None before the first election."""
        return leadership.current_term(self.connection)

    def api_tokens(self) -> list[staff_auth.TokenInfo]:
        """Every staff API token, oldest first (their digests left out)."""
        return staff_auth.list_tokens(self.connection)
