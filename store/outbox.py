"""The transactional outbox: mail is queued with the change that caused it, sent later.

A flusher claims due mail (``claim_due``): in the claiming transaction the rows become
``sending``, so another flusher (another process, ``run --once``) skips them; on PostgreSQL
the claim locks with ``FOR UPDATE SKIP LOCKED``, on SQLite ``BEGIN IMMEDIATE`` serialises
claimers. Only the poller flushes, so mail left ``sending`` by an earlier poller (SIGKILLed,
or cut off from the database and fenced) is given back when the next one is elected
(``release_claims``); a claim not marked after ``CLAIM_TIMEOUT`` is claimable again in any
case."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, and_, bindparam, func, or_, select, update

from ticketd.mail.message import OutgoingMessage
from ticketd.routing.model import OutboxState
from ticketd.store.fast_insert import FastInsert
from ticketd.store.schema import outbox
from ticketd.store.sent_journal import Sent

MAX_BACKOFF = timedelta(hours=1)
CLAIM_TIMEOUT = timedelta(minutes=10)
"""A claimed mail not marked after this long was abandoned by a dead flusher."""
INSERT = FastInsert(outbox)
MARK_SENT = (
    update(outbox)
    .where(outbox.c.id == bindparam("mail_id"))
    .values(state=OutboxState.SENT, sent_at=bindparam("now"), attempts=outbox.c.attempts + 1)
)
"""Built once: the flush marks every mail right after its transport call."""
FOLD_SENT = (
    update(outbox)
    .where(
        outbox.c.id == bindparam("mail_id"),
        outbox.c.message_id == bindparam("noted_id"),
        outbox.c.state == OutboxState.SENDING,
    )
    .values(state=OutboxState.SENT, sent_at=bindparam("now"), attempts=outbox.c.attempts + 1)
)


@dataclass(frozen=True, slots=True)
class QueuedMail:
    id: int
    ticket_id: int | None
    attempts: int
    mail: OutgoingMessage
    queued_at: datetime | None = None


def queue(
    connection: Connection,
    mail: OutgoingMessage,
    ticket_id: int | None,
    kind: str,
    automatic: bool,
    now: datetime,
) -> None:
    """Add a fully rendered mail to the outbox (inside the caller's transaction)."""
    INSERT.add(
        connection,
        {
            "message_id": mail.message_id,
            "ticket_id": ticket_id,
            "kind": kind,
            "sender": mail.sender,
            "recipient": mail.recipients[0],
            "recipients": ",".join(mail.recipients),
            "automatic": automatic,
            "data": mail.data,
            "state": OutboxState.PENDING,
            "created_at": now,
            "next_attempt_at": now,
        },
    )


def claim_due(
    connection: Connection,
    now: datetime,
    claimer: str,
    limit: int = 50,
    *,
    after: int = 0,
    ignore_schedule: bool = False,
) -> list[QueuedMail]:
    """Take pending mail whose next attempt is due (with ``ignore_schedule``: all pending
    mail) and abandoned claims, oldest first from the row after ``after`` on, marking it
    ``sending`` by ``claimer``; rows another flusher holds are skipped."""
    pending = outbox.c.state == OutboxState.PENDING
    if not ignore_schedule:
        pending = and_(pending, outbox.c.next_attempt_at <= now)
    abandoned = and_(
        outbox.c.state == OutboxState.SENDING, outbox.c.claimed_at < now - CLAIM_TIMEOUT
    )
    query = (
        select(outbox)
        .where(or_(pending, abandoned), outbox.c.id > after)
        .order_by(outbox.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list(connection.execute(query))
    if rows:
        connection.execute(
            update(outbox)
            .where(outbox.c.id.in_([row.id for row in rows]))
            .values(state=OutboxState.SENDING, claimed_at=now, claimer=claimer[:300])
        )
    return [_queued(row) for row in rows]


def _queued(row: Row[Any]) -> QueuedMail:
    return QueuedMail(
        id=row.id,
        ticket_id=row.ticket_id,
        attempts=row.attempts,
        queued_at=row.created_at,
        mail=OutgoingMessage(
            message_id=row.message_id,
            sender=row.sender,
            recipients=tuple((row.recipients or row.recipient).split(",")),
            data=row.data,
        ),
    )


def unclaim(connection: Connection, mail_ids: list[int]) -> None:
    """Give claimed mail back untried (the flush stopped before it)."""
    connection.execute(
        update(outbox)
        .where(outbox.c.id.in_(mail_ids), outbox.c.state == OutboxState.SENDING)
        .values(state=OutboxState.PENDING)
    )


def release_claims(connection: Connection, keep: str) -> None:
    """Every claim not held by ``keep`` pending again (a new poller was elected: the
    claimers are gone). The one mail a dead poller had handed to the relay may go twice,
    with its Message-ID."""
    connection.execute(
        update(outbox)
        .where(outbox.c.state == OutboxState.SENDING, outbox.c.claimer != keep[:300])
        .values(state=OutboxState.PENDING)
    )


def mark_sent(connection: Connection, mail_id: int, now: datetime) -> None:
    connection.execute(MARK_SENT, {"mail_id": mail_id, "now": now})


def fold_sent(connection: Connection, sent: Sequence[Sent]) -> None:
    """Mark sent the mail the journal noted (see ``store.sent_journal``): only rows still
    ``sending`` under the noted Message-ID."""
    if sent:
        connection.execute(
            FOLD_SENT,
            [{"mail_id": s.mail_id, "noted_id": s.message_id, "now": s.at} for s in sent],
        )


def mark_retry(connection: Connection, item: QueuedMail, error: str, now: datetime) -> None:
    """Try again later, backing off exponentially (1 min, 2 min, … at most an hour)."""
    delay = min(timedelta(minutes=2**item.attempts), MAX_BACKOFF)
    connection.execute(
        update(outbox)
        .where(outbox.c.id == item.id)
        .values(
            state=OutboxState.PENDING,
            attempts=item.attempts + 1,
            last_error=error[:2000],
            next_attempt_at=now + delay,
        )
    )


def note_error(connection: Connection, mail_id: int, error: str) -> None:
    """Why the mail is still waiting, without moving its schedule."""
    connection.execute(
        update(outbox)
        .where(outbox.c.id == mail_id)
        .values(state=OutboxState.PENDING, last_error=error[:2000])
    )


def mark_failed(connection: Connection, mail_id: int, error: str) -> None:
    connection.execute(
        update(outbox)
        .where(outbox.c.id == mail_id)
        .values(state=OutboxState.FAILED, last_error=error[:2000], attempts=outbox.c.attempts + 1)
    )


def backlog(connection: Connection) -> int:
    """How many mails wait to be sent."""
    waiting = (OutboxState.PENDING, OutboxState.SENDING)
    query = select(func.count()).where(outbox.c.state.in_(waiting))
    return int(connection.execute(query).scalar() or 0)
