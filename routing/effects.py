"""What a routing decision asks the store to do. Frozen values, applied in one transaction."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ticketd.mail.message import Address
from ticketd.routing.model import Priority, Status, TicketRef


class Disposition(enum.StrEnum):
    """What became of an inbound message."""

    NEW = "new"
    REPLY = "reply"
    DUPLICATE = "duplicate"
    AUTOMATIC = "automatic"
    BOUNCE = "bounce"
    IGNORE = "ignore"
    HOLD = "hold"
    SHUNT = "shunt"


class NoticeKind(enum.StrEnum):
    ACKNOWLEDGEMENT = "acknowledgement"
    DUPLICATE_NOTICE = "duplicate_notice"
    OWNER_ASSIGNED = "owner_assigned"
    STATUS_CHANGED = "status_changed"
    SLA_REMINDER = "sla_reminder"
    SLA_BREACHED = "sla_breached"
    AUTO_CLOSED = "auto_closed"
    STATUS_LINK = "status_link"


@dataclass(frozen=True, slots=True)
class OpenTicket:
    tracking: str
    requester: Address
    subject: str
    fingerprint: str
    language: str
    priority: Priority = Priority.NORMAL


@dataclass(frozen=True, slots=True)
class AppendMessage:
    """Attach the inbound message to the ticket as a customer message."""

    ticket: TicketRef | None
    public: bool = True
    kind: str = "customer_message"


@dataclass(frozen=True, slots=True)
class RecordDuplicate:
    ticket: TicketRef
    reason: str


@dataclass(frozen=True, slots=True)
class AssignOwner:
    owner: str | None
    reason: str
    ticket: TicketRef | None = None


@dataclass(frozen=True, slots=True)
class ChangeStatus:
    ticket: TicketRef
    status: Status
    reason: str


@dataclass(frozen=True, slots=True)
class RecordBounce:
    ticket: TicketRef
    summary: str


@dataclass(frozen=True, slots=True)
class Hold:
    """Keep the message out of the ticket flow, reviewable in the quarantine."""

    reason: str


@dataclass(frozen=True, slots=True)
class QueueNotice:
    kind: NoticeKind
    recipient: Address
    language: str
    ticket: TicketRef | None = None


@dataclass(frozen=True, slots=True)
class Suppressed:
    """An automatic mail we chose not to send, and why (recorded, never silent)."""

    kind: NoticeKind
    recipient: str
    reason: str


Effect = (
    OpenTicket
    | AppendMessage
    | RecordDuplicate
    | AssignOwner
    | ChangeStatus
    | RecordBounce
    | Hold
    | QueueNotice
    | Suppressed
)


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of routing one message: why (``hits``) and what to do (``effects``)."""

    disposition: Disposition
    hits: tuple[str, ...]
    effects: tuple[Effect, ...]
