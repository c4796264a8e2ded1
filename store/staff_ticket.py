"""The whole ticket for staff: every event with the full text of its message or note,
every attachment (internal ones included), followers, and the customer's history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, select

from ticketd.routing.model import EngineerInfo, EventKind
from ticketd.routing.workspace import (
    HISTORY_LIMIT,
    Follower,
    QueueRow,
    StaffAttachment,
    StaffEvent,
    StaffTicket,
    company_domain,
)
from ticketd.store.availability import away_owners
from ticketd.store.schema import attachments, events, followers, messages, tickets
from ticketd.store.staff_queue import ROW_COLUMNS, queue_row

merged = tickets.alias("merged")
TICKET = (
    select(
        *ROW_COLUMNS,
        tickets.c.language,
        tickets.c.minutes_worked,
        merged.c.tracking.label("merged_tracking"),
    )
    .select_from(tickets.outerjoin(merged, merged.c.id == tickets.c.merged_into))
    .where(tickets.c.tracking == bindparam("tracking"))
)
EVENTS = (
    select(events, messages.c.body)
    .select_from(events.outerjoin(messages, messages.c.id == events.c.message_ref))
    .where(events.c.ticket_id == bindparam("ticket_pk"))
    .order_by(events.c.id)
)
FILES = (
    select(
        attachments.c.id,
        attachments.c.message_ref,
        attachments.c.filename,
        attachments.c.content_type,
        attachments.c.size,
        attachments.c.removed_at,
    )
    .where(attachments.c.ticket_id == bindparam("ticket_pk"))
    .order_by(attachments.c.id)
)
FOLLOWERS = (
    select(followers.c.email, followers.c.name)
    .where(followers.c.ticket_id == bindparam("ticket_pk"))
    .order_by(followers.c.email)
)


def staff_ticket(
    connection: Connection,
    tracking: str,
    now: datetime,
    engineers: Sequence[EngineerInfo] = (),
) -> StaffTicket | None:
    """The ticket ``tracking`` (any status, merged ones included), or None; at risk when
    its owner is one of ``engineers`` and away."""
    row = connection.execute(TICKET, {"tracking": tracking}).first()
    if row is None:
        return None
    key = {"ticket_pk": row.id}
    files: dict[int, list[StaffAttachment]] = {}
    for file in connection.execute(FILES, key):
        files.setdefault(file.message_ref, []).append(
            StaffAttachment(
                file.id,
                file.filename,
                file.content_type,
                file.size,
                removed=file.removed_at is not None,
            )
        )
    rows = list(connection.execute(EVENTS, key))
    timeline = tuple(_event(event, files) for event in rows)
    suggested = [e.value for e in rows if e.type == EventKind.CODE_SUGGESTED.value]
    domain = company_domain(row.requester_email)
    return StaffTicket(
        row=queue_row(row, now, away_owners(connection, engineers, now)),
        language=row.language,
        version=timeline[-1].id if timeline else 0,
        events=timeline,
        followers=tuple(Follower(f.email, f.name) for f in connection.execute(FOLLOWERS, key)),
        minutes_worked=row.minutes_worked,
        first_response_at=row.first_response_at,
        merged_into=row.merged_tracking,
        history=_history(connection, row.id, row.requester_email, domain, now),
        domain=domain or "",
        code_suggestion=suggested[-1] if suggested else None,
    )


def _event(row: Row[Any], files: dict[int, list[StaffAttachment]]) -> StaffEvent:
    ref = row.message_ref
    return StaffEvent(
        id=row.id,
        kind=row.type,
        at=row.at,
        actor=row.actor,
        public=row.public,
        summary=row.summary,
        text=row.body if ref is not None else None,
        attachments=tuple(files.get(ref, ())) if ref is not None else (),
        value=row.value,
    )


def _history(
    connection: Connection, ticket_id: int, requester: str, domain: str | None, now: datetime
) -> tuple[QueueRow, ...]:
    """The requester's other tickets, or (for a company address) every other ticket of the
    domain, which holds the requester's own; newest first."""
    same = (
        tickets.c.requester_domain == domain
        if domain is not None
        else tickets.c.requester_email == requester
    )
    query = (
        select(*ROW_COLUMNS)
        .where(same, tickets.c.id != ticket_id)
        .order_by(tickets.c.created_at.desc(), tickets.c.id.desc())
        .limit(HISTORY_LIMIT)
    )
    return tuple(queue_row(row, now) for row in connection.execute(query))
