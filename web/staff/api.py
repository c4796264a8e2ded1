"""The workspace's JSON: a ``QueueRow`` as the ticket object of CONTRACT section 1."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ticketd.routing.workspace import QueueRow


def iso(at: datetime | None) -> str | None:
    """ISO 8601 in UTC, to the second."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if at else None


def ticket_object(row: QueueRow) -> dict[str, Any]:
    """The ticket object of a list: section 1's fields, the type and the SLA clock."""
    return {
        "tracking": row.tracking,
        "status": row.status.value,
        "subject": row.subject,
        "requester": row.requester,
        "requester_name": row.requester_name,
        "owner": row.owner,
        "priority": row.priority.value,
        "type": row.type,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "duplicate_count": row.duplicate_count,
        "sla_due": iso(row.sla_due),
        "sla_state": row.sla_state.value,
    }
