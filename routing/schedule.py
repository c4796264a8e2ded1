"""Scheduled work as decisions: the first- and next-response reminders and breaches (with
who is told)
and auto-close, each a pure function of a ticket and the time, like ``route()``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ticketd.mail.message import Address
from ticketd.routing.effects import (
    ChangeStatus,
    Decision,
    Disposition,
    Effect,
    MarkBreached,
    MarkReminded,
    NoticeKind,
    QueueNotice,
)
from ticketd.routing.event_notes import NoteKind, note
from ticketd.routing.model import (
    OPEN_STATUSES,
    EngineerInfo,
    Hit,
    Role,
    SlaClock,
    Status,
    TicketView,
)
from ticketd.routing.outcomes import StatusKind, StatusReason
from ticketd.routing.sla import (
    DEFAULT_SLA,
    Deadline,
    SlaPolicy,
    SlaStep,
    auto_close_due,
    clock_step,
)


@dataclass(frozen=True, slots=True)
class ScheduleSettings:
    """The configured promises."""

    first_response_hours: float
    auto_close_days: float
    engineers: tuple[EngineerInfo, ...]
    sla: SlaPolicy = DEFAULT_SLA
    waiting_reminder_days: float = 3.0
    """Days in ``waiting`` before the customer is reminded (0: never)."""
    waiting_close_days: float = 4.0
    """Days after that reminder before the ticket is resolved (0: never)."""


def auto_close_cutoff(now: datetime, settings: ScheduleSettings) -> datetime:
    """Resolved tickets quiet since before this may close."""
    return now - timedelta(days=settings.auto_close_days)


def first_response(
    ticket: TicketView, now: datetime, settings: ScheduleSettings
) -> Decision | None:
    """The first-response clock's 75 % reminder to the owner, or its breach told to the
    owner and every manager."""
    deadline = _deadline(ticket.first_response_remind_at, ticket.first_response_due_at)
    step = clock_step(
        deadline,
        now,
        answered=ticket.first_response_at is not None,
        reminded=ticket.sla_reminded_at is not None,
        breached=ticket.sla_breached_at is not None,
    )
    hours = settings.sla.hours_for(ticket.priority)
    return _clock_decision(ticket, step, SlaClock.FIRST_RESPONSE, hours, settings)


def next_response(ticket: TicketView, now: datetime, settings: ScheduleSettings) -> Decision | None:
    """The next-reply clock (started by a customer's message after the first response):
    the same reminder and breach, once each per unanswered message."""
    deadline = _deadline(ticket.next_response_remind_at, ticket.next_response_due_at)
    step = clock_step(
        deadline,
        now,
        answered=False,
        reminded=ticket.next_response_reminded_at is not None,
        breached=ticket.next_response_breached_at is not None,
    )
    hours = settings.sla.next_response_hours or 0.0
    return _clock_decision(ticket, step, SlaClock.NEXT_RESPONSE, hours, settings)


PROMISES = {SlaClock.FIRST_RESPONSE: "first response", SlaClock.NEXT_RESPONSE: "next reply"}
NOTICES = {
    SlaClock.FIRST_RESPONSE: (NoticeKind.SLA_REMINDER, NoticeKind.SLA_BREACHED),
    SlaClock.NEXT_RESPONSE: (NoticeKind.NEXT_REPLY_REMINDER, NoticeKind.NEXT_REPLY_BREACHED),
}
"""The reminder and the breach notice of each clock."""


def _deadline(remind_at: datetime | None, due_at: datetime | None) -> Deadline | None:
    if due_at is None:
        return None
    return Deadline(remind_at or due_at, due_at)


def _clock_decision(
    ticket: TicketView, step: SlaStep, clock: SlaClock, hours: float, settings: ScheduleSettings
) -> Decision | None:
    if step == SlaStep.NONE or ticket.status not in OPEN_STATUSES or ticket.merged_into:
        return None
    owner = next((e for e in settings.engineers if e.email == ticket.owner), None)
    ref = ticket.ref
    remind, breach = NOTICES[clock]
    effects: list[Effect]
    if step == SlaStep.REMIND:
        effects = [MarkReminded(ref, note(NoteKind.SLA_DUE, clock, f"{hours:g}"), clock)]
        if owner is not None:
            effects.append(QueueNotice(remind, _address(owner), ref))
        return Decision(
            Disposition.SCHEDULED, (Hit("sla-reminder", ticket.tracking),), tuple(effects)
        )
    told = {e.email: e for e in settings.engineers if e.role == Role.MANAGER}
    if owner is not None:
        told[owner.email] = owner
    effects = [MarkBreached(ref, note(NoteKind.SLA_MISSED, clock, f"{hours:g}"), clock)]
    effects += [QueueNotice(breach, _address(told[email]), ref) for email in sorted(told)]
    return Decision(Disposition.SCHEDULED, (Hit("sla-breach", ticket.tracking),), tuple(effects))


def auto_close(ticket: TicketView, now: datetime, settings: ScheduleSettings) -> Decision | None:
    """A resolved ticket without a customer message for the configured days is closed and
    the customer told."""
    if ticket.status != Status.RESOLVED:
        return None
    days = settings.auto_close_days
    if not auto_close_due(ticket.resolved_at, ticket.last_customer_at, now, days):
        return None
    ref = ticket.ref
    effects: tuple[Effect, ...] = (
        ChangeStatus(ref, Status.CLOSED, str(StatusReason(StatusKind.NO_REPLY, f"{days:g}"))),
        QueueNotice(NoticeKind.AUTO_CLOSED, ticket.requester, ref, ticket.language),
    )
    return Decision(Disposition.SCHEDULED, (Hit("auto-close", ticket.tracking),), effects)


def _address(engineer: EngineerInfo) -> Address:
    return Address(engineer.email, engineer.name)
