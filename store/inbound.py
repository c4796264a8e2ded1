"""The inbound queue's rows: every raw message as received (compressed, identical copies
stored once), its state and attempts, the IMAP checkpoint and in-flight marks.

Only ``store.writer.Writer`` calls the writing functions here; reads are free.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, CursorResult, bindparam, delete, insert, select, update

from ticketd.mail.message import InboundMessage, RawMessage, Source
from ticketd.routing.model import REVIEWABLE, InboundState
from ticketd.store.fast_insert import FastInsert
from ticketd.store.lookup import SqlLookup
from ticketd.store.raw_form import PackedRaw, digest, pack_raw, unpack_raw
from ticketd.store.schema import inbound, mailbox_state

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
INSERT_INBOUND = FastInsert(inbound)
UPDATE_INBOUND = update(inbound).where(inbound.c.id == bindparam("inbound_pk"))
CLAIMABLE = select(
    inbound.c.id,
    inbound.c.attempts,
    inbound.c.envelope_to,
    inbound.c.source,
    inbound.c.received_at,
    inbound.c.authres_trusted,
)


@dataclass(frozen=True)
class Claimed:
    """A stored message taken for (re)processing."""

    inbound_id: int
    data: bytes
    attempts: int
    envelope_to: tuple[str, ...]
    released: bool
    source: Source
    received_at: datetime

    def arrived_at(self, msg: InboundMessage) -> datetime:
        """When the mail reached us: as received over IMAP (INTERNALDATE) or SMTP; for an
        imported mailbox, the topmost Received header, else its Date."""
        if self.source == Source.IMPORT:
            return msg.received or msg.date or self.received_at
        return self.received_at

    authres_trusted: bool


@dataclass(frozen=True)
class Position:
    """How far a mailbox has been processed (its UIDVALIDITY and last stored UID)."""

    uidvalidity: int
    last_uid: int


def store_raw(
    connection: Connection,
    lookup: SqlLookup,
    raw: RawMessage,
    mailbox: str | None,
    uidvalidity: int | None,
    attempts: int,
    message_id: str = "",
    packed: PackedRaw | None = None,
) -> int:
    """Keep ``raw`` (queued when ``attempts`` is 0, else in processing); returns its id.
    ``packed`` is ``pack_raw(raw.data)`` when the caller has it already."""
    sha256 = packed.sha256 if packed is not None else digest(raw.data)
    copy_of = lookup.raw_seen(sha256) if not message_id or lookup.message_seen(message_id) else None
    if copy_of is None and packed is None:
        packed = pack_raw(raw.data)
    return INSERT_INBOUND.one(
        connection,
        {
            "source": raw.source.value,
            "mailbox": mailbox,
            "uidvalidity": uidvalidity,
            "uid": raw.uid,
            "message_id": message_id[:998],
            "raw_sha256": sha256,
            "raw": None if packed is None or copy_of else packed.data,
            "copy_of": copy_of,
            "size": len(raw.data),
            "envelope_from": raw.envelope_from,
            "envelope_to": ",".join(raw.envelope_to) or None,
            "authres_trusted": raw.authres_trusted,
            "received_at": raw.received_at,
            "state": InboundState.PENDING if attempts == 0 else InboundState.PROCESSING,
            "attempts": attempts,
        },
    )


def new_id(result: CursorResult[Any]) -> int:
    """The primary key of the row an INSERT just wrote."""
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def update_row(connection: Connection, inbound_id: int, **values: Any) -> None:
    connection.execute(UPDATE_INBOUND, {"inbound_pk": inbound_id, **values})


WORKSPACE_CHANNEL = "workspace"
"""The channel of a ticket opened otherwise than from a stored message."""


def channel_of(connection: Connection, inbound_id: int) -> str:
    """The channel a ticket opened from this stored message came in by: its source
    (``imap``, ``smtp``, ``import``), else ``workspace``."""
    source = connection.execute(
        select(inbound.c.source).where(inbound.c.id == inbound_id)
    ).scalar_one_or_none()
    return str(source) if source else WORKSPACE_CHANNEL


def stored_uids(
    connection: Connection, mailbox: str | None, uidvalidity: int | None, uids: Sequence[int]
) -> set[int]:
    """Which of ``uids`` are already stored (a re-fetch after a lost checkpoint is harmless)."""
    if mailbox is None or uidvalidity is None or not uids:
        return set()
    query = select(inbound.c.uid).where(
        inbound.c.mailbox == mailbox, inbound.c.uidvalidity == uidvalidity, inbound.c.uid.in_(uids)
    )
    return set(connection.execute(query).scalars())


def stored_under_other_uidvalidity(
    connection: Connection,
    mailbox: str,
    uidvalidity: int,
    column: Literal["raw_sha256", "message_id"],
    values: Collection[str],
) -> set[str]:
    """Which of ``values`` (raw digests or Message-IDs) ``mailbox`` stored under another
    UIDVALIDITY: the same mail again after the folder's UIDs were renumbered."""
    if not values:
        return set()
    wanted = inbound.c[column]
    query = select(wanted).where(
        inbound.c.mailbox == mailbox,
        inbound.c.uidvalidity != uidvalidity,
        wanted.in_(list(values)),
    )
    return set(connection.execute(query).scalars())


def claim(
    connection: Connection, released: Sequence[int], limit: int, refund: Sequence[int] = ()
) -> list[Claimed]:
    """Take the next batch, counting the attempt (the caller commits it at once). A message
    a dead run left in processing is taken alone: it may be what killed that run.
    ``refund``: messages this process claimed when the database refused the batch's
    commit; that attempt was the storage's fault, not theirs, so it is given back and
    they queue again as before."""
    if refund:
        connection.execute(
            update(inbound)
            .where(inbound.c.id.in_(refund), inbound.c.state == InboundState.PROCESSING)
            .values(state=InboundState.PENDING, attempts=inbound.c.attempts - 1)
        )
    rows = _orphan(connection)
    if not rows:
        claimable = inbound.c.state.in_((InboundState.PENDING, InboundState.RETRY))
        query = (
            CLAIMABLE.where(claimable | inbound.c.id.in_(released))
            .order_by(inbound.c.id)
            .limit(limit)
        )
        rows = connection.execute(query).all()
    batch = []
    for row in rows:
        attempts = row.attempts + 1
        update_row(connection, row.id, state=InboundState.PROCESSING, attempts=attempts)
        batch.append(
            Claimed(
                inbound_id=row.id,
                data=load_raw(connection, row.id),
                attempts=attempts,
                envelope_to=tuple(filter(None, (row.envelope_to or "").split(","))),
                released=row.id in released,
                source=Source(row.source),
                received_at=row.received_at,
                authres_trusted=row.authres_trusted,
            )
        )
    return batch


def _orphan(connection: Connection) -> Sequence[Any]:
    """The first message left in processing by a run that died (quarantining those that
    have died with it ``MAX_ATTEMPTS`` times)."""
    left = (
        CLAIMABLE.where(inbound.c.state == InboundState.PROCESSING).order_by(inbound.c.id).limit(1)
    )
    while (row := connection.execute(left).first()) is not None:
        if row.attempts < MAX_ATTEMPTS:
            return (row,)
        reason = f"ticketd stopped {row.attempts} times while processing this message"
        log.error("inbound %d quarantined: %s", row.id, reason)
        update_row(connection, row.id, state=InboundState.QUARANTINED, reason=reason)
    return ()


def failed_state(attempts: int) -> InboundState:
    """Where a message whose processing raised goes: retried, or quarantined at the last."""
    return InboundState.QUARANTINED if attempts >= MAX_ATTEMPTS else InboundState.RETRY


def load_raw(connection: Connection, inbound_id: int) -> bytes:
    """The exact bytes of a stored inbound message (none once purged or past retention)."""
    row = connection.execute(
        select(inbound.c.raw, inbound.c.copy_of).where(inbound.c.id == inbound_id)
    ).one()
    if row.raw is None and row.copy_of is not None:
        return load_raw(connection, row.copy_of)
    return unpack_raw(row.raw) if row.raw is not None else b""


def reviewable(connection: Connection, inbound_id: int) -> bool:
    """True when ``inbound_id`` is held or quarantined."""
    query = select(inbound.c.id).where(inbound.c.id == inbound_id, inbound.c.state.in_(REVIEWABLE))
    return connection.execute(query).first() is not None


def load_position(connection: Connection, mailbox: str) -> Position | None:
    """The last committed IMAP position of ``mailbox``."""
    row = connection.execute(
        select(mailbox_state.c.uidvalidity, mailbox_state.c.last_uid).where(
            mailbox_state.c.mailbox == mailbox
        )
    ).first()
    return Position(row.uidvalidity, row.last_uid) if row else None


def save_position(connection: Connection, mailbox: str, position: Position, now: datetime) -> None:
    """Record the IMAP position (in the caller's transaction)."""
    connection.execute(delete(mailbox_state).where(mailbox_state.c.mailbox == mailbox))
    connection.execute(
        insert(mailbox_state).values(
            mailbox=mailbox,
            uidvalidity=position.uidvalidity,
            last_uid=position.last_uid,
            updated_at=now,
        )
    )
