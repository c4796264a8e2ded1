"""What the core asks of the outside world: read-only lookups, a clock and randomness."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from ticketd.routing.assign import Availability
from ticketd.routing.codes import CodeTree
from ticketd.routing.macros import Macro
from ticketd.routing.model import TicketRef


class Lookup(Protocol):
    """Read-only questions the routing rules ask about stored state."""

    def message_seen(self, message_id: str) -> bool:
        """True when a message with this Message-ID was already processed."""

    def ticket_by_message_ids(self, message_ids: Sequence[str]) -> TicketRef | None:
        """The ticket that one of these Message-IDs (ours or the customer's) belongs to."""

    def ticket_by_tracking(self, tracking: str) -> TicketRef | None:
        """The ticket with this canonical tracking number."""

    def recent_claim(self, fingerprint: str, since: datetime) -> TicketRef | None:
        """The ticket opened by the same claim (fingerprint) at or after ``since``."""

    def open_load(self) -> Mapping[str, int]:
        """Open tickets per owner email."""

    def last_auto_assigned(self) -> str | None:
        """The engineer who got the last automatic assignment (round-robin pointer)."""

    def automatic_mails_since(self, recipient: str, since: datetime) -> int:
        """How many automatic mails were queued to ``recipient`` at or after ``since``."""

    def availability(self) -> Mapping[str, Availability]:
        """The availability engineers set in the workspace, by email."""

    def macros(self) -> Sequence[Macro]:
        """The saved replies in use (not retired)."""

    def codes(self) -> CodeTree:
        """The classification code tree, retired codes included."""

    def notice_queued_at(self, message_ids: Sequence[str], recipient: str) -> datetime | None:
        """When ticketd queued the newest mail to ``recipient`` that has one of these
        Message-IDs (None: none of them is a mail of ours to them)."""

    def public_since(self, ticket_id: int, since: datetime) -> tuple[str, ...]:
        """The texts of the ticket's customer messages and public replies recorded after
        ``since``, oldest first."""


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""


class Rng(Protocol):
    def token_bytes(self, n: int) -> bytes:
        """``n`` bytes from a cryptographically secure source."""
