"""The runner: raw mail in, tickets out, each batch in one transaction.

Every raw message is stored (compressed) in the same transaction as the tickets, events
and outbox rows it produced and, for IMAP, the UID checkpoint. A batch is processed under
one savepoint; when a message raises, the batch is rolled back to it and taken again one
message at a time, each under a savepoint of its own: the failing one is rolled back and
kept for retry, and after three attempts quarantined, so it can never block the messages
behind it.

A message can also take the whole process down (a crash, the OOM killer). So that it cannot
do that forever: an IMAP batch is marked in flight in its own commit first, and a batch found
still in flight when fetched again is only stored and queued; queued messages count their
attempt in its own commit before they are processed, and those a dead run left behind are
taken one at a time, until the one that keeps killing the process is quarantined.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ticketd.daemon.parse_worker import BatchParser, Prepared
from ticketd.mail.message import InboundMessage, RawMessage, Source
from ticketd.mail.parse import ParseLimits, parse
from ticketd.routing import limits
from ticketd.routing.effects import Decision, Disposition
from ticketd.routing.pipeline import RoutingContext, route
from ticketd.routing.ports import Clock, Rng
from ticketd.store.db import StorageFault, Store
from ticketd.store.raw_form import digest
from ticketd.store.reader import Claimed, Position
from ticketd.store.writer import Incoming, Writer

log = logging.getLogger(__name__)

PROCESS_BATCH = 200
Work = tuple[Callable[[], Claimed], InboundMessage | None]
"""A message to process: how it is taken (stored, or already claimed), and its parse if
it was parsed ahead."""


def _already(item: Claimed) -> Claimed:
    """A claimed message is taken as it is."""
    return item


@dataclass
class IngestReport:
    """What a run did, by disposition (``new``, ``duplicate``, …) plus failures."""

    counts: Counter[str] = field(default_factory=Counter)
    opened_arrivals: list[datetime] = field(default_factory=list)
    """When the mails that opened a ticket arrived (live mail only, not imports)."""

    def add(self, other: IngestReport) -> None:
        self.counts.update(other.counts)
        self.opened_arrivals += other.opened_arrivals

    def count(self, outcome: str, item: Claimed) -> None:
        self.counts[outcome] += 1
        if outcome == Disposition.NEW and item.source != Source.IMPORT:
            self.opened_arrivals.append(item.received_at)

    @property
    def messages(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Batch:
    """Raw messages fetched together, and (for IMAP) where they came from."""

    raws: Sequence[RawMessage]
    mailbox: str | None = None
    position: Position | None = None

    @property
    def uidvalidity(self) -> int | None:
        return self.position.uidvalidity if self.position else None

    def in_flight_mark(self) -> tuple[str, str] | None:
        """The mark that says this IMAP batch was begun."""
        uids = [raw.uid for raw in self.raws if raw.uid is not None]
        if self.mailbox is None or self.position is None or not uids:
            return None
        key = "in-flight:" + hashlib.sha256(self.mailbox.encode()).hexdigest()[:32]
        return key, f"{self.position.uidvalidity}:{min(uids)}"


class Ingestor:
    """Stores, parses, routes and applies inbound mail."""

    def __init__(
        self,
        store: Store,
        ctx: RoutingContext,
        clock: Clock,
        rng: Rng,
        *,
        limits: ParseLimits | None = None,
        parse_workers: int = 0,
    ) -> None:
        self.store = store
        self.ctx = ctx
        self.clock = clock
        self.rng = rng
        self.limits = limits or ParseLimits()
        self.parser = BatchParser(self.limits, parse_workers)
        self._refund: tuple[int, ...] = ()

    def close(self) -> None:
        """Release the parse worker, if any."""
        self.parser.close()

    def ingest(
        self,
        raws: Sequence[RawMessage],
        *,
        mailbox: str | None = None,
        checkpoint: Position | None = None,
    ) -> IngestReport:
        """Store and process ``raws`` in one transaction, with the IMAP checkpoint if given.
        A batch that was begun before and never committed is only stored and queued."""
        batch = Batch(raws, mailbox, checkpoint)
        mark = batch.in_flight_mark()
        if mark is not None:
            with self.store.write(poller=True) as writer:
                if writer.marked(mark[0]) == mark[1]:
                    log.warning("a batch from %s died before; queueing it", batch.mailbox)
                    return self._queue(writer, batch, mark[0])
                writer.mark(*mark)
        report = IngestReport()
        with self.store.write(poller=True) as writer:
            fresh = self._fresh(writer, batch, report)
            parsed = self.parser.parse_all([raw.data for raw in fresh])
            pairs = self._unseen(writer, batch, zip(fresh, parsed, strict=True), report)
            automatic_since = self.clock.now() - limits.WINDOW
            writer.lookup.learn_batch([ready.message for _, ready in pairs], automatic_since)
            work = [
                (functools.partial(self._stored, writer, batch, raw, ready), ready.message)
                for raw, ready in pairs
            ]
            self._process_all(writer, work, report)
            self._checkpoint(writer, batch, mark)
        return report

    @staticmethod
    def _stored(writer: Writer, batch: Batch, raw: RawMessage, ready: Prepared) -> Claimed:
        """Store a fetched message, taken for processing by this run."""
        inbound_id = writer.store_raw(
            raw,
            mailbox=batch.mailbox,
            uidvalidity=batch.uidvalidity,
            processing=True,
            message_id=ready.message.message_id,
            packed=ready.packed,
        )
        return Claimed(
            inbound_id,
            raw.data,
            1,
            raw.envelope_to,
            released=False,
            source=raw.source,
            received_at=raw.received_at,
            authres_trusted=raw.authres_trusted,
        )

    def _fresh(self, writer: Writer, batch: Batch, report: IngestReport) -> list[RawMessage]:
        """The batch's messages not stored yet: not under their UID (a re-fetch after a lost
        checkpoint), nor as the same bytes under another UIDVALIDITY (a renumbered folder)."""
        uids = [raw.uid for raw in batch.raws if raw.uid is not None]
        stored = writer.stored_uids(batch.mailbox, batch.uidvalidity, uids)
        fresh = [raw for raw in batch.raws if raw.uid not in stored]
        if fresh and batch.mailbox is not None and batch.uidvalidity is not None:
            digests = [digest(raw.data) for raw in fresh]
            seen = writer.stored_under_other_uidvalidity(
                batch.mailbox, batch.uidvalidity, "raw_sha256", digests
            )
            fresh = [raw for raw, digest in zip(fresh, digests, strict=True) if digest not in seen]
        if len(fresh) < len(batch.raws):
            report.counts["already-stored"] += len(batch.raws) - len(fresh)
        return fresh

    def _unseen(
        self,
        writer: Writer,
        batch: Batch,
        parsed: Iterable[tuple[RawMessage, Prepared]],
        report: IngestReport,
    ) -> list[tuple[RawMessage, Prepared]]:
        """The parsed messages whose Message-ID the mailbox did not store under another
        UIDVALIDITY (the same mail, its bytes changed by a migration of the folder)."""
        pairs = list(parsed)
        if not pairs or batch.mailbox is None or batch.uidvalidity is None:
            return pairs
        ids = {r.message.message_id for _, r in pairs if not r.message.message_id_synthesized}
        seen = writer.stored_under_other_uidvalidity(
            batch.mailbox, batch.uidvalidity, "message_id", ids
        )
        kept = [(raw, ready) for raw, ready in pairs if ready.message.message_id not in seen]
        if len(kept) < len(pairs):
            report.counts["already-stored"] += len(pairs) - len(kept)
        return kept

    def _checkpoint(self, writer: Writer, batch: Batch, mark: tuple[str, str] | None) -> None:
        if batch.mailbox is not None and batch.position is not None:
            writer.save_position(batch.mailbox, batch.position)
        if mark is not None:
            writer.unmark(mark[0])

    def _queue(self, writer: Writer, batch: Batch, key: str) -> IngestReport:
        """Store the batch's new messages for the queue, with the checkpoint."""
        report = IngestReport()
        for raw in self._fresh(writer, batch, IngestReport()):
            writer.store_raw(raw, mailbox=batch.mailbox, uidvalidity=batch.uidvalidity)
            report.counts["queued"] += 1
        self._checkpoint(writer, batch, (key, ""))
        return report

    def enqueue(self, raw: RawMessage) -> int:
        """Durably store a message for later processing (the SMTP listener's 250)."""
        with self.store.write() as writer:
            return writer.store_raw(raw)

    def process_pending(
        self, *, released: Sequence[int] = (), stop: Callable[[], bool] = lambda: False
    ) -> IngestReport:
        """Process queued and retryable messages (and the given released ones) in batches,
        until none is left or ``stop()`` says so between two batches."""
        report = IngestReport()
        while not stop():
            with self.store.write(poller=True) as writer:
                claimed = writer.claim(released, PROCESS_BATCH, self._refund)
            released, self._refund = (), ()
            if not claimed:
                return report
            try:
                with self.store.write(poller=True) as writer:
                    work = [(functools.partial(_already, item), None) for item in claimed]
                    self._process_all(writer, work, report)
            except StorageFault:
                self._refund = tuple(item.inbound_id for item in claimed)
                raise
        return report

    def _process_all(self, writer: Writer, work: Sequence[Work], report: IngestReport) -> None:
        """Take and process ``work`` under one savepoint; if any message raises, the batch
        is rolled back and taken again one message at a time, each processed under its own
        savepoint, so only the failing one counts an attempt (retried, then quarantined)."""
        if len(work) > 1:
            try:
                with writer.attempt():
                    done = [(item := take(), self._apply(writer, item, msg)) for take, msg in work]
            except StorageFault:
                raise
            except Exception as exc:
                log.info("a batch of %d failed (%s); one message at a time", len(work), exc)
            else:
                for item, result in done:
                    report.count(self._logged(writer, *result), item)
                return
        for take, msg in work:
            item = take()
            report.count(self._process(writer, item, msg), item)

    def _process(self, writer: Writer, item: Claimed, msg: InboundMessage | None) -> str:
        inbound_id, attempts = item.inbound_id, item.attempts
        try:
            with writer.attempt():
                result = self._apply(writer, item, msg)
        except StorageFault:
            raise
        except Exception as exc:
            message_id = msg.message_id if msg else "?"
            reason = f"processing failed (attempt {attempts}): {type(exc).__name__}: {exc}"
            state = writer.failed(inbound_id, attempts, reason)
            log.exception(
                "%s failed (attempt %d), now %s",
                message_id,
                attempts,
                state,
                extra={"message_id": message_id},
            )
            return "failed"
        return self._logged(writer, *result)

    def _apply(
        self, writer: Writer, item: Claimed, msg: InboundMessage | None
    ) -> tuple[InboundMessage, Decision, int | None]:
        """Parse (a queued message), route and apply one message."""
        if msg is None:
            msg = parse(item.data, limits=self.limits)
            writer.note_message_id(item.inbound_id, msg.message_id)
        decision = route(
            msg,
            writer.lookup,
            self.ctx,
            self.clock,
            self.rng,
            released=item.released,
            envelope_to=item.envelope_to,
            arrived_at=item.arrived_at(msg),
            authres_trusted=item.authres_trusted,
        )
        ticket_id = writer.apply(decision, Incoming(item.inbound_id, msg, item.source.value))
        return msg, decision, ticket_id

    def _logged(
        self, writer: Writer, msg: InboundMessage, decision: Decision, ticket_id: int | None
    ) -> str:
        """Log a committed message's outcome; returns its disposition."""
        if not log.isEnabledFor(logging.INFO):
            return decision.disposition.value
        number = writer.ticket_row(ticket_id)["tracking"] if ticket_id else None
        hits = [str(hit) for hit in decision.hits]
        log.info(
            "%s %s%s hits=%s",
            msg.message_id,
            decision.disposition.name,
            f" ticket={number}" if number else "",
            hits,
            extra={"ticket": number, "message_id": msg.message_id},
        )
        return decision.disposition.value
