"""The public view of a ticket: what a status page may show, never the requester's address
or internal notes. Built by the store, rendered by the web."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class TimelineEntry:
    """One public step of a ticket. ``text`` is shown only with a valid status token."""

    at: datetime
    kind: str
    summary: str
    author: str
    text: str | None = None


@dataclass(frozen=True)
class TicketPage:
    """Everything a status page may show: public data only, never the requester's address."""

    tracking: str
    status: str
    subject: str
    owner_name: str | None
    created_at: datetime
    updated_at: datetime
    first_response_hours: float
    first_response_due: datetime | None
    timeline: tuple[TimelineEntry, ...]


@dataclass(frozen=True)
class PublicAttachment:
    """A file attached to one of a ticket's public messages, as its status page lists it
    (with a valid status token only)."""

    id: int
    filename: str
    size: int
    at: datetime


@dataclass(frozen=True)
class AttachmentFile:
    """An attachment's stored name and bytes, for download."""

    filename: str
    data: bytes
