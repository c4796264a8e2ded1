"""Flushing the outbox through a transport: retry on temporary failure, give up on 5xx.

A relay that cannot be reached is the relay's state, not the mail's: the flush stops at
the first mail that finds it down, no mail backs off for it, and ``RelayState`` says when to
probe again (every ``[outbound].retry_seconds``); the flush that finds the relay answering
sends everything pending. Only a mail's own temporary failure (a 4xx for it) backs that
mail off.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ticketd.mail.transport import SendResult, Transport
from ticketd.routing.ports import Clock
from ticketd.store.db import Store
from ticketd.store.reader import QueuedMail

log = logging.getLogger(__name__)


@dataclass
class FlushReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    relay_down: str = ""
    """Why the relay could not be reached, when it could not."""
    sent_queued_at: list[datetime] = field(default_factory=list)
    """When each mail sent had been queued."""

    def add(self, later: FlushReport) -> None:
        """Count the mail of a ``later`` flush too; the relay is as it found it."""
        self.sent += later.sent
        self.retried += later.retried
        self.failed += later.failed
        self.relay_down = later.relay_down
        self.sent_queued_at += later.sent_queued_at


@dataclass
class RelayState:
    """Whether the relay answered the last attempt, and when it is down, since when, why
    and when to try it again."""

    retry_seconds: float = 30.0
    down_since: datetime | None = None
    last_error: str = ""
    next_probe_at: datetime | None = None

    def may_try(self, now: datetime) -> bool:
        return self.next_probe_at is None or now >= self.next_probe_at

    def unreachable(self, now: datetime, error: str) -> None:
        if self.down_since is None:
            self.down_since = now
            log.warning("relay unreachable (%s); probing every %g s", error, self.retry_seconds)
        self.last_error = error
        self.next_probe_at = now + timedelta(seconds=self.retry_seconds)

    def answered(self) -> None:
        if self.down_since is not None:
            log.warning("relay answers again; sending all pending mail")
        self.down_since, self.last_error, self.next_probe_at = None, "", None


def flush_outbox(
    store: Store,
    transport: Transport,
    clock: Clock,
    *,
    claimer: str,
    relay: RelayState | None = None,
    ignore_schedule: bool = False,
    stop: Callable[[], bool] = lambda: False,
) -> FlushReport:
    """Send every due mail (every pending one with ``ignore_schedule``), oldest first, each
    at most once, unless ``relay`` says it is down and not yet due for a probe. Mail is
    claimed for ``claimer`` in small batches (another flusher skips it) and each mail is
    marked (on SQLite: noted in the sent journal) right after its transport call returns,
    so a crash in between can resend at most that one mail, with the same Message-ID; a
    batch's untried rest is given back."""
    relay = relay or RelayState()
    report = FlushReport()
    if not relay.may_try(clock.now()):
        report.relay_down = relay.last_error
        return report
    try:
        _flush(store, transport, clock, claimer, relay, ignore_schedule, stop, report)
    finally:
        if store.journal is not None and store.journal.read().sent:
            with store.write() as writer:
                writer.fold_sent()
    return report


def _flush(
    store: Store,
    transport: Transport,
    clock: Clock,
    claimer: str,
    relay: RelayState,
    ignore_schedule: bool,
    stop: Callable[[], bool],
    report: FlushReport,
) -> None:
    after = 0
    while not stop():
        with store.write(poller=True) as writer:
            batch = writer.claim_mail(claimer, after=after, ignore_schedule=ignore_schedule)
        if not batch:
            return
        tried = 0
        try:
            for item in batch:
                if stop():
                    return
                tried += 1
                if not _deliver(store, transport, clock, relay, item, report):
                    return
                after = item.id
        finally:
            if tried < len(batch):
                with store.write() as writer:
                    writer.mail_unclaimed(batch[tried:])
    return


def _deliver(
    store: Store,
    transport: Transport,
    clock: Clock,
    relay: RelayState,
    item: QueuedMail,
    report: FlushReport,
) -> bool:
    """Send one mail and record the outcome; False when the relay could not be reached."""
    result: SendResult | None
    try:
        result = transport.send(item.mail)
        error = ""
    except OSError as exc:
        result, error = None, f"{type(exc).__name__}: {exc}"
    if result is not None and result.unreachable:
        relay.unreachable(clock.now(), result.unreachable)
        report.relay_down = result.unreachable
        report.retried += 1
        with store.write() as writer:
            writer.mail_deferred(item, f"relay unreachable: {result.unreachable}", backoff=False)
        return False
    relay.answered()
    if result is not None and result.ok:
        _sent(store, clock, item)
        report.sent += 1
        if item.queued_at is not None:
            report.sent_queued_at.append(item.queued_at)
        return True
    with store.write() as writer:
        if result is not None and result.failed_permanently and not result.retry:
            writer.mail_failed(item, _reasons(result.permanent))
            report.failed += 1
        else:
            if result is not None:
                error = _reasons(result.temporary)
            writer.mail_deferred(item, error)
            log.warning(
                "outbox mail %s deferred: %s",
                item.mail.message_id,
                error,
                extra={"message_id": item.mail.message_id},
            )
            report.retried += 1
    return True


def _sent(store: Store, clock: Clock, item: QueuedMail) -> None:
    """Record that the relay accepted ``item``: noted in the journal on SQLite (folded
    into the outbox by the next claim, see ``store.sent_journal``), else marked at once."""
    journal = store.journal
    if journal is not None:
        try:
            journal.note(item.id, item.mail.message_id, clock.now())
            return
        except OSError as exc:
            log.warning(
                "sent journal %s not written (%s); marking in the database", journal.path, exc
            )
    with store.write() as writer:
        writer.mail_sent(item)


def _reasons(by_recipient: dict[str, str]) -> str:
    return "; ".join(f"{rcpt}: {reason}" for rcpt, reason in by_recipient.items())
