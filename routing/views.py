"""Views the store builds for the edges: the public view of a ticket (what a status page may
show, never the requester's address or internal notes) and what a notice may say."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ticketd.mail.message import Attachment, InboundMessage
from ticketd.routing.fees import FeeTicket


@dataclass(frozen=True)
class TimelineEntry:
    """One public step of a ticket. ``text`` is shown only with a valid status token."""

    at: datetime
    kind: str
    summary: str
    author: str
    text: str | None = None
    reason: str = ""
    """Why a status change is what it is (``routing.page_time.step_reason``)."""


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
    last_reply_at: datetime | None = None
    reason: str = ""
    """Why the ticket is at its current step, when it went back or was closed for it."""
    language: str = ""
    """The ticket's own language: its page opens in it unless the visitor asks (``?lang=``)."""


@dataclass(frozen=True)
class NoticeContext:
    """What the store knows that a notice may say, besides the ticket itself.

    ``thread``: the Message-IDs it threads to (for customer mail only what the customer
    saw); ``reason``: the latest assignment's summary; ``message``: the mail that caused
    it; ``customer_text`` and ``original_text``: the latest customer message and the claim;
    ``notes``: internal notes, oldest first; ``attachments``: files that go with it;
    ``folded``: the tickets of a notice that stands for several; ``fee``: for a
    resolution notice, what decides the ticket's fee."""

    thread: tuple[str, ...] = ()
    reason: str = ""
    message: InboundMessage | None = None
    customer_text: str = ""
    original_text: str = ""
    notes: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    folded: tuple[tuple[str, str], ...] = ()
    fee: FeeTicket | None = None


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
