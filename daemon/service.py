"""``ticketd run``: one asyncio loop hosting the SMTP listener, the web server and the
scheduler; the blocking parts (IMAP, the runner, SMTP sends) run in threads.

The mailbox watcher and the runner are supervised: a loop that raises is restarted with
backoff and shown down on ``/healthz`` meanwhile. While the relay is unreachable the outbox
is probed every ``[outbound].retry_seconds``.

SIGTERM/SIGINT set one stop event; the runner checks it between batches, so the message
in hand is finished and committed before the process exits.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from ticketd.daemon import collector, once, server_stack
from ticketd.daemon.binding import bound_socket
from ticketd.daemon.config import Config
from ticketd.daemon.delivery import RelayState
from ticketd.daemon.leader import Leadership
from ticketd.daemon.supervisor import WorkerState, supervise
from ticketd.daemon.systemd import Notifier
from ticketd.daemon.web_server import ServiceState, start_web
from ticketd.daemon.wiring import Components
from ticketd.mail.imap import FetchedBatch, MailboxWatcher, watch
from ticketd.mail.listener import InboundSMTPHandler, start_server
from ticketd.mail.message import RawMessage
from ticketd.store.db import refresh_statistics
from ticketd.store.leadership import LostLeadership

log = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 8.0
PROCESS_INTERVAL = 5.0


class Daemon:
    """The long-running service."""

    def __init__(self, components: Components) -> None:
        self.components = components
        self.stop = threading.Event()
        self.wake = threading.Event()
        self.lock = threading.Lock()
        self.watcher: MailboxWatcher | None = None
        self.leadership = Leadership(components.store)
        self.workers: dict[str, WorkerState] = {}
        self.relay = RelayState(components.config.outbound.retry_seconds)

    def await_election(self) -> bool:
        """Block until this process is the poller; False if stopping first."""
        while not self.stop.is_set():
            if self.leadership.elected.wait(1.0):
                return True
        return False

    def halted(self) -> bool:
        """Stopping, or no longer the poller: the work in hand ends between two steps."""
        return self.stop.is_set() or not self.leadership.elected.is_set()

    def process(self) -> None:
        """Process queued mail and flush the outbox (serialised: one runner at a time)."""
        with self.lock:
            once.process_and_flush(self.components, self.halted, self.relay)

    def safely(self, name: str, job: Callable[[], object]) -> None:
        """The per-job catch-all: a failing job is logged and retried on its next run."""
        try:
            job()
        except LostLeadership as exc:
            log.warning("job %s stopped before committing: %s", name, exc)
        except Exception:
            log.exception("job %s failed", name)

    def runner_loop(self) -> None:
        while self.await_election():
            while not self.halted():
                self.safely("process", self.process)
                self.wake.wait(PROCESS_INTERVAL)
                self.wake.clear()

    def watcher_loop(self) -> None:
        while self.await_election():
            try:
                self.watch_term()
            except LostLeadership as exc:
                log.warning("mailbox batch not committed: %s", exc)

    def watch_term(self) -> None:
        """Watch the mailbox until this process stops being the poller (or stops)."""
        components = self.components
        box = components.mailbox
        assert box is not None
        watcher = self.watcher = MailboxWatcher(
            components.imap_settings(),
            batch_size=box.batch_size,
            on_poll=components.telemetry.poll_duration.observe,
        )

        def handle(batch: FetchedBatch) -> None:
            with self.lock:
                once.ingest_batch(components, batch)
            self.wake.set()

        try:
            watch(
                watcher,
                lambda: once.checkpoint(components),
                handle,
                self.leadership.term_over,
                start_now=box.start == "now",
            )
        finally:
            watcher.close()

    def enqueue(self, raw: RawMessage) -> None:
        self.components.ingestor.enqueue(raw)
        self.wake.set()

    async def serve(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop.set)
        config = self.components.config
        web_socket = bound_socket("[web].listen", config.web.listen)
        servers: list[asyncio.Server] = []
        if config.smtp_listener is not None:
            smtp_socket = bound_socket("[smtp_listener].listen", config.smtp_listener.listen)
            handler = InboundSMTPHandler(
                config.support_address,
                self.enqueue,
                settings=config.smtp_listener.settings,
                clock=self.components.clock.now,
            )
            servers.append(await start_server(handler, smtp_socket))
        threads = [
            threading.Thread(target=self.leadership.campaign, args=(self.stop,), daemon=True),
            self._worker("runner", self.runner_loop),
        ]
        if self.components.mailbox is not None:
            threads.append(self._worker("imap", self.watcher_loop))
        web = await start_web(
            self.components,
            web_socket,
            ServiceState(
                watcher=lambda: self.watcher.state if self.watcher else None,
                role=lambda: "poller" if self.leadership.elected.is_set() else "standby",
                workers=lambda: tuple(self.workers.values()),
                relay=lambda: self.relay,
            ),
        )
        scheduler = AsyncIOScheduler()
        scheduler.add_job(
            self._in_thread("jobs", lambda: once.jobs(self.components, self.halted)),
            "interval",
            minutes=5,
            coalesce=True,
            max_instances=1,
            next_run_time=datetime.now(UTC),
        )
        scheduler.add_job(
            self._in_thread("digest", lambda: once.digest(self.components)),
            "interval",
            minutes=1,
            coalesce=True,
            max_instances=1,
            next_run_time=datetime.now(UTC),
        )
        scheduler.add_job(
            self._in_thread("statistics", lambda: refresh_statistics(self.components.engine)),
            "interval",
            hours=1,
            coalesce=True,
            max_instances=1,
            next_run_time=datetime.now(UTC),
        )
        scheduler.add_job(
            self._in_thread("outbox", self.wake.set),
            "interval",
            seconds=self.relay.retry_seconds,
            coalesce=True,
            max_instances=1,
        )
        scheduler.start()
        for thread in threads:
            thread.start()
        collector.tune()  # once every start-up object exists
        log.info("ticketd running: %s", listening(self.components.config, servers))
        notifier = Notifier()
        notifier.send("READY=1", f"STATUS=serving {config.web.listen}")
        watchdog = asyncio.create_task(self.watchdog(notifier, threads))
        await asyncio.get_running_loop().run_in_executor(None, self.stop.wait)
        log.warning("ticketd stopping")
        notifier.send("STOPPING=1", "STATUS=stopping")
        watchdog.cancel()
        self.wake.set()
        scheduler.shutdown(wait=False)
        for server in servers:
            server.close()
        await web.stop()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for thread in threads:
            await asyncio.to_thread(thread.join, max(0.0, deadline - time.monotonic()))
        self.leadership.release()
        return 0

    async def watchdog(self, notifier: Notifier, threads: list[threading.Thread]) -> None:
        """``WATCHDOG=1`` every ``WatchdogSec``/2 from the process loop, while every worker
        thread is alive: a stuck loop or a dead thread lets systemd restart ticketd."""
        interval = notifier.ping_interval()
        while interval is not None and not self.stop.is_set():
            if all(thread.is_alive() for thread in threads):
                notifier.send("WATCHDOG=1")
            await asyncio.sleep(interval)

    def _worker(self, name: str, loop: Callable[[], None]) -> threading.Thread:
        """A thread running ``loop`` under supervision (see ``supervisor.supervise``)."""
        state = self.workers[name] = WorkerState(name)
        return threading.Thread(
            target=supervise, args=(state, loop, self.stop), name=name, daemon=True
        )

    def _in_thread(self, name: str, job: Callable[[], object]) -> Callable[[], object]:
        async def run() -> None:
            if not self.leadership.elected.is_set():
                return
            try:
                await asyncio.to_thread(self.safely, name, job)
            except asyncio.CancelledError:
                log.info("job %s interrupted by shutdown; it resumes at the next start", name)

        return run


def run_forever(components: Components) -> int:
    """Run the daemon until SIGTERM/SIGINT, on the configured event loop."""
    factory = server_stack.loop_factory(components.config.web.event_loop)
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(Daemon(components).serve())


def listening(config: Config, servers: Sequence[asyncio.Server]) -> str:
    """Where this daemon listens and which mailbox it watches (the start-up line)."""
    smtp = [
        f"{sock.getsockname()[0]}:{sock.getsockname()[1]}"
        for server in servers
        for sock in server.sockets
    ]
    box = config.mailbox
    mailbox = f"{box.username} at {box.host}:{box.port} folder {box.folder}" if box else "none"
    return f"web http://{config.web.listen}, smtp {', '.join(smtp) or 'off'}, mailbox {mailbox}"
