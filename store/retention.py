"""Retention (``[retention]``): raw mail and attachment files past their days are removed
in chunks, in the writer's transaction. Tickets, their texts and the attachments' rows stay
(``removed_at`` tells the ticket the file was removed); a file another, newer attachment
shares by SHA-256 stays; raw mail still under review (held, quarantined, pending) stays."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, exists, select, update

from ticketd.routing.model import InboundState
from ticketd.routing.privacy import RetentionPolicy
from ticketd.store.schema import attachments, blobs, inbound, messages


@dataclass(frozen=True)
class Removed:
    raw_mail: int = 0
    files: int = 0

    def __bool__(self) -> bool:
        return bool(self.raw_mail or self.files)


def remove_expired(
    connection: Connection, policy: RetentionPolicy, now: datetime, limit: int
) -> Removed:
    """One chunk of each kind; call again while something was removed."""
    raw_cutoff = policy.raw_mail_cutoff(now)
    files_cutoff = policy.attachments_cutoff(now)
    return Removed(
        raw_mail=_raw_mail(connection, raw_cutoff, limit) if raw_cutoff else 0,
        files=_files(connection, files_cutoff, now, limit) if files_cutoff else 0,
    )


def _raw_mail(connection: Connection, cutoff: datetime, limit: int) -> int:
    copy = inbound.alias("copy")
    under_review = exists().where(copy.c.copy_of == inbound.c.id, copy.c.state != InboundState.DONE)
    due = (
        select(inbound.c.id)
        .where(
            inbound.c.state == InboundState.DONE,
            inbound.c.processed_at < cutoff,
            inbound.c.raw.is_not(None),
            ~under_review,
        )
        .limit(limit)
    )
    ids = [row.id for row in connection.execute(due)]
    if ids:
        connection.execute(update(inbound).where(inbound.c.id.in_(ids)).values(raw=None))
    return len(ids)


def _files(connection: Connection, cutoff: datetime, now: datetime, limit: int) -> int:
    due = (
        select(attachments.c.id, attachments.c.sha256)
        .select_from(attachments.join(messages, messages.c.id == attachments.c.message_ref))
        .where(messages.c.at < cutoff, attachments.c.removed_at.is_(None))
        .limit(limit)
    )
    rows = connection.execute(due).all()
    if not rows:
        return 0
    ids = [row.id for row in rows]
    connection.execute(update(attachments).where(attachments.c.id.in_(ids)).values(removed_at=now))
    shas = sorted({row.sha256 for row in rows})
    still_used = exists().where(
        and_(attachments.c.sha256 == blobs.c.sha256, attachments.c.removed_at.is_(None))
    )
    connection.execute(update(blobs).where(blobs.c.sha256.in_(shas), ~still_used).values(data=b""))
    return len(ids)


def refill(connection: Connection, sha256: str, data: bytes) -> None:
    """A new attachment brings back a file retention had emptied."""
    connection.execute(update(blobs).where(blobs.c.sha256 == sha256).values(data=data))
