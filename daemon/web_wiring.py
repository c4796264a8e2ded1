"""The web ports on the database, and the uvicorn server inside ``ticketd run``."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta

import uvicorn
from sqlalchemy import Engine, func, select, text

from ticketd.daemon.pages import PAGE_BY_TRACKING, PUBLISHED, PageFacts, decode_page
from ticketd.daemon.wiring import Components
from ticketd.mail.imap import WatcherState
from ticketd.mail.message import Address
from ticketd.routing.effects import NoticeKind, QueueNotice
from ticketd.store import outbox as outbox_store
from ticketd.store.apply import Applier
from ticketd.store.db import make_engine
from ticketd.store.lookup import SqlLookup
from ticketd.store.prepared import PreparedQuery
from ticketd.store.schema import events, inbound, mailbox_state, outbox, tickets
from ticketd.web.app import create_app
from ticketd.web.ports import TicketPage


class SqlTicketReader:
    """``web.ports.TicketReader`` over a read-only engine: public data only."""

    def __init__(self, engine: Engine, facts: PageFacts, generation: str) -> None:
        self.engine = engine
        self.facts = facts
        self.generation = generation
        self.page = PreparedQuery(engine, PAGE_BY_TRACKING, "tracking")
        self.published = PreparedQuery(engine, PUBLISHED, "tracking", "language", "generation")

    def close(self) -> None:
        """Close the reader's connections."""
        self.page.close()
        self.published.close()
        self.engine.dispose()

    def ticket_page(self, tracking: str) -> TicketPage | None:
        rows = self.page.rows(tracking=tracking)
        return self.facts.page(rows) if rows else None

    def published_page(self, tracking: str, language: str) -> bytes | None:
        found = self.published.rows(
            tracking=tracking, language=language, generation=self.generation
        )
        return decode_page(found[0][0]) if found else None

    def requester_matches(self, tracking: str, email: str) -> bool:
        with self.engine.connect() as connection:
            found = connection.execute(
                select(tickets.c.id).where(
                    tickets.c.tracking == tracking,
                    tickets.c.requester_email == email.strip().lower(),
                )
            ).first()
        return found is not None


class OutboxLinkMailer:
    """``web.ports.LinkMailer``: queues the signed status link to the requester."""

    def __init__(self, components: Components) -> None:
        self.components = components

    def resend_link(self, tracking: str) -> None:
        components = self.components
        with components.engine.begin() as connection:
            row = connection.execute(select(tickets).where(tickets.c.tracking == tracking)).first()
            if row is None:
                return
            lookup = SqlLookup(connection)
            since = components.clock.now() - timedelta(hours=1)
            recent = lookup.automatic_mails_since(row.requester_email, since)
            if recent >= components.config.service.autoreply_limit_per_hour:
                return
            applier = Applier(connection, lookup, components.notices.build, components.clock.now)
            notice = QueueNotice(
                NoticeKind.STATUS_LINK,
                Address(row.requester_email, row.requester_name),
                row.language,
            )
            applier.queue_notice(notice, row.id, None)


@dataclass
class DatabaseHealth:
    """``web.ports.HealthProbe`` and ``MetricsSource`` from the database."""

    engine: Engine
    watcher: Callable[[], WatcherState | None] = lambda: None
    role: Callable[[], str] = lambda: "poller"

    def health(self) -> Mapping[str, object]:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
                backlog = outbox_store.backlog(connection)
                boxes = connection.execute(select(mailbox_state)).all()
        except Exception as exc:
            return {"database": f"error: {type(exc).__name__}"}
        state = self.watcher()
        watcher = None
        if state is not None:
            watcher = {
                "connected": state.connected,
                "idle": state.idle_supported,
                "last_poll_at": state.last_poll_at.isoformat() if state.last_poll_at else None,
                "last_error": state.last_error,
            }
        return {
            "database": "ok",
            "role": self.role(),
            "outbox_backlog": backlog,
            "watcher": watcher,
            "mailbox": [
                {
                    "mailbox": b.mailbox,
                    "last_uid": b.last_uid,
                    "last_checkpoint_at": b.updated_at.isoformat(),
                }
                for b in boxes
            ],
        }

    def counters(self) -> Mapping[str, float]:
        state = self.watcher()
        latency = {}
        if state is not None and state.last_poll_seconds is not None:
            latency["poll_latency_seconds"] = state.last_poll_seconds
        with self.engine.connect() as connection:

            def count(query: object) -> float:
                return float(connection.execute(query).scalar() or 0)  # type: ignore[call-overload]

            return {
                "mails_ingested": count(select(func.count()).select_from(inbound)),
                "tickets_created": count(select(func.count()).select_from(tickets)),
                "duplicates": count(select(func.count()).where(events.c.type == "duplicate")),
                "commands_accepted": count(
                    select(func.count()).where(inbound.c.disposition == "command")
                )
                - count(select(func.count()).where(events.c.type == "command_rejected")),
                "commands_rejected": count(
                    select(func.count()).where(events.c.type == "command_rejected")
                ),
                "outbox_backlog": count(select(func.count()).where(outbox.c.state == "pending")),
                "outbox_failures": count(select(func.count()).where(outbox.c.state == "failed")),
                "quarantined": count(
                    select(func.count()).where(inbound.c.state.in_(("quarantined", "held")))
                ),
                **latency,
            }


def build_web_app(
    components: Components,
    watcher: Callable[[], WatcherState | None] = lambda: None,
    role: Callable[[], str] = lambda: "poller",
) -> object:
    """The Starlette application wired to the database (and the running daemon)."""
    pages = components.pages
    reader_engine = make_engine(components.config.database.url, read_only=True)
    health = DatabaseHealth(reader_engine, watcher, role)
    return create_app(
        pages.renderer.settings,
        SqlTicketReader(reader_engine, pages.facts, pages.generation),
        mailer=OutboxLinkMailer(components),
        health=health,
        metrics=health,
        clock=time.monotonic,
    )


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its own signal handling: the daemon owns SIGTERM/SIGINT."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class WebServer:
    """uvicorn serving the app as a task of the daemon's loop."""

    def __init__(self, server: uvicorn.Server, task: asyncio.Task[None]) -> None:
        self.server = server
        self.task = task

    async def stop(self) -> None:
        self.server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self.task, timeout=5)


async def start_web(
    components: Components,
    watcher: Callable[[], WatcherState | None] = lambda: None,
    role: Callable[[], str] = lambda: "poller",
) -> WebServer:
    """Start serving ``[web].listen`` inside the running loop."""
    host, _, port = components.config.web.listen.rpartition(":")
    config = uvicorn.Config(
        build_web_app(components, watcher, role),
        host=host,
        port=int(port),
        log_level="warning",
        access_log=False,
        lifespan="on",
    )
    server = _EmbeddedServer(config)
    task = asyncio.create_task(server.serve())
    while not server.started and not task.done():
        await asyncio.sleep(0.05)
    return WebServer(server, task)
