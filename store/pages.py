"""Status pages in the database: the public view of a ticket read from its rows, published
copies stored when the ticket changes, and the web's read port over both.

A status page is read far more often than its ticket changes, and rendering it costs more
than everything else a request does. So the writer publishes (renders and stores) the page
of every ticket it changed, in the same transaction; each stored copy carries the
``generation`` of the templates and settings that rendered it, and copies of another
generation are never served (``refresh`` brings them up to date in chunks).
"""

from __future__ import annotations

import json
import logging
import zlib
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, Engine, Select, and_, bindparam, delete, insert, select

from ticketd.routing.model import PUBLIC_EVENTS, EventKind
from ticketd.routing.page_time import step_reason
from ticketd.routing.views import TicketPage, TimelineEntry
from ticketd.store.prepared import PreparedQuery
from ticketd.store.schema import events, messages, public_pages, tickets

log = logging.getLogger(__name__)

COMPRESSION = 6
PAGE_CHUNK = 500
CUSTOMER_EVENTS = (EventKind.CREATED, EventKind.CUSTOMER_MESSAGE)
_PUBLIC = sorted(kind.value for kind in PUBLIC_EVENTS)

Render = Callable[[TicketPage, str], str]
"""Renders a page (without the conversation) in a language, to HTML."""


def _page_query() -> Select[Any]:
    """A ticket's public fields with one row per public event (or one row without any)."""
    return (
        select(
            tickets.c.id,
            tickets.c.language,
            tickets.c.tracking,
            tickets.c.status,
            tickets.c.subject,
            tickets.c.owner,
            tickets.c.created_at,
            tickets.c.updated_at,
            tickets.c.first_response_at,
            tickets.c.first_response_due_at,
            events.c.actor.label("event_actor"),
            events.c.at.label("event_at"),
            events.c.type.label("event_type"),
            events.c.value.label("event_value"),
            messages.c.body,
        )
        .select_from(
            tickets.outerjoin(
                events,
                and_(
                    events.c.ticket_id == tickets.c.id,
                    events.c.public.is_(True),
                    events.c.type.in_(_PUBLIC),
                ),
            ).outerjoin(messages, messages.c.id == events.c.message_ref)
        )
        .order_by(tickets.c.id, events.c.id)
    )


PAGE_BY_TRACKING = _page_query().where(tickets.c.tracking == bindparam("tracking"))
PAGES_BY_ID = _page_query().where(tickets.c.id.in_(bindparam("ids", expanding=True)))
PUBLISHED = select(public_pages.c.body).where(
    public_pages.c.tracking == bindparam("tracking"),
    public_pages.c.language == bindparam("language"),
    public_pages.c.generation == bindparam("generation"),
)
PUBLISHED_OWN = (
    select(public_pages.c.body)
    .select_from(public_pages.join(tickets, tickets.c.tracking == public_pages.c.tracking))
    .where(
        public_pages.c.tracking == bindparam("tracking"),
        public_pages.c.language == tickets.c.language,
        public_pages.c.generation == bindparam("generation"),
    )
)
"""The page published in the ticket's own language."""


@dataclass(frozen=True)
class PageFacts:
    """Turns query rows into ``TicketPage``: engineers' display names and the SLA promise."""

    names: Mapping[str, str]
    first_response_hours: float

    def page(self, rows: Sequence[Sequence[Any]]) -> TicketPage:
        """One ticket's rows (all with the same ticket, events in order) as its page."""
        number, status, subject, owner, created_at, updated_at, answered_at, due_at = rows[0][2:10]
        timeline = story(
            TimelineEntry(
                at=at,
                kind=kind,
                summary=(value or "") if kind == EventKind.STATUS_CHANGED else "",
                author="customer" if kind in CUSTOMER_EVENTS else "support",
                text=body,
                reason=actor or "",
            )
            for *_, actor, at, kind, value, body in rows
            if kind is not None
        )
        replies = [e.at for e in timeline if e.kind == EventKind.REPLY_SENT]
        changes = [e for e in timeline if e.kind == EventKind.STATUS_CHANGED]
        hours = self.first_response_hours
        return TicketPage(
            tracking=number,
            status=status,
            subject=subject,
            owner_name=self.names.get(owner or "", None),
            created_at=created_at,
            updated_at=updated_at,
            first_response_hours=hours,
            first_response_due=None if answered_at or replies else due_at,
            timeline=timeline,
            last_reply_at=replies[-1] if replies else None,
            reason=changes[-1].reason if changes and changes[-1].summary == status else "",
            language=rows[0][1],
        )

    def digest(self) -> str:
        """What besides templates and settings decides a page's content."""
        return json.dumps([sorted(self.names.items()), self.first_response_hours, _PUBLIC])


def story(entries: Iterable[TimelineEntry]) -> tuple[TimelineEntry, ...]:
    """The timeline with each status change's reason (``reason`` comes in as the actor):
    a step back says whether the customer's message or support reopened it."""
    shown: list[TimelineEntry] = []
    status, customer_last = "open", False
    for entry in entries:
        if entry.kind == EventKind.STATUS_CHANGED:
            why = step_reason(status, entry.summary, entry.reason, customer_last)
            status = entry.summary or status
            entry = replace(entry, reason=why)
        else:
            entry = replace(entry, reason="")
        customer_last = entry.kind == EventKind.CUSTOMER_MESSAGE
        shown.append(entry)
    return tuple(shown)


def encode_page(html: str) -> bytes:
    """A page as stored: UTF-8, zlib-compressed (about half the size)."""
    return zlib.compress(html.encode("utf-8"), COMPRESSION)


def decode_page(body: bytes) -> bytes:
    """A stored page back as UTF-8 HTML."""
    return zlib.decompress(body)


class PagePublisher:
    """Renders (with ``render``) and stores the status pages of changed tickets, in the
    caller's transaction: in ``default_language`` and in each ticket's own language (of
    ``languages``)."""

    def __init__(
        self,
        render: Render,
        facts: PageFacts,
        generation: str,
        default_language: str,
        languages: Collection[str],
    ) -> None:
        self.render = render
        self.facts = facts
        self.generation = generation
        self.default_language = default_language
        self.languages = languages

    def publish(self, connection: Connection, ticket_ids: Collection[int]) -> int:
        """Store fresh pages for ``ticket_ids`` (ids that no longer exist are skipped);
        returns how many tickets were published.

        A page that cannot be rendered must not hold up the writes it belongs to: its
        stored copies are withdrawn instead, and the web renders it on request."""
        if not ticket_ids:
            return 0
        try:
            with connection.begin_nested():
                return self._publish(connection, ticket_ids)
        except Exception:
            log.exception("status pages of %d tickets not published", len(ticket_ids))
        numbers = select(tickets.c.tracking).where(tickets.c.id.in_(sorted(ticket_ids)))
        connection.execute(delete(public_pages).where(public_pages.c.tracking.in_(numbers)))
        return 0

    def _publish(self, connection: Connection, ticket_ids: Collection[int]) -> int:
        rows = connection.execute(PAGES_BY_ID, {"ids": sorted(ticket_ids)}).all()
        grouped: dict[int, list[Any]] = {}
        for row in rows:
            grouped.setdefault(row[0], []).append(row)
        stored = []
        for ticket_rows in grouped.values():
            page = self.facts.page(ticket_rows)
            for language in dict.fromkeys((self.default_language, ticket_rows[0][1])):
                if language not in self.languages:
                    continue
                stored.append(
                    {
                        "tracking": page.tracking,
                        "language": language,
                        "generation": self.generation,
                        "body": encode_page(self.render(page, language)),
                    }
                )
        numbers = sorted({page["tracking"] for page in stored})
        if numbers:
            connection.execute(delete(public_pages).where(public_pages.c.tracking.in_(numbers)))
            connection.execute(insert(public_pages), stored)
        return len(grouped)

    def refresh(self, connection: Connection, after: int, limit: int) -> tuple[int | None, int]:
        """Look at up to ``limit`` tickets with id > ``after`` and publish those whose
        default-language page is missing or of another generation. Returns the last id
        looked at (None when there was none) and how many were published."""
        current = public_pages.alias("current")
        scanned = connection.execute(
            select(tickets.c.id, current.c.tracking)
            .select_from(
                tickets.outerjoin(
                    current,
                    and_(
                        current.c.tracking == tickets.c.tracking,
                        current.c.language == self.default_language,
                        current.c.generation == self.generation,
                    ),
                )
            )
            .where(tickets.c.id > after)
            .order_by(tickets.c.id)
            .limit(limit)
        ).all()
        if not scanned:
            return None, 0
        stale = [ticket_id for ticket_id, fresh in scanned if fresh is None]
        return int(scanned[-1][0]), self.publish(connection, stale)

    def refresh_all(self, engine: Engine, stop: Callable[[], bool]) -> int:
        """Bring every stale page up to date, a chunk per transaction, until ``stop()``."""
        after: int | None = 0
        published = 0
        while after is not None and not stop():
            with engine.begin() as connection:
                after, count = self.refresh(connection, after, PAGE_CHUNK)
            published += count
        return published


class SqlTicketReader:
    """``web.ports.TicketReader`` over a read-only engine: public data only."""

    def __init__(self, engine: Engine, facts: PageFacts, generation: str) -> None:
        self.engine = engine
        self.facts = facts
        self.generation = generation
        self.page = PreparedQuery(engine, PAGE_BY_TRACKING, "tracking")
        self.published = PreparedQuery(engine, PUBLISHED, "tracking", "language", "generation")
        self.published_own = PreparedQuery(engine, PUBLISHED_OWN, "tracking", "generation")

    def close(self) -> None:
        """Close the reader's connections."""
        self.page.close()
        self.published.close()
        self.published_own.close()
        self.engine.dispose()

    def ticket_page(self, tracking: str) -> TicketPage | None:
        rows = self.page.rows(tracking=tracking)
        return self.facts.page(rows) if rows else None

    def published_page(self, tracking: str, language: str | None) -> bytes | None:
        if language is None:
            found = self.published_own.rows(tracking=tracking, generation=self.generation)
        else:
            found = self.published.rows(
                tracking=tracking, language=language, generation=self.generation
            )
        return decode_page(found[0][0]) if found else None
