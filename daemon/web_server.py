"""The web application wired to the store and the running daemon, and the uvicorn server
inside ``ticketd run``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import uvicorn
from sqlalchemy import Engine
from starlette.applications import Starlette

from ticketd.daemon import server_stack
from ticketd.daemon.actions import StoreActions
from ticketd.daemon.delivery import RelayState
from ticketd.daemon.supervisor import WorkerState
from ticketd.daemon.wiring import Components
from ticketd.mail.imap import WatcherState
from ticketd.routing.csat import Rating, RatingState, rate
from ticketd.routing.resend import resend_link
from ticketd.store import health
from ticketd.store.attachments import SqlAttachmentReader
from ticketd.store.availability import SqlAvailability
from ticketd.store.codes import SqlCodes
from ticketd.store.db import Store, make_engine
from ticketd.store.macros import SqlMacros
from ticketd.store.pages import SqlTicketReader
from ticketd.store.report_lists import SqlReportLists
from ticketd.store.reports import SqlReports
from ticketd.store.staff_access import SqlStaffAccess
from ticketd.store.workspace import SqlStaffReader
from ticketd.web.app import create_app
from ticketd.web.staff.actions import ActionEndpoints
from ticketd.web.staff.app import StaffSite, staff_mount
from ticketd.web.staff.availability import AvailabilityPages
from ticketd.web.staff.codes import CodePages
from ticketd.web.staff.dashboard import DashboardPages
from ticketd.web.staff.macros import MacroPages
from ticketd.web.staff.ports import ReportReader, Searcher, StaffReader
from ticketd.web.staff.ticket import TicketPages

log = logging.getLogger(__name__)


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


class StoreRatings:
    """``web.ports.Ratings``: the core decides a rating (``routing.csat.rate``) on the
    ticket locked by the writer, which records it and queues the owner's notice."""

    def __init__(self, components: Components) -> None:
        self.components = components

    def rating(self, tracking: str) -> RatingState | None:
        with self.components.store.read() as reader:
            return reader.rating(tracking)

    def rate(self, tracking: str, rating: Rating, comment: str) -> RatingState | None:
        engineers = self.components.config.engineers
        with self.components.store.write() as writer:
            found = writer.rating_to_change(tracking)
            if found is None:
                return None
            ticket, state = found
            writer.apply(rate(ticket, state, rating, comment, engineers))
            after = writer.rating_to_change(tracking)
        return after[1] if after else None


@dataclass(frozen=True)
class ServiceState:
    """The running daemon's live parts, as the web sees them (nothing outside ``run``)."""

    watcher: Callable[[], WatcherState | None] = lambda: None
    role: Callable[[], str] = lambda: "poller"
    workers: Callable[[], Sequence[WorkerState]] = tuple
    relay: Callable[[], RelayState | None] = lambda: None


@dataclass
class ServiceHealth:
    """``web.ports.HealthProbe`` and ``MetricsSource``: the database's state and the running
    daemon's (mailbox watcher, supervised workers, relay, poller role). ``problems`` names
    what keeps ticketd from working; any makes ``/healthz`` answer 503. Storage faults are
    among them: a read-only or full disk under SQLite, and any write ``store`` had refused
    until a probe write commits again."""

    engine: Engine
    state: ServiceState = field(default_factory=ServiceState)
    store: Store | None = None
    mailbox: bool = False

    def health(self) -> Mapping[str, object]:
        found = health.database_health(self.engine)
        if found["database"] != "ok":
            return found
        problems = health.storage_problems(self.engine)
        refused = self.store.write_problem() if self.store is not None else None
        if refused is not None:
            problems.append(f"database writes failing: {refused}")
        workers = {}
        for worker in self.state.workers():
            workers[worker.name] = {
                "running": worker.running,
                "restarts": worker.restarts,
                "last_error": worker.last_error,
                "failed_at": worker.failed_at.isoformat() if worker.failed_at else None,
            }
            if not worker.running:
                problems.append(f"{worker.name} worker down, restarting: {worker.last_error}")
        watcher = _watcher(self.state.watcher(), problems)
        relay = _relay(self.state.relay(), problems)
        role = self.state.role()
        return {
            **found,
            "not_ready": readiness(role, self.state.watcher(), self.state.relay(), self.mailbox),
            "role": role,
            "watcher": watcher,
            "workers": workers,
            "relay": relay,
            "problems": problems,
        }

    def counters(self) -> Mapping[str, float]:
        values = health.counters(self.engine)
        state = self.state.watcher()
        if state is not None and state.last_poll_seconds is not None:
            values["poll_latency_seconds"] = state.last_poll_seconds
        return values


OUTBOX_STUCK = timedelta(minutes=15)
"""A relay unreachable this long means the outbox is stuck: ``/readyz`` says not ready."""


def readiness(
    role: str, watcher: WatcherState | None, relay: RelayState | None, mailbox: bool
) -> list[str]:
    """Why this process is not ready beyond its database: as the poller of a configured
    mailbox, the mailbox not connected; the outbox stuck behind an unreachable relay."""
    reasons = []
    if mailbox and role == "poller" and (watcher is None or not watcher.connected):
        reasons.append("mailbox not connected")
    down_since = relay.down_since if relay is not None else None
    if down_since is not None and datetime.now(UTC) - down_since > OUTBOX_STUCK:
        reasons.append(f"outbox stuck: relay unreachable since {down_since.isoformat()}")
    return reasons


def _watcher(state: WatcherState | None, problems: list[str]) -> dict[str, object] | None:
    if state is None:
        return None
    if state.last_error and not state.connected:
        problems.append(f"mailbox unreachable: {state.last_error}")
    return {
        "connected": state.connected,
        "idle": state.idle_supported,
        "last_poll_at": state.last_poll_at.isoformat() if state.last_poll_at else None,
        "last_error": state.last_error,
    }


def _relay(state: RelayState | None, problems: list[str]) -> dict[str, object] | None:
    if state is None:
        return None
    if state.down_since is not None:
        problems.append(f"relay unreachable: {state.last_error}")
    return {
        "reachable": state.down_since is None,
        "down_since": state.down_since.isoformat() if state.down_since else None,
        "last_error": state.last_error or None,
        "next_probe_at": state.next_probe_at.isoformat() if state.next_probe_at else None,
    }


def staff_site(components: Components, reader: StaffReader, searcher: Searcher) -> StaffSite:
    """The workspace wired to the store: sign-in links through the outbox, sessions and
    tokens resolved against the configuration's engineers, on the store's clock."""
    config = components.config
    access = SqlStaffAccess(
        components.store,
        lambda: components.config.engineers,
        components.rng.token_bytes,
        components.notices.sign_in_link,
        config.web.base_url,
        config.web.staff_session_hours,
    )
    return StaffSite(
        components.page_renderer.settings,
        access,
        reader,
        searcher,
        config.web.staff_session_hours,
        now=components.store.now,
    )


def build_web_app(
    components: Components,
    state: ServiceState | None = None,
    *,
    workspace: tuple[StaffReader, Searcher] | None = None,
    reports: ReportReader | None = None,
) -> Starlette:
    """The Starlette application wired to the database (and the running daemon);
    ``workspace`` and ``reports`` replace the staff reads and the dashboard's figures."""
    pages = components.pages
    reader_engine = make_engine(components.config.database.url, read_only=True)
    probe = ServiceHealth(
        reader_engine,
        state or ServiceState(),
        components.store,
        mailbox=components.mailbox is not None and state is not None,
    )
    reader = SqlTicketReader(reader_engine, pages.facts, pages.generation)
    if workspace is None:
        views = SqlStaffReader(reader_engine, components.config.engineers)
        workspace = (views, views)
    staff_reader, searcher = workspace
    staff = staff_site(components, staff_reader, searcher)
    store = components.store
    saved_replies = SqlMacros(store)
    macros = MacroPages(staff.auth, staff.render, saved_replies)
    code_book = SqlCodes(store)
    availability = AvailabilityPages(
        staff.auth,
        staff.render,
        SqlAvailability(store),
        lambda: components.config.engineers,
        components.config.service.timezone,
        lambda: store.now(),
    )
    ticket_pages = TicketPages(
        staff.auth,
        staff.render,
        staff_reader,
        components.config.service.tracking_prefix,
        lambda: components.config.engineers,
        components.store.now,
        saved_replies.macros,
        code_book.tree,
    )
    actions = ActionEndpoints(
        staff.auth,
        staff.render,
        staff_reader,
        StoreActions(components),
        components.config.ingest.max_attachment_bytes,
        components.store.now,
    )
    dashboard = DashboardPages(
        staff.auth,
        staff.render,
        reports or SqlReports(reader_engine),
        SqlReportLists(reader_engine),
        store.now,
    )
    return create_app(
        components.page_renderer.settings,
        reader,
        attachments=SqlAttachmentReader(reader_engine),
        mailer=OutboxLinkMailer(components),
        health=probe,
        metrics=probe,
        clock=time.monotonic,
        close=reader.close,
        ratings=StoreRatings(components),
        collectors=components.telemetry.collectors(),
        staff=[
            staff_mount(
                [
                    staff.routes(),
                    ticket_pages.routes(),
                    actions.routes(),
                    macros.routes(),
                    CodePages(staff.auth, staff.render, code_book).routes(),
                    availability.routes(),
                    dashboard.routes(),
                ]
            )
        ],
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


async def start_web(components: Components, sock: socket.socket, state: ServiceState) -> WebServer:
    """Start serving on ``sock`` (bound to ``[web].listen``) inside the running loop."""
    config = uvicorn.Config(
        build_web_app(components, state),
        log_level="warning",
        access_log=False,
        proxy_headers=False,
        http=server_stack.http_implementation(),
        lifespan="on",
    )
    server = _EmbeddedServer(config)
    log.info("web server: %s", server_stack.describe(config.http))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.05)
    return WebServer(server, task)
