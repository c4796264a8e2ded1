"""Search documents kept for the end of the writer's transaction.

Inserted one by one, each document costs its own statement and, on SQLite, an FTS5 flush of
the trigram index at the release of every message's savepoint. ``PendingDocuments`` keeps
them until ``flush`` writes them all with one ``executemany`` each for the documents and
their FTS5 rows (``store.search.insert_documents``), in the same transaction, so they still
commit with their texts; a message whose savepoint rolls back drops its own with
``truncate``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, func, select

from ticketd.store.schema import search_documents, tickets
from ticketd.store.search import TICKET_SPAN, Kind, document_id, fold, insert_documents

log = logging.getLogger(__name__)

CHUNK = 500
"""Tickets per query of their next document numbers (well under any bound-parameter limit)."""


class PendingDocuments:
    """Documents waiting for ``flush``, in the order their texts were stored."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, Kind, str, int | None]] = []

    def add(self, ticket_id: int, kind: Kind, body: str, message_ref: int | None = None) -> None:
        """Keep one text of a ticket for the index (nothing for an empty text)."""
        if body:
            self.rows.append((ticket_id, kind, body, message_ref))

    def mark(self) -> int:
        """Where the pending documents end now (for ``truncate``)."""
        return len(self.rows)

    def truncate(self, mark: int) -> None:
        """Forget the documents added since ``mark`` (their savepoint rolled back)."""
        del self.rows[mark:]

    def flush(self, connection: Connection) -> None:
        """Number and insert every pending document. On PostgreSQL the tickets' rows are
        locked first (in id order), so two writers never number one ticket's documents
        alike."""
        rows, self.rows = self.rows, []
        if not rows:
            return
        ticket_ids = sorted({row[0] for row in rows})
        following: dict[int, int] = {}
        for at in range(0, len(ticket_ids), CHUNK):
            chunk = ticket_ids[at : at + CHUNK]
            if connection.dialect.name == "postgresql":
                lock = select(tickets.c.id).where(tickets.c.id.in_(chunk)).order_by(tickets.c.id)
                connection.execute(lock.with_for_update())
            following.update(_next_numbers(connection, chunk))
        documents: list[dict[str, Any]] = []
        for ticket_id, kind, body, message_ref in rows:
            n = following.get(ticket_id, 0)
            if n >= TICKET_SPAN:
                log.warning("search: ticket %d has %d texts; this one is not indexed", ticket_id, n)
                continue
            following[ticket_id] = n + 1
            documents.append(
                {
                    "id": document_id(ticket_id, n),
                    "ticket_id": ticket_id,
                    "kind": kind,
                    "text": fold(body),
                    "message_ref": message_ref,
                }
            )
        insert_documents(connection, documents)


def _next_numbers(connection: Connection, ticket_ids: Iterable[int]) -> dict[int, int]:
    """Each ticket's next document number, for the tickets that have documents."""
    found = connection.execute(
        select(search_documents.c.ticket_id, func.max(search_documents.c.id))
        .where(search_documents.c.ticket_id.in_(list(ticket_ids)))
        .group_by(search_documents.c.ticket_id)
    )
    return {int(ticket_id): int(last) - document_id(ticket_id, 0) + 1 for ticket_id, last in found}
