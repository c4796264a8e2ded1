"""Read models: tickets as the contract's JSON with events, the quarantine, and the
tickets scheduled work may be due on."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, and_, or_, select

from ticketd.routing.model import OPEN_STATUSES, REVIEWABLE, Status, TicketView
from ticketd.routing.ticket_json import iso
from ticketd.store.lookup import ticket_view
from ticketd.store.schema import inbound, tickets


def ticket_dict(row: RowMapping) -> dict[str, Any]:
    """A ticket as the contract's JSON object."""
    return {
        "tracking": row["tracking"],
        "status": row["status"],
        "subject": row["subject"],
        "requester": row["requester_email"],
        "owner": row["owner"],
        "priority": row["priority"],
        "type": row["type"],
        "language": row["language"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
        "duplicate_count": row["duplicate_count"],
        "minutes_worked": row["minutes_worked"],
    }


def find_ticket(connection: Connection, tracking: str) -> RowMapping | None:
    return (
        connection.execute(select(tickets).where(tickets.c.tracking == tracking)).mappings().first()
    )


def list_tickets(
    connection: Connection, *, status: str | None = None, owner: str | None = None
) -> Sequence[RowMapping]:
    query = select(tickets).order_by(tickets.c.id)
    if status:
        query = query.where(tickets.c.status == status)
    if owner:
        query = query.where(tickets.c.owner == owner.lower())
    return connection.execute(query).mappings().all()


def quarantine(connection: Connection) -> Sequence[RowMapping]:
    query = (
        select(
            inbound.c.id,
            inbound.c.state,
            inbound.c.received_at,
            inbound.c.message_id,
            inbound.c.envelope_from,
            inbound.c.attempts,
            inbound.c.reason,
            inbound.c.size,
        )
        .where(inbound.c.state.in_(REVIEWABLE))
        .order_by(inbound.c.id)
    )
    return connection.execute(query).mappings().all()


def quarantined(connection: Connection, inbound_id: int) -> RowMapping | None:
    query = select(inbound).where(inbound.c.id == inbound_id, inbound.c.state.in_(REVIEWABLE))
    return connection.execute(query).mappings().first()


def due_sla_clocks(connection: Connection, now: datetime, limit: int) -> list[int]:
    """Open tickets with a first-response or next-reply reminder or breach due at ``now``
    and not yet recorded (ids, oldest first)."""
    first = and_(
        tickets.c.first_response_at.is_(None),
        tickets.c.sla_breached_at.is_(None),
        or_(
            and_(
                tickets.c.sla_reminded_at.is_(None),
                tickets.c.first_response_remind_at <= now,
            ),
            tickets.c.first_response_due_at <= now,
        ),
    )
    following = and_(
        tickets.c.next_response_breached_at.is_(None),
        or_(
            and_(
                tickets.c.next_response_reminded_at.is_(None),
                tickets.c.next_response_remind_at <= now,
            ),
            tickets.c.next_response_due_at <= now,
        ),
    )
    query = (
        select(tickets.c.id)
        .where(
            tickets.c.status.in_([s.value for s in OPEN_STATUSES]),
            tickets.c.merged_into.is_(None),
            or_(first, following),
        )
        .order_by(tickets.c.id)
        .limit(limit)
    )
    return list(connection.execute(query).scalars())


def due_auto_close(connection: Connection, cutoff: datetime, limit: int) -> list[TicketView]:
    """Resolved tickets resolved, and without a customer message, since before ``cutoff``."""
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
    return [ticket_view(row) for row in connection.execute(query).mappings()]


def ticket_by_tracking(connection: Connection, tracking: str) -> TicketView | None:
    row = find_ticket(connection, tracking)
    return ticket_view(row) if row else None


def due_waiting(
    connection: Connection,
    remind_before: datetime | None,
    close_before: datetime | None,
    limit: int,
) -> list[int]:
    """Waiting tickets whose reminder (spell started before ``remind_before``) or whose
    resolution (reminded before ``close_before``) is due (ids, oldest first)."""
    due = []
    if remind_before is not None:
        due.append(
            and_(tickets.c.waiting_reminded_at.is_(None), tickets.c.waiting_since <= remind_before)
        )
    if close_before is not None:
        due.append(tickets.c.waiting_reminded_at <= close_before)
    if not due:
        return []
    query = (
        select(tickets.c.id)
        .where(
            tickets.c.status == Status.WAITING.value,
            tickets.c.merged_into.is_(None),
            tickets.c.waiting_since.is_not(None),
            or_(*due),
        )
        .order_by(tickets.c.id)
        .limit(limit)
    )
    return list(connection.execute(query).scalars())
