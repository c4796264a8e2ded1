"""Scheduled work: each due ticket's decision comes from the core (``routing.schedule``)
and is applied by the writer in the transaction that marks it done, so repeated runs never
repeat a reminder, a breach notice or a closing mail. Work is done in bounded chunks, so a
large backlog never holds the database (or a shutdown) for long."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from ticketd.routing import schedule, waiting
from ticketd.routing.effects import Decision, MarkBreached, MarkReminded
from ticketd.routing.ports import Clock
from ticketd.routing.privacy import RetentionPolicy
from ticketd.routing.schedule import ScheduleSettings
from ticketd.store.db import Store
from ticketd.store.report_cache import REFRESH_DAYS
from ticketd.store.writer import Writer

JOB_CHUNK = 200
log = logging.getLogger(__name__)


@dataclass
class JobReport:
    reminders: int = 0
    breaches: int = 0
    closed: int = 0
    waiting: int = 0
    republished: int = 0
    report_days: int = 0
    raw_mail_removed: int = 0
    files_removed: int = 0

    def add(self, other: JobReport) -> None:
        self.reminders += other.reminders
        self.breaches += other.breaches
        self.closed += other.closed
        self.waiting += other.waiting
        self.republished += other.republished
        self.report_days += other.report_days
        self.raw_mail_removed += other.raw_mail_removed
        self.files_removed += other.files_removed

    @property
    def actions(self) -> int:
        return self.reminders + self.breaches + self.closed + self.waiting


def run_due_jobs(
    writer: Writer, settings: ScheduleSettings, clock: Clock, limit: int = JOB_CHUNK
) -> JobReport:
    """Decide and apply up to ``limit`` SLA, ``limit`` auto-close and ``limit`` waiting
    actions."""
    now = clock.now()
    report = JobReport()
    for ticket_id in writer.due_sla_clocks(now, limit):
        for decide in (schedule.first_response, schedule.next_response):
            decision = decide(writer.locked_ticket(ticket_id), now, settings)
            if decision is not None:
                writer.apply(decision)
                _count(decision, report)
    cutoff = schedule.auto_close_cutoff(now, settings)
    for ticket in writer.due_auto_close(cutoff, limit):
        decision = schedule.auto_close(ticket, now, settings)
        if decision is not None:
            writer.apply(decision)
            report.closed += 1
    for ticket_id in writer.due_waiting(*waiting.cutoffs(now, settings), limit):
        decision = waiting.waiting(writer.locked_ticket(ticket_id), now, settings)
        if decision is not None:
            writer.apply(decision)
            report.waiting += 1
    return report


def _count(decision: Decision, report: JobReport) -> None:
    for effect in decision.effects:
        if isinstance(effect, MarkReminded):
            report.reminders += 1
        elif isinstance(effect, MarkBreached):
            report.breaches += 1


def run_jobs(
    store: Store,
    settings: ScheduleSettings,
    clock: Clock,
    refresh_pages: Callable[[Callable[[], bool]], int],
    stop: Callable[[], bool] = lambda: False,
    timezone: str | None = None,
    retention: RetentionPolicy | None = None,
) -> JobReport:
    """Whatever scheduled work is due, a chunk per transaction, then stale status pages,
    (given the service ``timezone``) the report days kept for the dashboard, and (given
    a ``retention`` policy) raw mail and files past their days."""
    report = JobReport()
    while not stop():
        with store.write(poller=True) as writer:
            chunk = run_due_jobs(writer, settings, clock, JOB_CHUNK)
        report.add(chunk)
        if chunk.actions == 0:
            break
    report.republished += refresh_pages(stop)
    while timezone is not None and not stop():
        with store.write(poller=True) as writer:
            kept = writer.refresh_reports(timezone)
        report.report_days += kept
        if kept < REFRESH_DAYS:
            break
    if retention is not None:
        _retain(store, retention, stop, report)
    return report


def _retain(
    store: Store, policy: RetentionPolicy, stop: Callable[[], bool], report: JobReport
) -> None:
    """Remove what ``policy`` no longer keeps, a chunk per transaction; logs what went."""
    while not stop():
        with store.write(poller=True) as writer:
            removed = writer.apply_retention(policy, JOB_CHUNK)
        report.raw_mail_removed += removed.raw_mail
        report.files_removed += removed.files
        if not removed:
            break
    if report.raw_mail_removed or report.files_removed:
        log.info(
            "retention removed %d raw mails and %d attachment files",
            report.raw_mail_removed,
            report.files_removed,
        )
