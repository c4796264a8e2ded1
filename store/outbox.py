"""The transactional outbox: mail is queued with the change that caused it, sent later."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, insert, select, update

from ticketd.mail.message import OutgoingMessage
from ticketd.store.schema import outbox

MAX_BACKOFF = timedelta(hours=1)
INSERT = insert(outbox)


@dataclass(frozen=True, slots=True)
class QueuedMail:
    id: int
    ticket_id: int | None
    attempts: int
    mail: OutgoingMessage


def queue(
    connection: Connection,
    mail: OutgoingMessage,
    ticket_id: int | None,
    kind: str,
    automatic: bool,
    now: datetime,
) -> None:
    """Add a fully rendered mail to the outbox (inside the caller's transaction)."""
    connection.execute(
        INSERT,
        {
            "message_id": mail.message_id,
            "ticket_id": ticket_id,
            "kind": kind,
            "sender": mail.sender,
            "recipient": mail.recipients[0],
            "recipients": ",".join(mail.recipients),
            "automatic": automatic,
            "data": mail.data,
            "state": "pending",
            "created_at": now,
            "next_attempt_at": now,
        },
    )


def due(
    connection: Connection,
    now: datetime,
    limit: int = 200,
    *,
    after: int = 0,
    ignore_schedule: bool = False,
) -> list[QueuedMail]:
    """Pending mail whose next attempt is due (with ``ignore_schedule``: all pending mail),
    oldest first, from the row after ``after`` on."""
    query = select(outbox).where(outbox.c.state == "pending", outbox.c.id > after)
    if not ignore_schedule:
        query = query.where(outbox.c.next_attempt_at <= now)
    query = query.order_by(outbox.c.id).limit(limit)
    return [
        QueuedMail(
            id=row.id,
            ticket_id=row.ticket_id,
            attempts=row.attempts,
            mail=OutgoingMessage(
                message_id=row.message_id,
                sender=row.sender,
                recipients=tuple((row.recipients or row.recipient).split(",")),
                data=row.data,
            ),
        )
        for row in connection.execute(query)
    ]


def mark_sent(connection: Connection, mail_id: int, now: datetime) -> None:
    connection.execute(
        update(outbox)
        .where(outbox.c.id == mail_id)
        .values(state="sent", sent_at=now, attempts=outbox.c.attempts + 1)
    )


def mark_retry(connection: Connection, item: QueuedMail, error: str, now: datetime) -> None:
    """Try again later, backing off exponentially (1 min, 2 min, … at most an hour)."""
    delay = min(timedelta(minutes=2**item.attempts), MAX_BACKOFF)
    connection.execute(
        update(outbox)
        .where(outbox.c.id == item.id)
        .values(attempts=item.attempts + 1, last_error=error[:2000], next_attempt_at=now + delay)
    )


def note_error(connection: Connection, mail_id: int, error: str) -> None:
    """Why the mail is still waiting, without moving its schedule."""
    connection.execute(update(outbox).where(outbox.c.id == mail_id).values(last_error=error[:2000]))


def mark_failed(connection: Connection, mail_id: int, error: str) -> None:
    connection.execute(
        update(outbox)
        .where(outbox.c.id == mail_id)
        .values(state="failed", last_error=error[:2000], attempts=outbox.c.attempts + 1)
    )


def backlog(connection: Connection) -> int:
    """How many mails wait to be sent."""
    query = select(func.count()).where(outbox.c.state == "pending")
    return int(connection.execute(query).scalar() or 0)
