"""The ticket vocabulary shared by the core, the store, notifications and the web."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from ticketd.mail.message import Address


class Status(enum.StrEnum):
    """Ticket status. ``OPEN_STATUSES`` count towards an engineer's load."""

    OPEN = "open"
    PENDING = "pending"
    WAITING = "waiting"
    RESOLVED = "resolved"
    CLOSED = "closed"


OPEN_STATUSES: frozenset[Status] = frozenset({Status.OPEN, Status.PENDING, Status.WAITING})


class EventKind(enum.StrEnum):
    """What happened to a ticket: the ``type`` of an event row."""

    CREATED = "created"
    CUSTOMER_MESSAGE = "customer_message"
    AUTOMATIC_MESSAGE = "automatic_message"
    ENGINEER_MAIL = "engineer_mail"
    DUPLICATE = "duplicate"
    ASSIGNED = "assigned"
    STATUS_CHANGED = "status_changed"
    PRIORITY_CHANGED = "priority_changed"
    TYPE_CHANGED = "type_changed"
    TIME_LOGGED = "time_logged"
    REPLY_SENT = "reply_sent"
    NOTE = "note"
    REPLY_HELD = "reply_held"
    MERGED = "merged"
    COMMAND_REJECTED = "command_rejected"
    BOUNCE = "bounce"
    SLA_REMINDED = "sla_reminded"
    SLA_BREACHED = "sla_breached"
    THIRD_PARTY_MESSAGE = "third_party_message"
    FOLLOWER_ADDED = "follower_added"
    FOLLOWER_REMOVED = "follower_removed"
    NOTICE_SUPPRESSED = "suppressed"
    DELIVERY_FAILED = "delivery_failed"
    CODE_CHANGED = "code_changed"
    CODE_SUGGESTED = "code_suggested"
    BILLABLE_CHANGED = "billable_changed"
    CSAT = "csat"
    WAITING_REMINDED = "waiting_reminded"


PUBLIC_EVENTS: frozenset[EventKind] = frozenset(
    {
        EventKind.CREATED,
        EventKind.STATUS_CHANGED,
        EventKind.REPLY_SENT,
        EventKind.CUSTOMER_MESSAGE,
        EventKind.MERGED,
    }
)
"""The events a customer's status page shows."""


class InboundState(enum.StrEnum):
    """Where a stored inbound message is in its life."""

    PENDING = "pending"
    PROCESSING = "processing"
    RETRY = "retry"
    DONE = "done"
    HELD = "held"
    QUARANTINED = "quarantined"
    DROPPED = "dropped"


REVIEWABLE: frozenset[InboundState] = frozenset({InboundState.QUARANTINED, InboundState.HELD})
"""States an operator reviews with ``ticketd quarantine``."""


class OutboxState(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    """Claimed by one flusher, which hands it to the relay and records the result."""
    SENT = "sent"
    FAILED = "failed"


class Priority(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Role(enum.StrEnum):
    AGENT = "agent"
    MANAGER = "manager"


@dataclass(frozen=True, slots=True)
class EngineerInfo:
    """An engineer as the core sees one: who, what role, which teams, on duty or not
    (``away_until``: the configured absence ends at this instant, aware UTC)."""

    email: str
    name: str
    role: Role = Role.AGENT
    teams: tuple[str, ...] = ()
    available: bool = True
    away_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class RoutingRuleSpec:
    """One ``[[routing.rules]]`` entry: conditions (all lower-cased) and a target."""

    from_domain: tuple[str, ...] = ()
    from_address: tuple[str, ...] = ()
    subject_contains: tuple[str, ...] = ()
    body_contains: tuple[str, ...] = ()
    owner: str | None = None
    team: str | None = None


@dataclass(frozen=True, slots=True)
class Hit:
    """Why a rule of the decision table fired."""

    rule: str
    reason: str = ""

    def __str__(self) -> str:
        return f"{self.rule}: {self.reason}" if self.reason else self.rule


class SlaClock(enum.StrEnum):
    """Which promise an ``sla_reminded``/``sla_breached`` event is about (its value)."""

    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"


@dataclass(frozen=True, slots=True)
class TicketView:
    """A ticket as notices and reports read it (a typed copy of its row)."""

    id: int
    tracking: str
    status: Status
    priority: Priority
    type: str | None
    subject: str
    requester: Address
    owner: str | None
    language: str
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    last_customer_at: datetime | None = None
    sla_reminded_at: datetime | None = None
    sla_breached_at: datetime | None = None
    first_response_remind_at: datetime | None = None
    first_response_due_at: datetime | None = None
    next_response_remind_at: datetime | None = None
    next_response_due_at: datetime | None = None
    next_response_reminded_at: datetime | None = None
    next_response_breached_at: datetime | None = None
    waiting_since: datetime | None = None
    waiting_reminded_at: datetime | None = None
    duplicate_count: int = 0
    minutes_worked: int = 0
    merged_into: int | None = None
    followers: tuple[Address, ...] = ()

    @property
    def ref(self) -> TicketRef:
        """The little of it the decision rules need."""
        return TicketRef(
            self.id,
            self.tracking,
            self.status,
            self.owner,
            self.requester.email,
            self.subject,
            self.language,
            tuple(f.email for f in self.followers),
            self.requester.name,
        )


@dataclass(frozen=True, slots=True)
class TicketRef:
    """The little the core needs to know about an existing ticket."""

    id: int
    tracking: str
    status: Status
    owner: str | None
    requester: str
    subject: str
    language: str
    followers: tuple[str, ...] = ()
    requester_name: str = ""

    def may_write(self, email: str) -> bool:
        """The requester and the followers write to the ticket as customers."""
        return email == self.requester or email in self.followers
