"""The files attached to tickets: as a ticket's status page offers them (only those of the
ticket's own public messages, never of internal mail, duplicates or other tickets), and as
staff see them (every file of the ticket)."""

from __future__ import annotations

from sqlalchemy import Engine, FromClause, and_, select

from ticketd.routing.views import AttachmentFile, PublicAttachment
from ticketd.store.schema import attachments, blobs, messages, tickets

_PUBLIC = attachments.join(
    messages,
    and_(
        messages.c.id == attachments.c.message_ref,
        messages.c.ticket_id == attachments.c.ticket_id,
        messages.c.public.is_(True),
    ),
).join(tickets, tickets.c.id == attachments.c.ticket_id)
_ANY = attachments.join(tickets, tickets.c.id == attachments.c.ticket_id)


def read_file(
    engine: Engine, source: FromClause, tracking: str, attachment_id: int
) -> AttachmentFile | None:
    """One attachment of ``tracking`` among those ``source`` joins, with its bytes."""
    query = (
        select(attachments.c.filename, blobs.c.data)
        .select_from(source.join(blobs, blobs.c.sha256 == attachments.c.sha256))
        .where(
            tickets.c.tracking == tracking,
            attachments.c.id == attachment_id,
            attachments.c.removed_at.is_(None),
        )
    )
    with engine.connect() as connection:
        row = connection.execute(query).first()
    return AttachmentFile(row.filename, row.data) if row else None


def any_file(engine: Engine, tracking: str, attachment_id: int) -> AttachmentFile | None:
    """Any attachment of the ticket, internal messages' included (for staff)."""
    return read_file(engine, _ANY, tracking, attachment_id)


class SqlAttachmentReader:
    """``web.ports.AttachmentReader`` over a read-only engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def attachments(self, tracking: str) -> tuple[PublicAttachment, ...]:
        query = (
            select(attachments.c.id, attachments.c.filename, attachments.c.size, messages.c.at)
            .select_from(_PUBLIC)
            .where(tickets.c.tracking == tracking, attachments.c.removed_at.is_(None))
            .order_by(messages.c.at, attachments.c.id)
        )
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        return tuple(PublicAttachment(*row) for row in rows)

    def attachment(self, tracking: str, attachment_id: int) -> AttachmentFile | None:
        return read_file(self.engine, _PUBLIC, tracking, attachment_id)
