"""The web application wired to the store and the running daemon, and the uvicorn server
inside ``ticketd run``."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import uvicorn
from sqlalchemy import Engine
from starlette.applications import Starlette

from ticketd.daemon.wiring import Components
from ticketd.mail.imap import WatcherState
from ticketd.routing.resend import resend_link
from ticketd.store import health
from ticketd.store.attachments import SqlAttachmentReader
from ticketd.store.db import make_engine
from ticketd.store.pages import SqlTicketReader
from ticketd.web.app import create_app


class OutboxLinkMailer:
    """``web.ports.LinkMailer``: the core decides (the requester's address, within the
    hourly cap), the writer queues the signed status link or records why not."""

    def __init__(self, components: Components) -> None:
        self.components = components

    def resend_link(self, tracking: str, email: str) -> None:
        components = self.components
        limit = components.config.service.autoreply_limit_per_hour
        with components.store.write() as writer:
            ticket = writer.ticket(tracking)
            if ticket is not None:
                now = components.clock.now()
                writer.apply(resend_link(ticket, email, writer.lookup, limit, now))


@dataclass
class ServiceHealth:
    """``web.ports.HealthProbe`` and ``MetricsSource``: the database's state and the running
    daemon's (mailbox watcher, poller role)."""

    engine: Engine
    watcher: Callable[[], WatcherState | None] = lambda: None
    role: Callable[[], str] = lambda: "poller"

    def health(self) -> Mapping[str, object]:
        found = health.database_health(self.engine)
        if found["database"] != "ok":
            return found
        state = self.watcher()
        watcher = None
        if state is not None:
            watcher = {
                "connected": state.connected,
                "idle": state.idle_supported,
                "last_poll_at": state.last_poll_at.isoformat() if state.last_poll_at else None,
                "last_error": state.last_error,
            }
        return {**found, "role": self.role(), "watcher": watcher}

    def counters(self) -> Mapping[str, float]:
        values = health.counters(self.engine)
        state = self.watcher()
        if state is not None and state.last_poll_seconds is not None:
            values["poll_latency_seconds"] = state.last_poll_seconds
        return values


def build_web_app(
    components: Components,
    watcher: Callable[[], WatcherState | None] = lambda: None,
    role: Callable[[], str] = lambda: "poller",
) -> Starlette:
    """The Starlette application wired to the database (and the running daemon)."""
    pages = components.pages
    reader_engine = make_engine(components.config.database.url, read_only=True)
    probe = ServiceHealth(reader_engine, watcher, role)
    reader = SqlTicketReader(reader_engine, pages.facts, pages.generation)
    return create_app(
        components.page_renderer.settings,
        reader,
        attachments=SqlAttachmentReader(reader_engine),
        mailer=OutboxLinkMailer(components),
        health=probe,
        metrics=probe,
        clock=time.monotonic,
        close=reader.close,
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
