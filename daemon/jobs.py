"""Scheduled work: first-response SLA reminders and breaches, auto-close.

Each job marks what it did on the ticket row in the same transaction as the mail it
queues, so repeated runs never repeat a reminder, a breach notice or a closing mail.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Connection, and_, or_, update

from ticketd.mail.message import Address
from ticketd.routing.effects import NoticeKind, QueueNotice
from ticketd.routing.model import OPEN_STATUSES, EngineerInfo, Role, Status
from ticketd.routing.ports import Clock
from ticketd.routing.sla import REMINDER_FRACTION, SlaStep, auto_close_due, first_response_step
from ticketd.store.apply import SYSTEM_ACTOR, Applier, BuildNotice, Publish
from ticketd.store.lookup import SqlLookup
from ticketd.store.schema import tickets

log = logging.getLogger(__name__)

JOB_CHUNK = 200


@dataclass(frozen=True)
class JobSettings:
    first_response_hours: float
    auto_close_days: float
    engineers: tuple[EngineerInfo, ...]


@dataclass
class JobReport:
    reminders: int = 0
    breaches: int = 0
    closed: int = 0
    republished: int = 0

    def add(self, other: JobReport) -> None:
        self.reminders += other.reminders
        self.breaches += other.breaches
        self.closed += other.closed
        self.republished += other.republished

    @property
    def actions(self) -> int:
        return self.reminders + self.breaches + self.closed


def run_due_jobs(
    connection: Connection,
    settings: JobSettings,
    build_notice: BuildNotice,
    clock: Clock,
    limit: int = JOB_CHUNK,
    publish: Publish | None = None,
) -> JobReport:
    """Run up to ``limit`` due SLA and ``limit`` auto-close actions (in the caller's
    transaction). Every ticket selected gets an action, so calling again makes progress."""
    lookup = SqlLookup(connection)
    applier = Applier(connection, lookup, build_notice, clock.now, publish=publish)
    report = JobReport()
    _first_response(connection, applier, settings, clock, report, limit)
    _auto_close(connection, applier, settings, clock, report, limit)
    applier.finish()
    return report


def _engineer(settings: JobSettings, email: str | None) -> Address | None:
    found = next((e for e in settings.engineers if e.email == email), None)
    return Address(found.email, found.name) if found else None


def _first_response(
    connection: Connection,
    applier: Applier,
    settings: JobSettings,
    clock: Clock,
    report: JobReport,
    limit: int,
) -> None:
    now = clock.now()
    hours = settings.first_response_hours
    query = (
        tickets.select()
        .where(
            tickets.c.status.in_([s.value for s in OPEN_STATUSES]),
            tickets.c.first_response_at.is_(None),
            tickets.c.sla_breached_at.is_(None),
            tickets.c.merged_into.is_(None),
            or_(
                and_(
                    tickets.c.sla_reminded_at.is_(None),
                    tickets.c.created_at <= now - timedelta(hours=hours * REMINDER_FRACTION),
                ),
                tickets.c.created_at <= now - timedelta(hours=hours),
            ),
        )
        .order_by(tickets.c.id)
        .limit(limit)
    )
    for row in connection.execute(query).all():
        step = first_response_step(
            row.created_at,
            now,
            settings.first_response_hours,
            answered=False,
            reminded=row.sla_reminded_at is not None,
            breached=False,
        )
        owner = _engineer(settings, row.owner)
        if step == SlaStep.REMIND:
            connection.execute(
                update(tickets).where(tickets.c.id == row.id).values(sla_reminded_at=now)
            )
            if owner:
                notice = QueueNotice(NoticeKind.SLA_REMINDER, owner)
                applier.queue_notice(notice, row.id, None)
            report.reminders += 1
        elif step == SlaStep.BREACH:
            connection.execute(
                update(tickets)
                .where(tickets.c.id == row.id)
                .values(sla_breached_at=now, sla_reminded_at=row.sla_reminded_at or now)
            )
            hours = settings.first_response_hours
            applier.event(
                row.id,
                "sla_breached",
                f"no first response within {hours:g} h",
                SYSTEM_ACTOR,
                public=False,
            )
            recipients = {owner} if owner else set()
            recipients |= {
                Address(e.email, e.name) for e in settings.engineers if e.role == Role.MANAGER
            }
            for recipient in sorted(recipients, key=lambda a: a.email):
                notice = QueueNotice(NoticeKind.SLA_BREACHED, recipient)
                applier.queue_notice(notice, row.id, None)
            report.breaches += 1


def _auto_close(
    connection: Connection,
    applier: Applier,
    settings: JobSettings,
    clock: Clock,
    report: JobReport,
    limit: int,
) -> None:
    now = clock.now()
    cutoff = now - timedelta(days=settings.auto_close_days)
    query = (
        tickets.select()
        .where(
            tickets.c.status == Status.RESOLVED.value,
            tickets.c.resolved_at <= cutoff,
            or_(tickets.c.last_customer_at.is_(None), tickets.c.last_customer_at <= cutoff),
        )
        .order_by(tickets.c.id)
        .limit(limit)
    )
    for row in connection.execute(query).all():
        if not auto_close_due(row.resolved_at, row.last_customer_at, now, settings.auto_close_days):
            continue
        days = settings.auto_close_days
        applier.change_status(row.id, Status.CLOSED, f"no reply for {days:g} days", SYSTEM_ACTOR)
        customer = Address(row.requester_email, row.requester_name)
        applier.queue_notice(
            QueueNotice(NoticeKind.AUTO_CLOSED, customer, row.language), row.id, None
        )
        report.closed += 1
