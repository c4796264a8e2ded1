"""What the web layer needs from the rest of ticketd (implemented on the database)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from ticketd.routing.csat import Rating, RatingState
from ticketd.routing.views import AttachmentFile, PublicAttachment, TicketPage, TimelineEntry

__all__ = [
    "AttachmentFile",
    "AttachmentReader",
    "HealthProbe",
    "LinkMailer",
    "MetricsSource",
    "PublicAttachment",
    "Ratings",
    "TicketPage",
    "TicketReader",
    "TimelineEntry",
    "WebSettings",
]


class TicketReader(Protocol):
    def ticket_page(self, tracking: str) -> TicketPage | None:
        """The public view of a ticket, or None."""

    def published_page(self, tracking: str, language: str | None) -> bytes | None:
        """The status page (without conversation, UTF-8 HTML) published for the ticket's
        current state in ``language`` (None: the ticket's own) by these templates and
        settings, or None."""


class AttachmentReader(Protocol):
    def attachments(self, tracking: str) -> tuple[PublicAttachment, ...]:
        """The files attached to the ticket's public messages, oldest first."""

    def attachment(self, tracking: str, attachment_id: int) -> AttachmentFile | None:
        """One of those files, or None (unknown, of another ticket, of an internal message)."""


class LinkMailer(Protocol):
    def resend_link(self, tracking: str, email: str) -> None:
        """Queue the signed status link to the ticket's requester when ``email`` is theirs.
        Every well-formed request comes here, matching or not: the decision is taken
        behind the port, after the answer has gone out."""


class Ratings(Protocol):
    def rating(self, tracking: str) -> RatingState | None:
        """The ticket's current rating state, or None for an unknown number."""

    def rate(self, tracking: str, rating: Rating, comment: str) -> RatingState | None:
        """Record the customer's rating when the ticket takes one (the core decides);
        the state after it, or None for an unknown number."""


class HealthProbe(Protocol):
    def health(self) -> Mapping[str, object]:
        """``{"database": "ok", ...}`` and whatever else operators should see."""


class MetricsSource(Protocol):
    def counters(self) -> Mapping[str, float]:
        """Current values of ticketd's counters and gauges, by name."""


@dataclass(frozen=True)
class WebSettings:
    service_name: str
    language: str
    timezone: str
    secret_key: str = field(repr=False)
    tracking_prefix: str
    base_url: str
    show_owner: str = "person"
    team_name: str = ""
    rate_limit_per_minute: int = 60
    trusted_proxies: tuple[str, ...] = ()
    support_address: str = ""
    """Where customers write (shown in the pages' footer)."""
