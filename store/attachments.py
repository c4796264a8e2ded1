"""The files customers attached, as a ticket's status page offers them: only those of the
ticket's own public messages (never of internal mail, duplicates or other tickets)."""

from __future__ import annotations

from sqlalchemy import Engine, and_, select

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


class SqlAttachmentReader:
    """``web.ports.AttachmentReader`` over a read-only engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def attachments(self, tracking: str) -> tuple[PublicAttachment, ...]:
        query = (
            select(attachments.c.id, attachments.c.filename, attachments.c.size, messages.c.at)
            .select_from(_PUBLIC)
            .where(tickets.c.tracking == tracking)
            .order_by(messages.c.at, attachments.c.id)
        )
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        return tuple(PublicAttachment(*row) for row in rows)

    def attachment(self, tracking: str, attachment_id: int) -> AttachmentFile | None:
        query = (
            select(attachments.c.filename, blobs.c.data)
            .select_from(_PUBLIC.join(blobs, blobs.c.sha256 == attachments.c.sha256))
            .where(tickets.c.tracking == tracking, attachments.c.id == attachment_id)
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return AttachmentFile(row.filename, row.data) if row else None
