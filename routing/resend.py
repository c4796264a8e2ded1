"""The status-link resend form's decision: mail the requester their link again when the
address typed is theirs, within the hourly cap on automatic mail."""

from __future__ import annotations

from datetime import datetime

from ticketd.routing.effects import Decision, Disposition, NoticeKind, QueueNotice
from ticketd.routing.limits import within_hourly_cap
from ticketd.routing.model import Hit, TicketView
from ticketd.routing.ports import Lookup


def resend_link(
    ticket: TicketView, email: str, lookup: Lookup, limit: int, now: datetime
) -> Decision:
    """Queue the signed status link to the ticket's requester (or record why not); an
    address other than the requester's changes nothing."""
    if email.strip().lower() != ticket.requester.email.lower():
        return Decision(Disposition.SCHEDULED, (Hit("resend-link-other-address"),), ())
    notice = QueueNotice(NoticeKind.STATUS_LINK, ticket.requester, ticket.ref, ticket.language)
    effect = within_hourly_cap(notice, lookup, limit, now)
    return Decision(Disposition.SCHEDULED, (Hit("resend-link", ticket.tracking),), (effect,))
