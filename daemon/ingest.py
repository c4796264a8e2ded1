"""The runner: raw mail in, tickets out, each batch in one transaction.

Every raw message is stored (compressed) in the ``inbound`` table in the same transaction
as the tickets, events and outbox rows it produced and, for IMAP, the UID checkpoint. A
message whose processing raises is rolled back to its savepoint and kept for retry; after
``MAX_ATTEMPTS`` it is quarantined, so it can never block the messages behind it.

A message can also take the whole process down (a crash, the OOM killer). So that it cannot
do that forever: an IMAP batch is marked in flight in its own commit first, and a batch found
still in flight when fetched again is only stored and queued; queued messages count their
attempt in its own commit before they are processed, and those a dead run left behind are
taken one at a time, until the one that keeps killing the process is quarantined.
"""

from __future__ import annotations

import hashlib
import logging
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, delete, insert, select, update

from ticketd.daemon.parsing import BatchParser
from ticketd.mail.imap import Checkpoint
from ticketd.mail.message import InboundMessage, RawMessage
from ticketd.mail.parse import ParseLimits, parse
from ticketd.routing.pipeline import RoutingContext, route
from ticketd.routing.ports import Clock, Rng
from ticketd.store.apply import Applier, BuildNotice, Incoming, Publish
from ticketd.store.keyvalue import drop_value, get_value, put_value
from ticketd.store.lookup import SqlLookup
from ticketd.store.schema import inbound, mailbox_state

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
INSERT_INBOUND = insert(inbound)
PROCESS_BATCH = 200
CLAIMABLE = select(inbound.c.id, inbound.c.attempts, inbound.c.envelope_to)


@dataclass
class IngestReport:
    """What a run did, by disposition (``new``, ``duplicate``, …) plus failures."""

    counts: Counter[str] = field(default_factory=Counter)

    def add(self, other: IngestReport) -> None:
        self.counts.update(other.counts)

    @property
    def messages(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Claimed:
    """A stored message taken for (re)processing."""

    inbound_id: int
    data: bytes
    attempts: int
    envelope_to: tuple[str, ...]
    released: bool


class Ingestor:
    """Stores, parses, routes and applies inbound mail."""

    def __init__(
        self,
        engine: Engine,
        ctx: RoutingContext,
        build_notice: BuildNotice,
        clock: Clock,
        rng: Rng,
        *,
        limits: ParseLimits | None = None,
        notify: bool = True,
        parse_workers: int = 0,
        publish: Publish | None = None,
    ) -> None:
        self.engine = engine
        self.publish = publish
        self.ctx = ctx
        self.build_notice = build_notice
        self.clock = clock
        self.rng = rng
        self.limits = limits or ParseLimits()
        self.notify = notify
        self.parser = BatchParser(self.limits, parse_workers)

    def close(self) -> None:
        """Release the parse worker, if any."""
        self.parser.close()

    def ingest(
        self,
        raws: Sequence[RawMessage],
        *,
        mailbox: str | None = None,
        checkpoint: Checkpoint | None = None,
    ) -> IngestReport:
        """Store and process ``raws`` in one transaction, with the IMAP checkpoint if given.
        A batch that was begun before and never committed is only stored and queued."""
        report = IngestReport()
        uidvalidity = checkpoint.uidvalidity if checkpoint else None
        marker = _in_flight(mailbox, uidvalidity, raws)
        if marker is not None:
            key, value = marker
            with self.engine.begin() as connection:
                if get_value(connection, key) == value:
                    log.warning("a batch from %s died before; queueing it instead", mailbox)
                    return self._queue(connection, raws, mailbox, checkpoint, key)
                put_value(connection, key, value)
        with self.engine.begin() as connection:
            lookup = SqlLookup(connection)
            applier = self._applier(connection, lookup)
            stored = _stored_uids(connection, mailbox, uidvalidity, list(raws))
            fresh = [raw for raw in raws if raw.uid not in stored]
            if len(fresh) < len(raws):
                report.counts["already-stored"] += len(raws) - len(fresh)
            for raw, msg in zip(fresh, self.parser.parse_all([r.data for r in fresh]), strict=True):
                inbound_id = self._store_raw(
                    connection, lookup, raw, mailbox, uidvalidity, 1, msg.message_id
                )
                outcome = self._process(
                    connection, lookup, applier, inbound_id, raw.data, 1, raw.envelope_to, msg=msg
                )
                report.counts[outcome] += 1
            applier.finish()
            if mailbox is not None and checkpoint is not None:
                save_checkpoint(connection, mailbox, checkpoint, self.clock.now())
            if marker is not None:
                drop_value(connection, marker[0])
        return report

    def _queue(
        self,
        connection: Connection,
        raws: Sequence[RawMessage],
        mailbox: str | None,
        checkpoint: Checkpoint | None,
        key: str,
    ) -> IngestReport:
        """Store ``raws`` for the queue (not yet stored ones), with the checkpoint."""
        report = IngestReport()
        uidvalidity = checkpoint.uidvalidity if checkpoint else None
        stored = _stored_uids(connection, mailbox, uidvalidity, list(raws))
        lookup = SqlLookup(connection)
        for raw in raws:
            if raw.uid not in stored:
                self._store_raw(connection, lookup, raw, mailbox, uidvalidity, 0)
                report.counts["queued"] += 1
        if mailbox is not None and checkpoint is not None:
            save_checkpoint(connection, mailbox, checkpoint, self.clock.now())
        drop_value(connection, key)
        return report

    def enqueue(self, raw: RawMessage) -> int:
        """Durably store a message for later processing (the SMTP listener's 250)."""
        with self.engine.begin() as connection:
            return self._store_raw(connection, SqlLookup(connection), raw, None, None, 0)

    def process_pending(
        self, *, released: Sequence[int] = (), stop: Callable[[], bool] = lambda: False
    ) -> IngestReport:
        """Process queued and retryable messages (and the given released ones) in batches,
        until none is left or ``stop()`` says so between two batches."""
        report = IngestReport()
        while not stop():
            batch = self._claim(released)
            released = ()
            if not batch:
                return report
            with self.engine.begin() as connection:
                lookup = SqlLookup(connection)
                applier = self._applier(connection, lookup)
                for item in batch:
                    outcome = self._process(
                        connection,
                        lookup,
                        applier,
                        item.inbound_id,
                        item.data,
                        item.attempts,
                        item.envelope_to,
                        item.released,
                    )
                    report.counts[outcome] += 1
                applier.finish()
        return report

    def _applier(self, connection: Connection, lookup: SqlLookup) -> Applier:
        return Applier(
            connection,
            lookup,
            self.build_notice,
            self.clock.now,
            notify=self.notify,
            publish=self.publish,
        )

    def _store_raw(
        self,
        connection: Connection,
        lookup: SqlLookup,
        raw: RawMessage,
        mailbox: str | None,
        uidvalidity: int | None,
        attempts: int,
        message_id: str = "",
    ) -> int:
        digest = hashlib.sha256(raw.data).hexdigest()
        copy_of = (
            lookup.raw_seen(digest) if not message_id or lookup.message_seen(message_id) else None
        )
        result = connection.execute(
            INSERT_INBOUND,
            {
                "source": raw.source.value,
                "mailbox": mailbox,
                "uidvalidity": uidvalidity,
                "uid": raw.uid,
                "message_id": message_id[:998],
                "raw_sha256": digest,
                "raw": None if copy_of else zlib.compress(raw.data, 1),
                "copy_of": copy_of,
                "size": len(raw.data),
                "envelope_from": raw.envelope_from,
                "envelope_to": ",".join(raw.envelope_to) or None,
                "received_at": raw.received_at,
                "state": "pending" if attempts == 0 else "processing",
                "attempts": attempts,
            },
        )
        return int(result.inserted_primary_key[0])

    def _process(
        self,
        connection: Connection,
        lookup: SqlLookup,
        applier: Applier,
        inbound_id: int,
        data: bytes,
        attempts: int,
        envelope_to: tuple[str, ...] = (),
        released: bool = False,
        *,
        msg: InboundMessage | None = None,
    ) -> str:
        try:
            with connection.begin_nested():
                if msg is None:
                    msg = parse(data, limits=self.limits)
                    connection.execute(
                        update(inbound)
                        .where(inbound.c.id == inbound_id)
                        .values(message_id=msg.message_id[:998])
                    )
                decision = route(
                    msg,
                    lookup,
                    self.ctx,
                    self.clock,
                    self.rng,
                    released=released,
                    envelope_to=envelope_to,
                )
                ticket_id = applier.apply(decision, Incoming(inbound_id, msg))
        except Exception as exc:
            lookup.forget_caches()
            applier.forget()
            state = "quarantined" if attempts >= MAX_ATTEMPTS else "retry"
            message_id = msg.message_id if msg else "?"
            log.exception("%s failed (attempt %d), now %s", message_id, attempts, state)
            reason = f"processing failed (attempt {attempts}): {type(exc).__name__}: {exc}"
            connection.execute(
                update(inbound)
                .where(inbound.c.id == inbound_id)
                .values(state=state, reason=reason[:2000])
            )
            return "failed"
        tracking = f" ticket={ticket_id}" if ticket_id else ""
        log.info(
            "%s %s%s hits=%s",
            msg.message_id,
            decision.disposition.value.upper(),
            tracking,
            list(decision.hits),
        )
        return decision.disposition.value

    def _claim(self, released: Sequence[int]) -> list[Claimed]:
        """Take the next batch to process, counting the attempt in its own commit. A message
        a dead run left in processing is taken alone: it may be what killed that run."""
        with self.engine.begin() as connection:
            rows = self._orphan(connection)
            if not rows:
                query = (
                    CLAIMABLE.where(
                        inbound.c.state.in_(("pending", "retry")) | inbound.c.id.in_(released)
                    )
                    .order_by(inbound.c.id)
                    .limit(PROCESS_BATCH)
                )
                rows = connection.execute(query).all()
            batch = []
            for row in rows:
                connection.execute(
                    update(inbound)
                    .where(inbound.c.id == row.id)
                    .values(state="processing", attempts=row.attempts + 1)
                )
                batch.append(
                    Claimed(
                        inbound_id=row.id,
                        data=load_raw(connection, row.id),
                        attempts=row.attempts + 1,
                        envelope_to=tuple(filter(None, (row.envelope_to or "").split(","))),
                        released=row.id in released,
                    )
                )
            return batch

    def _orphan(self, connection: Connection) -> list[Row[Any]]:
        """The first message left in processing by a run that died (quarantining those that
        have died with it ``MAX_ATTEMPTS`` times), as a batch of its own."""
        left = CLAIMABLE.where(inbound.c.state == "processing").order_by(inbound.c.id).limit(1)
        while (row := connection.execute(left).first()) is not None:
            if row.attempts < MAX_ATTEMPTS:
                return [row]
            reason = f"ticketd stopped {row.attempts} times while processing this message"
            log.error("inbound %d quarantined: %s", row.id, reason)
            connection.execute(
                update(inbound)
                .where(inbound.c.id == row.id)
                .values(state="quarantined", reason=reason)
            )
        return []


def _in_flight(
    mailbox: str | None, uidvalidity: int | None, raws: Sequence[RawMessage]
) -> tuple[str, str] | None:
    """The settings key and value that mark this IMAP batch as begun."""
    uids = [raw.uid for raw in raws if raw.uid is not None]
    if mailbox is None or uidvalidity is None or not uids:
        return None
    key = "in-flight:" + hashlib.sha256(mailbox.encode()).hexdigest()[:32]
    return key, f"{uidvalidity}:{min(uids)}"


def _stored_uids(
    connection: Connection, mailbox: str | None, uidvalidity: int | None, raws: list[RawMessage]
) -> set[int]:
    """UIDs of this batch already stored (a re-fetch after a lost checkpoint is harmless)."""
    uids = [raw.uid for raw in raws if raw.uid is not None]
    if mailbox is None or uidvalidity is None or not uids:
        return set()
    query = select(inbound.c.uid).where(
        inbound.c.mailbox == mailbox, inbound.c.uidvalidity == uidvalidity, inbound.c.uid.in_(uids)
    )
    return set(connection.execute(query).scalars())


def load_raw(connection: Connection, inbound_id: int) -> bytes:
    """The exact bytes of a stored inbound message."""
    row = connection.execute(
        select(inbound.c.raw, inbound.c.copy_of).where(inbound.c.id == inbound_id)
    ).one()
    if row.raw is None and row.copy_of is not None:
        return load_raw(connection, row.copy_of)
    return zlib.decompress(row.raw)


def load_checkpoint(connection: Connection, mailbox: str) -> Checkpoint | None:
    """The last committed IMAP position of ``mailbox``."""
    row = connection.execute(
        select(mailbox_state.c.uidvalidity, mailbox_state.c.last_uid).where(
            mailbox_state.c.mailbox == mailbox
        )
    ).first()
    return Checkpoint(row.uidvalidity, row.last_uid) if row else None


def save_checkpoint(
    connection: Connection, mailbox: str, checkpoint: Checkpoint, now: datetime
) -> None:
    """Record the IMAP position (in the caller's transaction)."""
    connection.execute(delete(mailbox_state).where(mailbox_state.c.mailbox == mailbox))
    connection.execute(
        insert(mailbox_state).values(
            mailbox=mailbox,
            uidvalidity=checkpoint.uidvalidity,
            last_uid=checkpoint.last_uid,
            updated_at=now,
        )
    )
