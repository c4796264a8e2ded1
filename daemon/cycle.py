"""One cycle of work, shared by ``run --once`` and the daemon: fetch new mail, process it,
run due jobs, flush the outbox."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ticketd.daemon.delivery import FlushReport, flush_outbox
from ticketd.daemon.ingest import IngestReport, load_checkpoint
from ticketd.daemon.jobs import JOB_CHUNK, JobReport, JobSettings, run_due_jobs
from ticketd.daemon.pages import PAGE_CHUNK
from ticketd.daemon.wiring import Components, routing_context
from ticketd.mail.imap import FetchedBatch, MailboxWatcher
from ticketd.mail.message import RawMessage, Source


@dataclass
class CycleSummary:
    """What one ``run --once`` cycle did."""

    ingested: IngestReport = field(default_factory=IngestReport)
    jobs: JobReport = field(default_factory=JobReport)
    flushed: FlushReport = field(default_factory=FlushReport)
    ingest_seconds: float = 0.0
    flush_seconds: float = 0.0

    def __str__(self) -> str:
        counts = ", ".join(f"{k}={v}" for k, v in sorted(self.ingested.counts.items()))
        return (
            f"processed {self.ingested.messages} messages ({counts or 'none'}) "
            f"in {self.ingest_seconds:.2f}s; "
            f"reminders={self.jobs.reminders} breaches={self.jobs.breaches} "
            f"closed={self.jobs.closed} pages={self.jobs.republished}; "
            f"mail sent={self.flushed.sent} "
            f"deferred={self.flushed.retried} failed={self.flushed.failed} "
            f"in {self.flush_seconds:.2f}s"
        )


def fetch_mailbox(components: Components, watcher: MailboxWatcher) -> IngestReport:
    """Fetch and process everything new in the mailbox, one committed batch at a time."""
    report = IngestReport()
    box = components.mailbox
    assert box is not None
    with components.engine.connect() as connection:
        checkpoint = load_checkpoint(connection, components.mailbox_key)
    for batch in watcher.poll(checkpoint, start_now=box.start == "now"):
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
    return components.ingestor.ingest(
        raws, mailbox=components.mailbox_key, checkpoint=batch.checkpoint
    )


def job_settings(components: Components) -> JobSettings:
    config = components.config
    return JobSettings(
        first_response_hours=config.sla.first_response_hours,
        auto_close_days=config.sla.auto_close_days,
        engineers=routing_context(config).engineers,
    )


def run_jobs(components: Components, stop: Callable[[], bool] = lambda: False) -> JobReport:
    """Run whatever scheduled work is due, a bounded chunk per transaction, so that a large
    backlog never holds the database (or a shutdown) for long."""
    report = JobReport()
    settings = job_settings(components)
    while not stop():
        with components.engine.begin() as connection:
            chunk = run_due_jobs(
                connection,
                settings,
                components.notices.build,
                components.clock,
                JOB_CHUNK,
                components.pages.publish,
            )
        report.add(chunk)
        if chunk.actions == 0:
            break
    after: int | None = 0
    while after is not None and not stop():
        with components.engine.begin() as connection:
            after, published = components.pages.refresh(connection, after, PAGE_CHUNK)
        report.republished += published
    return report


def run_once(components: Components) -> CycleSummary:
    """One full cycle: fetch and process all new mail, run due jobs, flush the outbox."""
    summary = CycleSummary()
    started = time.perf_counter()
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
    summary.jobs = run_jobs(components)
    started = time.perf_counter()
    transport = components.transport()
    try:
        summary.flushed = flush_outbox(components.engine, transport, components.clock)
    finally:
        close_transport(transport)
    summary.flush_seconds = time.perf_counter() - started
    return summary


def close_transport(transport: object) -> None:
    close: Callable[[], None] | None = getattr(transport, "close", None)
    if close is not None:
        close()
