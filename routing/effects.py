"""What a routing decision asks the store to do. Frozen values, applied in one transaction."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ticketd.mail.message import Address, Attachment
from ticketd.routing.codes import NewCodes
from ticketd.routing.model import EventKind, Hit, Priority, SlaClock, Status, TicketRef
from ticketd.routing.outcomes import Outcome, Reason


class Disposition(enum.StrEnum):
    """What became of an inbound message."""

    NEW = "new"
    REPLY = "reply"
    COMMAND = "command"
    DUPLICATE = "duplicate"
    AUTOMATIC = "automatic"
    BOUNCE = "bounce"
    IGNORE = "ignore"
    HOLD = "hold"
    SHUNT = "shunt"
    SCHEDULED = "scheduled"
    """Not a message: scheduled work (SLA clocks, auto-close) or a web request."""


class NoticeKind(enum.StrEnum):
    ACKNOWLEDGEMENT = "acknowledgement"
    OWNER_ASSIGNED = "owner_assigned"
    NEW_TICKETS = "new_tickets"
    UNOWNED = "unowned"
    CUSTOMER_WROTE = "customer_wrote"
    THIRD_PARTY_WROTE = "third_party_wrote"
    STATUS_CHANGED = "status_changed"
    SLA_REMINDER = "sla_reminder"
    SLA_BREACHED = "sla_breached"
    NEXT_REPLY_REMINDER = "next_reply_reminder"
    NEXT_REPLY_BREACHED = "next_reply_breached"
    AUTO_CLOSED = "auto_closed"
    STATUS_LINK = "status_link"
    PUBLIC_REPLY = "public_reply"
    COMMAND_RESULT = "command_result"
    COMMAND_REJECTED = "command_rejected"
    HELP = "help"
    MERGED = "merged"
    SIGN_IN_LINK = "sign_in_link"
    REPLY_HELD = "reply_held"
    CSAT_BAD = "csat_bad"
    WAITING_REMINDER = "waiting_reminder"
    WAITING_RESOLVED = "waiting_resolved"


HUMAN_NOTICES = frozenset({NoticeKind.PUBLIC_REPLY})

ENGINEER_NOTICES = frozenset(
    {
        NoticeKind.OWNER_ASSIGNED,
        NoticeKind.NEW_TICKETS,
        NoticeKind.UNOWNED,
        NoticeKind.CUSTOMER_WROTE,
        NoticeKind.THIRD_PARTY_WROTE,
        NoticeKind.SLA_REMINDER,
        NoticeKind.SLA_BREACHED,
        NoticeKind.NEXT_REPLY_REMINDER,
        NoticeKind.NEXT_REPLY_BREACHED,
        NoticeKind.COMMAND_RESULT,
        NoticeKind.COMMAND_REJECTED,
        NoticeKind.HELP,
        NoticeKind.SIGN_IN_LINK,
        NoticeKind.REPLY_HELD,
        NoticeKind.CSAT_BAD,
    }
)


FOLLOWER_NOTICES = frozenset(
    {
        NoticeKind.PUBLIC_REPLY,
        NoticeKind.STATUS_CHANGED,
        NoticeKind.MERGED,
        NoticeKind.AUTO_CLOSED,
        NoticeKind.WAITING_REMINDER,
        NoticeKind.WAITING_RESOLVED,
    }
)
"""Customer mail that goes To the requester and Cc the ticket's followers."""


@dataclass(frozen=True, slots=True)
class NewTicket:
    """The handle of a ticket opened by this decision (by its new tracking number)."""

    tracking: str


Target = TicketRef | NewTicket
"""The ticket an effect is about: a stored one, or the one this decision opens."""


@dataclass(frozen=True, slots=True)
class OpenTicket:
    """Open a ticket; later effects of the decision name it by ``handle``."""

    handle: NewTicket
    requester: Address
    subject: str
    fingerprint: str
    language: str
    priority: Priority = Priority.NORMAL
    followers: tuple[Address, ...] = ()


@dataclass(frozen=True, slots=True)
class AppendMessage:
    """Attach the inbound message to the ticket (by default: a public customer message)."""

    ticket: Target
    public: bool = True
    kind: EventKind = EventKind.CUSTOMER_MESSAGE


@dataclass(frozen=True, slots=True)
class RecordDuplicate:
    ticket: TicketRef
    reason: str


@dataclass(frozen=True, slots=True)
class AssignOwner:
    """Set the owner. ``actor`` None means ticketd decided (round-robin bookkeeping);
    ``only_if_unowned`` makes it a ``#take`` that loses to anyone who got there first."""

    ticket: Target
    owner: str | None
    reason: str
    actor: str | None = None
    only_if_unowned: bool = False


@dataclass(frozen=True, slots=True)
class SetPriority:
    ticket: TicketRef
    priority: Priority
    actor: str


@dataclass(frozen=True, slots=True)
class SetType:
    ticket: TicketRef
    type: str
    actor: str


@dataclass(frozen=True, slots=True)
class SetCode:
    """Set the ticket's classification code to the live code at the canonical ``path``
    (one added by the same decision too); an empty ``path`` clears it."""

    ticket: Target
    path: str
    actor: str


@dataclass(frozen=True, slots=True)
class SuggestCode:
    """Record a suggested code on a new ticket (shown to staff, applied by one click)."""

    ticket: Target
    path: str


@dataclass(frozen=True, slots=True)
class AddCodes:
    """Create classification codes (``#code add``)."""

    codes: NewCodes
    actor: str


@dataclass(frozen=True, slots=True)
class RetireCode:
    """Retire a code and its descendants; tickets keep them."""

    code_id: int
    actor: str


@dataclass(frozen=True, slots=True)
class AddTime:
    ticket: TicketRef
    minutes: int
    actor: str


@dataclass(frozen=True, slots=True)
class SetBillable:
    """``#billable yes|no``: whether the ticket's time is charged, whatever the defaults."""

    ticket: TicketRef
    billable: bool
    actor: str


@dataclass(frozen=True, slots=True)
class AddNote:
    ticket: TicketRef
    text: str
    actor: str


@dataclass(frozen=True, slots=True)
class MergeInto:
    ticket: TicketRef
    target: TicketRef
    actor: str


@dataclass(frozen=True, slots=True)
class PublicReply:
    """An engineer's answer, relayed to the customer from the support address (with the
    engineer's attachments)."""

    ticket: TicketRef
    text: str
    actor: str
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, slots=True)
class HoldReply:
    """An engineer's reply (and the commands of its mail) not applied because the ticket
    changed since the notice they answered; the text is kept, internal."""

    ticket: TicketRef
    text: str
    actor: str
    summary: str


@dataclass(frozen=True, slots=True)
class AddFollower:
    ticket: TicketRef
    follower: Address
    actor: str


@dataclass(frozen=True, slots=True)
class RemoveFollower:
    ticket: TicketRef
    email: str
    actor: str


@dataclass(frozen=True, slots=True)
class RejectCommand:
    ticket: TicketRef
    reason: str
    actor: str


@dataclass(frozen=True, slots=True)
class ChangeStatus:
    ticket: TicketRef
    status: Status
    reason: str
    actor: str | None = None


@dataclass(frozen=True, slots=True)
class RecordRating:
    """The customer's satisfaction ``rating`` (good/bad) of the ticket's latest resolution,
    with their comment: a ``csat`` event. The n-th resolution's rating is the latest
    ``csat`` event after the n-th change to ``resolved``."""

    ticket: TicketRef
    rating: str
    comment: str


@dataclass(frozen=True, slots=True)
class RecordBounce:
    ticket: TicketRef
    summary: str


@dataclass(frozen=True, slots=True)
class MarkReminded:
    """A clock's reminder is due (recorded once, with the notice it sends)."""

    ticket: TicketRef
    summary: str
    clock: SlaClock = SlaClock.FIRST_RESPONSE


@dataclass(frozen=True, slots=True)
class MarkWaitingReminded:
    """The customer of a waiting ticket is reminded (once per waiting spell)."""

    ticket: TicketRef
    summary: str


@dataclass(frozen=True, slots=True)
class MarkBreached:
    """A clock's promise is broken (recorded once, as an ``sla_breached`` event)."""

    ticket: TicketRef
    summary: str
    clock: SlaClock = SlaClock.FIRST_RESPONSE


@dataclass(frozen=True, slots=True)
class Hold:
    """Keep the message out of the ticket flow, reviewable in the quarantine."""

    reason: str


@dataclass(frozen=True, slots=True)
class QueueNotice:
    """A mail to queue. ``language`` None: the ticket's language (customers) or the
    service's (engineers); ``text`` carries a reply, a command report or a reason;
    ``new_status``: the status a public reply also announces (one mail, not two);
    ``outcomes``: a command report's lines, ``reasons``: why commands were rejected (both
    said in the reader's language when the mail is written)."""

    kind: NoticeKind
    recipient: Address
    ticket: Target
    language: str | None = None
    text: str = ""
    new_status: str = ""
    outcomes: tuple[Outcome, ...] = ()
    reasons: tuple[Reason, ...] = ()


@dataclass(frozen=True, slots=True)
class Suppressed:
    """An automatic mail we chose not to send, and why (recorded, never silent): ``reason``
    is the event's note (``routing.event_notes``)."""

    ticket: Target
    kind: NoticeKind
    recipient: str
    reason: str


Effect = (
    OpenTicket
    | AppendMessage
    | RecordDuplicate
    | AssignOwner
    | SetPriority
    | SetType
    | SetCode
    | SuggestCode
    | AddCodes
    | RetireCode
    | AddTime
    | SetBillable
    | AddNote
    | MergeInto
    | PublicReply
    | HoldReply
    | AddFollower
    | RemoveFollower
    | RejectCommand
    | ChangeStatus
    | RecordBounce
    | RecordRating
    | MarkReminded
    | MarkBreached
    | MarkWaitingReminded
    | Hold
    | QueueNotice
    | Suppressed
)


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of routing one message: why (``hits``) and what to do (``effects``)."""

    disposition: Disposition
    hits: tuple[Hit, ...]
    effects: tuple[Effect, ...]
