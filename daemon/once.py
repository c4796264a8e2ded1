"""The units of work, shared by ``run --once`` and the daemon's loop: fetch new mail,
process the queue, run due jobs, flush the outbox."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from ticketd.daemon.delivery import FlushReport, RelayState, flush_outbox
from ticketd.daemon.digest_job import send_digest
from ticketd.daemon.leader import this_process
from ticketd.daemon.runner import IngestReport
from ticketd.daemon.scheduler import JobReport, run_jobs
from ticketd.daemon.telemetry import observe_since
from ticketd.daemon.wiring import Components
from ticketd.mail.imap import Checkpoint, FetchedBatch, MailboxWatcher
from ticketd.mail.message import RawMessage, Source
from ticketd.store.reader import Position

log = logging.getLogger(__name__)

Stop = Callable[[], bool]
ALONGSIDE_PAUSE = 0.2
"""Seconds between two flushes beside the ingest when one found nothing due."""


def never() -> bool:
    return False


@dataclass
class CycleSummary:
    """What one ``run --once`` cycle did."""

    ingested: IngestReport = field(default_factory=IngestReport)
    jobs: JobReport = field(default_factory=JobReport)
    flushed: FlushReport = field(default_factory=FlushReport)
    digests: int = 0
    ingest_seconds: float = 0.0
    flush_seconds: float = 0.0

    def __str__(self) -> str:
        counts = ", ".join(f"{k}={v}" for k, v in sorted(self.ingested.counts.items()))
        relay = f"; relay unreachable: {self.flushed.relay_down}" if self.flushed.relay_down else ""
        return (
            f"processed {self.ingested.messages} messages ({counts or 'none'}) "
            f"in {self.ingest_seconds:.2f}s; "
            f"reminders={self.jobs.reminders} breaches={self.jobs.breaches} "
            f"closed={self.jobs.closed} waiting={self.jobs.waiting} pages={self.jobs.republished} "
            f"digests={self.digests}; "
            f"retention: raw={self.jobs.raw_mail_removed} files={self.jobs.files_removed}; "
            f"mail sent={self.flushed.sent} "
            f"deferred={self.flushed.retried} failed={self.flushed.failed} "
            f"in {self.flush_seconds:.2f}s{relay}"
        )


def checkpoint(components: Components) -> Checkpoint | None:
    """The watched mailbox's committed position."""
    with components.store.read() as reader:
        position = reader.position(components.mailbox_key)
    return Checkpoint(position.uidvalidity, position.last_uid) if position else None


def fetch_mailbox(components: Components, watcher: MailboxWatcher) -> IngestReport:
    """Fetch and process everything new in the mailbox, one committed batch at a time."""
    report = IngestReport()
    box = components.mailbox
    assert box is not None
    for batch in watcher.poll(checkpoint(components), start_now=box.start == "now"):
        report.add(ingest_batch(components, batch))
    return report


def ingest_batch(components: Components, batch: FetchedBatch) -> IngestReport:
    """Store and process one IMAP batch together with its checkpoint."""
    raws = [
        RawMessage(
            data=item.data,
            source=Source.IMAP,
            received_at=item.internaldate or components.clock.now(),
            uid=item.uid,
        )
        for item in batch.messages
    ]
    position = Position(batch.checkpoint.uidvalidity, batch.checkpoint.last_uid)
    report = components.ingestor.ingest(raws, mailbox=components.mailbox_key, checkpoint=position)
    _observe_opened(components, report)
    return report


def _observe_opened(components: Components, report: IngestReport) -> None:
    telemetry = components.telemetry
    now = components.clock.now()
    observe_since(telemetry.arrival_to_ticket, report.opened_arrivals, now)


def jobs(components: Components, stop: Stop = never) -> JobReport:
    """Whatever scheduled work is due."""
    return run_jobs(
        components.store,
        components.schedule_settings(),
        components.clock,
        components.refresh_pages,
        stop,
        components.config.service.timezone,
        components.config.retention,
    )


def digest(components: Components) -> int:
    """The managers' digest, when ``[digest]`` is set and one is due; mails queued."""
    settings = components.config.digest
    if settings is None:
        return 0
    return send_digest(
        components.store,
        components.notices,
        settings,
        components.config.engineers,
        components.clock,
    )


def flush(
    components: Components,
    stop: Stop = never,
    *,
    relay: RelayState | None = None,
    ignore_schedule: bool = False,
) -> FlushReport:
    """Send the outbox through the configured transport (see ``flush_outbox``)."""
    transport = components.transport()
    try:
        report = flush_outbox(
            components.store,
            transport,
            components.clock,
            claimer=this_process(),
            relay=relay,
            ignore_schedule=ignore_schedule,
            stop=stop,
        )
    finally:
        transport.close()
    now = components.clock.now()
    observe_since(components.telemetry.outbox_age_at_send, report.sent_queued_at, now)
    return report


def process_and_flush(
    components: Components, stop: Stop = never, relay: RelayState | None = None
) -> IngestReport:
    """Process the queue, then send what is due (while ``relay`` is down: at its probes)."""
    report = components.ingestor.process_pending(stop=stop)
    _observe_opened(components, report)
    flush(components, stop, relay=relay)
    return report


@contextmanager
def delivering_alongside(components: Components) -> Iterator[FlushReport]:
    """While the block ingests, send the mail its committed batches queued, from a thread
    of its own (the relay's answers and SQLite's own work overlap the next batches; see
    ``store.sent_journal`` for how SQLite's single writer is not waited for). Stops at a
    relay that is down or a failing flush: the cycle's final flush tries again."""
    report = FlushReport()
    done = threading.Event()

    def deliver() -> None:
        relay = RelayState(components.config.outbound.retry_seconds)
        try:
            while not done.is_set():
                flushed = flush(components, relay=relay)
                report.add(flushed)
                if flushed.relay_down:
                    return
                done.wait(ALONGSIDE_PAUSE)
        except Exception:
            log.exception("delivery alongside the ingest stopped; the final flush goes on")

    thread = threading.Thread(target=deliver, name="delivery", daemon=True)
    thread.start()
    try:
        yield report
    finally:
        done.set()
        thread.join()


def run_once(components: Components) -> CycleSummary:
    """One full cycle: fetch and process all new mail (sending its mail alongside), run
    due jobs, and attempt every pending mail whatever its retry schedule."""
    summary = CycleSummary()
    started = time.perf_counter()
    with delivering_alongside(components) as alongside:
        if components.mailbox is not None:
            watcher = MailboxWatcher(
                components.imap_settings(), batch_size=components.mailbox.batch_size
            )
            try:
                summary.ingested.add(fetch_mailbox(components, watcher))
            finally:
                watcher.close()
        summary.ingested.add(components.ingestor.process_pending())
    summary.ingest_seconds = time.perf_counter() - started
    summary.jobs = jobs(components)
    summary.digests = digest(components)
    started = time.perf_counter()
    alongside.add(flush(components, ignore_schedule=True))
    summary.flush_seconds = time.perf_counter() - started
    summary.flushed = alongside
    return summary
