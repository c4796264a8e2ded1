"""Published status pages: a ticket's public page is rendered when the ticket changes, in
the transaction that changed it, and stored; the web serves the stored copy.

A status page is read far more often than its ticket changes, and rendering it costs more
than everything else a request does. Each stored copy carries the ``generation`` of the
templates and settings that rendered it; the web ignores copies of another generation
(and renders those pages itself), and ``refresh`` brings old copies up to date in chunks.
"""

from __future__ import annotations

import hashlib
import json
import logging
import zlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, Select, and_, bindparam, delete, insert, select

from ticketd.daemon.config import Config
from ticketd.store.schema import events, messages, public_pages, tickets
from ticketd.web.i18n import LANGUAGES
from ticketd.web.pages import PageRenderer
from ticketd.web.ports import TicketPage, TimelineEntry, WebSettings

log = logging.getLogger(__name__)

PUBLIC_EVENTS = ("created", "status_changed", "reply_sent", "customer_message", "merged")
COMPRESSION = 6
PAGE_CHUNK = 500


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
            events.c.at.label("event_at"),
            events.c.type.label("event_type"),
            events.c.summary.label("event_summary"),
            messages.c.body,
        )
        .select_from(
            tickets.outerjoin(
                events,
                and_(
                    events.c.ticket_id == tickets.c.id,
                    events.c.public.is_(True),
                    events.c.type.in_(PUBLIC_EVENTS),
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


def web_settings(config: Config) -> WebSettings:
    """What the web layer needs from the configuration."""
    return WebSettings(
        service_name=config.service.name,
        language=config.service.language,
        timezone=config.service.timezone,
        secret_key=config.web.secret_key,
        tracking_prefix=config.service.tracking_prefix,
        base_url=config.web.base_url,
        show_owner=config.web.show_owner,
        team_name=config.web.team_name,
        rate_limit_per_minute=config.web.rate_limit_per_minute,
    )


@dataclass(frozen=True)
class PageFacts:
    """Turns query rows into ``TicketPage``: engineers' display names and the SLA promise."""

    names: Mapping[str, str]
    first_response_hours: float

    @classmethod
    def of(cls, config: Config) -> PageFacts:
        names = {e.email: e.name for e in config.engineers}
        return cls(names, config.sla.first_response_hours)

    def page(self, rows: Sequence[Sequence[Any]]) -> TicketPage:
        """One ticket's rows (all with the same ticket, events in order) as its page."""
        number, status, subject, owner, created_at, updated_at, answered_at = rows[0][2:9]
        timeline = tuple(
            TimelineEntry(
                at=at,
                kind=kind,
                summary=_public_summary(kind, summary),
                author="customer" if kind in ("created", "customer_message") else "support",
                text=body,
            )
            for *_, at, kind, summary, body in rows
            if kind is not None
        )
        hours = self.first_response_hours
        return TicketPage(
            tracking=number,
            status=status,
            subject=subject,
            owner_name=self.names.get(owner or "", None),
            created_at=created_at,
            updated_at=updated_at,
            first_response_hours=hours,
            first_response_due=None if answered_at else created_at + timedelta(hours=hours),
            timeline=timeline,
        )

    def digest(self) -> str:
        """What besides templates and settings decides a page's content."""
        return json.dumps([sorted(self.names.items()), self.first_response_hours, PUBLIC_EVENTS])


def _public_summary(kind: str, summary: str) -> str:
    """Only the new status of a status change is public, never the internal reason."""
    if kind == "status_changed":
        return summary.partition("→")[2].partition(":")[0].strip()
    return ""


def generation(renderer: PageRenderer, facts: PageFacts) -> str:
    """Names the templates, strings and settings a stored page was rendered with."""
    digest = hashlib.sha256(renderer.fingerprint().encode() + facts.digest().encode())
    return digest.hexdigest()[:32]


def encode_page(html: str) -> bytes:
    """A page as stored: UTF-8, zlib-compressed (about half the size)."""
    return zlib.compress(html.encode("utf-8"), COMPRESSION)


def decode_page(body: bytes) -> bytes:
    """A stored page back as UTF-8 HTML."""
    return zlib.decompress(body)


class PagePublisher:
    """Renders and stores the status pages of changed tickets, in the caller's transaction:
    in the service's default language and in each ticket's own language."""

    def __init__(self, renderer: PageRenderer, facts: PageFacts) -> None:
        self.renderer = renderer
        self.facts = facts
        self.default_language = renderer.settings.language
        self.generation = generation(renderer, facts)

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
                if language not in LANGUAGES:
                    continue
                html = self.renderer.ticket(page, language, conversation=False)
                stored.append(
                    {
                        "tracking": page.tracking,
                        "language": language,
                        "generation": self.generation,
                        "body": encode_page(html),
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
