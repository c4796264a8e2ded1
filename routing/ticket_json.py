"""Tickets as JSON objects (the ``--json`` ticket object, with the staff API's extras for
the whole ticket): one shape for the staff JSON API and ``ticketd ticket show --json``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ticketd.routing.outcome_words import event_summary
from ticketd.routing.workspace import QueueRow, StaffEvent, StaffTicket


def iso(at: datetime | None) -> str | None:
    """ISO 8601 UTC with a ``Z``."""
    return at.strftime("%Y-%m-%dT%H:%M:%SZ") if at else None


def ticket_object(row: QueueRow) -> dict[str, Any]:
    """A ticket in a list: section 1's fields, the requester's name and the SLA clock."""
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
        "code": row.code,
    }


def event_object(event: StaffEvent, language: str = "en") -> dict[str, Any]:
    """One event: section 1's ``{type, at, actor, public, summary}`` (the summary in
    ``language``), its id, the full text of its message or note (null otherwise) and its
    attachments."""
    return {
        "id": event.id,
        "type": event.kind,
        "at": iso(event.at),
        "actor": event.actor,
        "public": event.public,
        "summary": event_summary(event.kind, event.summary, language),
        "text": event.text,
        "attachments": [
            {
                "id": a.id,
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "removed": a.removed,
            }
            for a in event.attachments
        ],
    }


def staff_ticket_object(ticket: StaffTicket, language: str = "en") -> dict[str, Any]:
    """The whole ticket: the list fields (``code``: its path or null) plus events (their
    summaries in ``language``), followers, ``version`` and the customer's history."""
    return {
        **ticket_object(ticket.row),
        "language": ticket.language,
        "minutes_worked": ticket.minutes_worked,
        "first_response_at": iso(ticket.first_response_at),
        "merged_into": ticket.merged_into,
        "version": ticket.version,
        "domain": ticket.domain or None,
        "followers": [{"email": f.email, "name": f.name} for f in ticket.followers],
        "events": [event_object(event, language) for event in ticket.events],
        "history": [ticket_object(row) for row in ticket.history],
    }
