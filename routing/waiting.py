"""Waiting on the customer (pure): a ticket left in ``waiting`` gets one gentle reminder
to the customer, and if they stay silent it is resolved with a notice. A waiting spell
starts when the ticket enters ``waiting`` and ends when it leaves (a customer's reply
reopens it), so each spell has at most one reminder and one resolution."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from ticketd.routing.effects import (
    ChangeStatus,
    Decision,
    Disposition,
    Effect,
    MarkWaitingReminded,
    NoticeKind,
    QueueNotice,
)
from ticketd.routing.event_notes import NoteKind, note
from ticketd.routing.model import Hit, Status, TicketView
from ticketd.routing.outcomes import StatusKind, StatusReason
from ticketd.routing.page_time import SCHEDULE_ACTOR
from ticketd.routing.schedule import ScheduleSettings


class WaitingStep(enum.StrEnum):
    NONE = "none"
    REMIND = "remind"
    RESOLVE = "resolve"


def cutoffs(now: datetime, settings: ScheduleSettings) -> tuple[datetime | None, datetime | None]:
    """Spells that started before the first may be reminded; reminders sent before the
    second may be followed by the resolution (None: that step is off)."""
    remind_days, close_days = settings.waiting_reminder_days, settings.waiting_close_days
    remind = now - timedelta(days=remind_days) if remind_days > 0 else None
    close = now - timedelta(days=close_days) if remind_days > 0 and close_days > 0 else None
    return remind, close


def waiting_step(ticket: TicketView, now: datetime, settings: ScheduleSettings) -> WaitingStep:
    """What the spell asks for now. The resolution counts from the reminder actually sent,
    so after downtime or a clock jumping forward the reminder is never skipped; a clock set
    back never asks again for what was recorded."""
    remind_before, close_before = cutoffs(now, settings)
    since, reminded = ticket.waiting_since, ticket.waiting_reminded_at
    if ticket.status != Status.WAITING or ticket.merged_into or since is None:
        return WaitingStep.NONE
    if reminded is None:
        due = remind_before is not None and since <= remind_before
        return WaitingStep.REMIND if due else WaitingStep.NONE
    due = close_before is not None and reminded <= close_before
    return WaitingStep.RESOLVE if due else WaitingStep.NONE


def waiting(ticket: TicketView, now: datetime, settings: ScheduleSettings) -> Decision | None:
    """The reminder to the customer (and followers), or the resolution with its notice."""
    step = waiting_step(ticket, now, settings)
    ref = ticket.ref
    effects: tuple[Effect, ...]
    if step == WaitingStep.REMIND:
        days = settings.waiting_reminder_days
        close = settings.waiting_close_days
        effects = (
            MarkWaitingReminded(ref, note(NoteKind.WAITING_REMINDED, f"{days:g}")),
            QueueNotice(
                NoticeKind.WAITING_REMINDER,
                ticket.requester,
                ref,
                ticket.language,
                f"{close:g}" if close > 0 else "",
            ),
        )
        hit = Hit("waiting-reminder", ticket.tracking)
    elif step == WaitingStep.RESOLVE:
        days = settings.waiting_close_days
        reason = str(StatusReason(StatusKind.NO_REPLY_AFTER_REMINDER, f"{days:g}"))
        effects = (
            ChangeStatus(ref, Status.RESOLVED, reason, SCHEDULE_ACTOR),
            QueueNotice(NoticeKind.WAITING_RESOLVED, ticket.requester, ref, ticket.language),
        )
        hit = Hit("waiting-resolve", ticket.tracking)
    else:
        return None
    return Decision(Disposition.SCHEDULED, (hit,), effects)
