"""In-memory stand-ins for the core's ports, for table tests of routing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count

from ticketd.mail.message import Address, InboundMessage
from ticketd.routing.assign import Availability
from ticketd.routing.codes import CodeTree
from ticketd.routing.macros import Macro
from ticketd.routing.model import EngineerInfo, Role, Status, TicketRef
from ticketd.routing.pipeline import RoutingContext

TEAM = (
    EngineerInfo("alice@example.com", "Alice", Role.AGENT),
    EngineerInfo("bob@example.com", "Bob", Role.MANAGER),
)
CTX = RoutingContext(
    support_address="support@example.com",
    tracking_prefix="SUP",
    default_language="ko",
    engineers=TEAM,
)


class FrozenClock:
    def __init__(self, at: datetime | None = None) -> None:
        self.at = at or datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


class CountingRng:
    """Deterministic bytes: different on every call, so tracking numbers differ."""

    def __init__(self) -> None:
        self.calls = count(1)

    def token_bytes(self, n: int) -> bytes:
        seed = next(self.calls)
        return bytes((seed * 37 + i * 11) % 256 for i in range(n))


@dataclass
class FakeLookup:
    seen: set[str] = field(default_factory=set)
    by_message_id: dict[str, TicketRef] = field(default_factory=dict)
    by_tracking: dict[str, TicketRef] = field(default_factory=dict)
    claims: dict[str, tuple[TicketRef, datetime]] = field(default_factory=dict)
    load: Counter[str] = field(default_factory=Counter)
    last: str | None = None
    automatic_sent: int = 0
    away: dict[str, Availability] = field(default_factory=dict)
    saved_replies: list[Macro] = field(default_factory=list)
    code_tree: CodeTree = field(default_factory=CodeTree)

    def message_seen(self, message_id: str) -> bool:
        return message_id in self.seen

    def ticket_by_message_ids(self, message_ids: Sequence[str]) -> TicketRef | None:
        return next((self.by_message_id[m] for m in message_ids if m in self.by_message_id), None)

    def ticket_by_tracking(self, tracking: str) -> TicketRef | None:
        return self.by_tracking.get(tracking)

    def recent_claim(self, fingerprint: str, since: datetime) -> TicketRef | None:
        found = self.claims.get(fingerprint)
        return found[0] if found and found[1] >= since else None

    def open_load(self) -> Mapping[str, int]:
        return self.load

    def last_auto_assigned(self) -> str | None:
        return self.last

    def automatic_mails_since(self, recipient: str, since: datetime) -> int:
        return self.automatic_sent

    def availability(self) -> Mapping[str, Availability]:
        return self.away

    def macros(self) -> Sequence[Macro]:
        return self.saved_replies

    def codes(self) -> CodeTree:
        return self.code_tree

    def notice_queued_at(self, message_ids: Sequence[str], recipient: str) -> datetime | None:
        return None

    def public_since(self, ticket_id: int, since: datetime) -> tuple[str, ...]:
        return ()


def ticket(tracking: str = "SUP-0000-0000", status: Status = Status.OPEN) -> TicketRef:
    return TicketRef(1, tracking, status, "alice@example.com", "kim@acme.co.kr", "Login", "ko")


def message(**fields: object) -> InboundMessage:
    values: dict[str, object] = {
        "message_id": "m1@acme.co.kr",
        "from_addr": Address("kim@acme.co.kr", "Kim"),
        "subject": "Cannot log in",
        "text": "The login page says error 500.",
        "new_text": "The login page says error 500.",
    }
    values.update(fields)
    return InboundMessage(**values)  # type: ignore[arg-type]
