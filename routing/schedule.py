"""Scheduled work as decisions: the first-response reminder and breach (with who is told)
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
from ticketd.routing.model import OPEN_STATUSES, EngineerInfo, Hit, Role, Status, TicketView
from ticketd.routing.sla import REMINDER_FRACTION, SlaStep, auto_close_due, first_response_step


@dataclass(frozen=True, slots=True)
class ScheduleSettings:
    """The configured promises."""

    first_response_hours: float
    auto_close_days: float
    engineers: tuple[EngineerInfo, ...]


@dataclass(frozen=True, slots=True)
class Window:
    """The only tickets that can be due now: unreminded ones created before
    ``remind_before``, and any created before ``breach_before``."""

    remind_before: datetime
    breach_before: datetime


def first_response_window(now: datetime, settings: ScheduleSettings) -> Window:
    """Where the first-response clock can have run out (so the store selects no more)."""
    hours = settings.first_response_hours
    return Window(
        remind_before=now - timedelta(hours=hours * REMINDER_FRACTION),
        breach_before=now - timedelta(hours=hours),
    )


def auto_close_cutoff(now: datetime, settings: ScheduleSettings) -> datetime:
    """Resolved tickets quiet since before this may close."""
    return now - timedelta(days=settings.auto_close_days)


def first_response(
    ticket: TicketView, now: datetime, settings: ScheduleSettings
) -> Decision | None:
    """The 75 % reminder to the owner, or the breach told to the owner and every manager."""
    if ticket.status not in OPEN_STATUSES or ticket.merged_into is not None:
        return None
    hours = settings.first_response_hours
    step = first_response_step(
        ticket.created_at,
        now,
        hours,
        answered=ticket.first_response_at is not None,
        reminded=ticket.sla_reminded_at is not None,
        breached=ticket.sla_breached_at is not None,
    )
    owner = next((e for e in settings.engineers if e.email == ticket.owner), None)
    ref = ticket.ref
    effects: list[Effect]
    if step == SlaStep.REMIND:
        effects = [MarkReminded(ref, f"first response due within {hours:g} h")]
        if owner is not None:
            effects.append(QueueNotice(NoticeKind.SLA_REMINDER, _address(owner), ref))
        return Decision(
            Disposition.SCHEDULED, (Hit("sla-reminder", ticket.tracking),), tuple(effects)
        )
    if step == SlaStep.BREACH:
        told = {e.email: e for e in settings.engineers if e.role == Role.MANAGER}
        if owner is not None:
            told[owner.email] = owner
        effects = [MarkBreached(ref, f"no first response within {hours:g} h")]
        effects += [
            QueueNotice(NoticeKind.SLA_BREACHED, _address(told[email]), ref)
            for email in sorted(told)
        ]
        return Decision(
            Disposition.SCHEDULED, (Hit("sla-breach", ticket.tracking),), tuple(effects)
        )
    return None


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
        ChangeStatus(ref, Status.CLOSED, f"no reply for {days:g} days"),
        QueueNotice(NoticeKind.AUTO_CLOSED, ticket.requester, ref, ticket.language),
    )
    return Decision(Disposition.SCHEDULED, (Hit("auto-close", ticket.tracking),), effects)


def _address(engineer: EngineerInfo) -> Address:
    return Address(engineer.email, engineer.name)
