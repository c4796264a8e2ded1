"""The one cap on automatic mail: at most ``limit`` per recipient per hour, every
suppression recorded on the ticket."""

from __future__ import annotations

from datetime import datetime, timedelta

from ticketd.routing.effects import QueueNotice, Suppressed
from ticketd.routing.event_notes import NoteKind, note
from ticketd.routing.ports import Lookup

WINDOW = timedelta(hours=1)


def within_hourly_cap(
    notice: QueueNotice, lookup: Lookup, limit: int, now: datetime
) -> QueueNotice | Suppressed:
    """``notice`` itself, or its suppression once ``limit`` automatic mails went to the
    same recipient within the last hour."""
    recipient = notice.recipient.email
    if lookup.automatic_mails_since(recipient, now - WINDOW) >= limit:
        reason = note(NoteKind.SUPPRESSED_CAP, notice.kind, limit, recipient)
        return Suppressed(notice.ticket, notice.kind, recipient, reason)
    return notice
