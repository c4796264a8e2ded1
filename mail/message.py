"""Plain value types for mail going in and out. No I/O, no parsing here."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

SYNTHETIC_SUFFIX = "@ticketd.invalid"
"""Message-IDs ticketd derives itself (for mail without a usable one) end with this."""


@dataclass(frozen=True, slots=True)
class Address:
    """A mailbox: display name and a lower-cased address."""

    email: str
    name: str = ""

    @property
    def local_part(self) -> str:
        return self.email.rpartition("@")[0]

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email


class Source(enum.StrEnum):
    """Where a raw message came from."""

    IMAP = "imap"
    SMTP = "smtp"
    IMPORT = "import"


@dataclass(frozen=True, slots=True)
class RawMessage:
    """Bytes exactly as received, plus what the transport told us about them.

    ``authres_trusted``: a trusted server can have written its Authentication-Results
    headers (true of mail fetched from the mailbox or imported from it; false of mail a
    client handed straight to the SMTP listener from outside its trusted relays).
    """

    data: bytes
    source: Source
    received_at: datetime
    envelope_from: str | None = None
    envelope_to: tuple[str, ...] = ()
    uid: int | None = None
    authres_trusted: bool = True


@dataclass(frozen=True, slots=True)
class Attachment:
    """One attachment: sanitised file name, declared type and the decoded bytes."""

    filename: str
    content_type: str
    data: bytes
    sha256: str

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What a delivery status notification (RFC 3464) says about an earlier message."""

    original_message_id: str | None
    recipients: tuple[str, ...]
    action: str
    status: str
    diagnostic: str


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A parsed message: every field already decoded to text, hostile input neutralised.

    ``text`` is the full readable body (HTML-only mail converted), ``new_text`` the part
    above any quoted history or signature. ``defects`` names what was wrong with the input.
    ``report_type`` is the ``report-type`` of a ``multipart/report``; ``auto_headers`` holds
    (lower-cased name, value) for the non-RFC 3834 headers that mark automatic mail.
    ``from_problem`` says why ``from_addr`` is None (e.g. "From has 2 addresses", "From is
    a group"); empty when it is set. ``sender``: the ``Sender`` header's mailbox.
    ``received``: the date the topmost ``Received`` header gives (when the mail arrived).
    """

    message_id: str
    from_addr: Address | None
    subject: str
    text: str
    new_text: str
    date: datetime | None = None
    reply_to: tuple[Address, ...] = ()
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    auto_submitted: str | None = None
    precedence: str | None = None
    list_id: str | None = None
    x_loop: tuple[str, ...] = ()
    authentication_results: tuple[str, ...] = ()
    delivered_to: tuple[str, ...] = ()
    content_language: str | None = None
    report: DeliveryReport | None = None
    report_type: str | None = None
    auto_headers: tuple[tuple[str, str], ...] = ()
    attachments: tuple[Attachment, ...] = ()
    defects: tuple[str, ...] = ()
    message_id_synthesized: bool = False
    from_problem: str = ""
    sender: Address | None = None
    received: datetime | None = None

    def auto_header(self, name: str) -> str | None:
        """The first value of ``name`` among ``auto_headers`` (any case), else None."""
        wanted = name.lower()
        return next((value for key, value in self.auto_headers if key == wanted), None)


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A fully rendered mail ready for a transport: envelope plus the exact bytes."""

    message_id: str
    sender: str
    recipients: tuple[str, ...]
    data: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def needs_smtputf8(self) -> bool:
        """A UTF-8 address or header (RFC 6532) can only travel with SMTPUTF8 (RFC 6531)."""
        envelope = (self.sender, *self.recipients)
        return not (all(a.isascii() for a in envelope) and self.data.isascii())
