"""Turns a ``QueueNotice`` into a complete, threaded outgoing mail for the outbox."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ticketd.mail.compose import compose, make_message_id
from ticketd.mail.message import Address, Attachment, OutgoingMessage
from ticketd.notifications.render import Renderer
from ticketd.routing.effects import (
    ENGINEER_NOTICES,
    FOLLOWER_NOTICES,
    HUMAN_NOTICES,
    NoticeKind,
    QueueNotice,
)
from ticketd.routing.fee_format import fee_summary
from ticketd.routing.fees import FeePolicy
from ticketd.routing.help_words import help_text
from ticketd.routing.links import rate_link, reply_token, status_link
from ticketd.routing.model import Status, TicketView
from ticketd.routing.outcome_words import assigned_reason, reason_words, report_words
from ticketd.routing.page_time import moment
from ticketd.routing.signin import LINK_LIFETIME
from ticketd.routing.views import NoticeContext
from ticketd.routing.workspace import StaffUser

REFERENCES_KEPT = 20
REPLY_ADDRESS_DAYS = 30
CUSTOMER_TEXT_CHARS = 4000
RESOLUTION_NOTICES = frozenset({NoticeKind.STATUS_CHANGED, NoticeKind.WAITING_RESOLVED})
"""Customer mail telling of a resolution, with the satisfaction links."""


@dataclass(frozen=True)
class NoticeSettings:
    """What every notice needs from the configuration."""

    service_name: str
    support_address: str
    sender: Address
    base_url: str
    secret_key: str
    first_response_hours: float
    default_language: str = "en"
    engineer_names: Mapping[str, str] = field(default_factory=dict)
    notice_attachment_bytes: int = 10 * 1024 * 1024
    fees: FeePolicy = field(default_factory=FeePolicy)
    timezone: str = "UTC"
    """The service's timezone: due times in customer mail are said in it."""


class NoticeFactory:
    """Builds outgoing mail for notices; called inside the transaction that queues them."""

    def __init__(
        self,
        settings: NoticeSettings,
        renderer: Renderer,
        token_bytes: Callable[[int], bytes],
        now: Callable[[], datetime],
    ) -> None:
        self.settings = settings
        self.engineer_names = settings.engineer_names
        self.renderer = renderer
        self.token_bytes = token_bytes
        self.now = now

    @property
    def staff_url(self) -> str:
        """The workspace's home; a ticket is at ``{staff_url}t/{TRACKING}``."""
        return f"{self.settings.base_url.rstrip('/')}/staff/"

    def status_url(self, tracking: str) -> str:
        """The customer's status link, with its signed key."""
        return status_link(self.settings.base_url, self.settings.secret_key, tracking)

    def rate_url(self, tracking: str, rating: str) -> str:
        """The one-click satisfaction link (``good`` or ``bad``) of a resolved ticket."""
        return rate_link(self.settings.base_url, self.settings.secret_key, tracking, rating)

    def reply_address(self, engineer: str, tracking: str) -> Address:
        """The signed ``support+token@`` address that authenticates an engineer's reply."""
        expires = int(self.now().timestamp() // 86400) + REPLY_ADDRESS_DAYS
        token = reply_token(self.settings.secret_key, engineer, tracking, expires)
        local, _, domain = self.settings.support_address.partition("@")
        return Address(f"{local}+{token}@{domain}", self.settings.service_name)

    def _due(self, ticket: TicketView, language: str) -> str:
        """When the first answer is due, in business time, as the reader says it."""
        due = ticket.first_response_due_at
        return "" if due is None else moment(due, self.settings.timezone, language)

    def build(
        self, notice: QueueNotice, ticket: TicketView, context: NoticeContext
    ) -> OutgoingMessage:
        """Render ``notice`` about ``ticket`` into an ``OutgoingMessage``."""
        to_engineer = notice.kind in ENGINEER_NOTICES
        language = notice.language or (
            self.settings.default_language if to_engineer else ticket.language
        )
        requester = ticket.requester
        msg = context.message
        attached, listed = self._files(context.attachments, to_engineer)
        told = notice.kind in RESOLUTION_NOTICES or bool(notice.new_status)
        rates = told and ticket.status == Status.RESOLVED
        values = {
            "service_name": self.settings.service_name,
            "tracking": ticket.tracking,
            "rate_good_url": self.rate_url(ticket.tracking, "good") if rates else "",
            "rate_bad_url": self.rate_url(ticket.tracking, "bad") if rates else "",
            "subject": ticket.subject,
            "status": ticket.status.value,
            "status_url": self.status_url(ticket.tracking),
            "workspace_url": f"{self.staff_url}t/{ticket.tracking}",
            "staff_url": self.staff_url,
            "first_response_hours": _hours(self.settings.first_response_hours),
            "first_response_due": self._due(ticket, language),
            "requester_name": requester.name or requester.email,
            "requester": str(requester),
            "owner": ticket.owner or "",
            "owner_name": self.engineer_names.get(ticket.owner or "", ""),
            "recipient_name": notice.recipient.name or notice.recipient.email,
            "customer_text": context.customer_text[:CUSTOMER_TEXT_CHARS],
            "original_text": context.original_text[:CUSTOMER_TEXT_CHARS],
            "notes": [note[:CUSTOMER_TEXT_CHARS] for note in context.notes],
            "sender": str(msg.from_addr) if msg and msg.from_addr else "",
            "attachments": [(a.filename, _size(a.size), a in attached) for a in listed],
            "tickets": context.folded,
            "reason": assigned_reason(context.reason, language),
            "text": _text(notice, language),
            "reasons": "; ".join(reason_words(reason, language) for reason in notice.reasons),
            "new_status": notice.new_status,
            "fee": fee_summary(self.settings.fees, context.fee, language),
        }
        rendered = self.renderer.render(notice.kind.value, language, values)
        recipient = notice.recipient
        if not recipient.name and recipient.email == requester.email:
            recipient = requester
        cc: tuple[Address, ...] = ()
        if notice.kind in FOLLOWER_NOTICES and recipient.email == requester.email:
            cc = tuple(f for f in ticket.followers if f.email != recipient.email)
        thread = context.thread
        if to_engineer and msg is not None:
            in_reply_to: str | None = msg.message_id
        else:
            in_reply_to = thread[-1] if thread else None
        domain = self.settings.support_address.rpartition("@")[2]
        return compose(
            from_addr=self.settings.sender,
            to=[recipient],
            cc=cc,
            subject=rendered.subject,
            text=rendered.text,
            html=None if to_engineer else self.renderer.html(notice.kind.value, language, values),
            message_id=make_message_id(self.token_bytes, domain),
            in_reply_to=in_reply_to,
            references=thread[-REFERENCES_KEPT:],
            auto_submitted=_auto_submitted(notice.kind, to_engineer),
            reply_to=self.reply_address(notice.recipient.email, ticket.tracking)
            if to_engineer
            else None,
            extra_headers={"X-Ticketd-Tracking": ticket.tracking},
            date=self.now(),
            attachments=attached,
        )

    def sign_in_link(self, user: StaffUser, url: str) -> OutgoingMessage:
        """The staff workspace's sign-in mail to ``user`` (in the service's language)."""
        language = self.settings.default_language
        values = {
            "service_name": self.settings.service_name,
            "recipient_name": user.name or user.email,
            "sign_in_url": url,
            "minutes": int(LINK_LIFETIME.total_seconds() // 60),
        }
        rendered = self.renderer.render(NoticeKind.SIGN_IN_LINK.value, language, values)
        domain = self.settings.support_address.rpartition("@")[2]
        return compose(
            from_addr=self.settings.sender,
            to=[Address(user.email, user.name)],
            subject=rendered.subject,
            text=rendered.text,
            html=None,
            message_id=make_message_id(self.token_bytes, domain),
            auto_submitted="auto-generated",
            date=self.now(),
        )

    def _files(
        self, files: Sequence[Attachment], to_engineer: bool
    ) -> tuple[tuple[Attachment, ...], tuple[Attachment, ...]]:
        """The files attached to the mail, and every file the text lists: engineers get
        them attached up to ``notice_attachment_bytes`` in all, the rest listed; a
        customer gets everything an engineer attached to a reply."""
        if not to_engineer:
            return tuple(files), ()
        budget, attached = self.settings.notice_attachment_bytes, []
        for attachment in files:
            if attachment.size <= budget:
                attached.append(attachment)
                budget -= attachment.size
        return tuple(attached), tuple(files)


def _size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{max(1, round(size / 1024))} KB"


def _auto_submitted(kind: NoticeKind, to_engineer: bool) -> str | None:
    """RFC 3834: automatic replies are marked; an engineer's relayed answer is not."""
    if kind in HUMAN_NOTICES:
        return None
    return "auto-generated" if to_engineer else "auto-replied"


def _hours(hours: float) -> int | float:
    return int(hours) if float(hours).is_integer() else hours


def _text(notice: QueueNotice, language: str) -> str:
    """The notice's text; a command report and the command list are said in the reader's
    language."""
    if notice.kind == NoticeKind.COMMAND_RESULT:
        return report_words(notice.outcomes, language)
    if notice.kind == NoticeKind.HELP:
        return help_text(language)
    return notice.text
