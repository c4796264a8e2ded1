"""``routing.ports.Lookup`` on the database, within one open transaction."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import Connection, RowMapping, bindparam, func, select

from ticketd.routing.model import OPEN_STATUSES, Status, TicketRef
from ticketd.store.keyvalue import get_value
from ticketd.store.schema import claims, inbound, messages, outbox, tickets

ROUND_ROBIN_KEY = "round_robin_last"
_REF_COLUMNS = (
    tickets.c.id,
    tickets.c.tracking,
    tickets.c.status,
    tickets.c.owner,
    tickets.c.requester_email,
    tickets.c.subject,
    tickets.c.language,
    tickets.c.merged_into,
)
MESSAGE_SEEN = select(messages.c.id).where(messages.c.message_id == bindparam("mid")).limit(1)
BY_TRACKING = select(*_REF_COLUMNS).where(tickets.c.tracking == bindparam("tracking"))
RECENT_CLAIM = (
    select(*_REF_COLUMNS)
    .join(claims, claims.c.ticket_id == tickets.c.id)
    .where(claims.c.fingerprint == bindparam("fingerprint"), claims.c.at >= bindparam("since"))
)
AUTOMATIC_SINCE = select(func.count()).where(
    outbox.c.recipient == bindparam("recipient"),
    outbox.c.automatic.is_(True),
    outbox.c.created_at >= bindparam("since"),
)
RAW_SEEN = (
    select(inbound.c.id)
    .where(inbound.c.raw_sha256 == bindparam("digest"), inbound.c.raw.is_not(None))
    .limit(1)
)


def ticket_ref(row: RowMapping) -> TicketRef:
    """The core's view of a ticket row."""
    return TicketRef(
        id=row["id"],
        tracking=row["tracking"],
        status=Status(row["status"]),
        owner=row["owner"],
        requester=row["requester_email"],
        subject=row["subject"],
        language=row["language"],
    )


class SqlLookup:
    """Answers the core's questions; caches per-batch counters that ``apply`` keeps current."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._load: Counter[str] | None = None
        self._last: str | None = None
        self._last_loaded = False
        self._seen: dict[str, bool] = {}

    def message_seen(self, message_id: str) -> bool:
        known = self._seen.get(message_id)
        if known is None:
            found = self.connection.execute(MESSAGE_SEEN, {"mid": message_id}).first()
            known = self._seen[message_id] = found is not None
        return known

    def note_message(self, message_id: str) -> None:
        """A message row was just written in this transaction."""
        self._seen[message_id] = True

    def ticket_by_message_ids(self, message_ids: Sequence[str]) -> TicketRef | None:
        ids = [m for m in message_ids if m][:50]
        if not ids:
            return None
        query = (
            select(*_REF_COLUMNS)
            .join(messages, messages.c.ticket_id == tickets.c.id)
            .where(messages.c.message_id.in_(ids))
            .order_by(messages.c.id.desc())
            .limit(1)
        )
        row = self.connection.execute(query).mappings().first()
        return self._resolve(row) if row else None

    def ticket_by_tracking(self, tracking: str) -> TicketRef | None:
        row = self.connection.execute(BY_TRACKING, {"tracking": tracking}).mappings().first()
        return self._resolve(row) if row else None

    def recent_claim(self, fingerprint: str, since: datetime) -> TicketRef | None:
        params = {"fingerprint": fingerprint, "since": since}
        row = self.connection.execute(RECENT_CLAIM, params).mappings().first()
        return ticket_ref(row) if row else None

    def open_load(self) -> Mapping[str, int]:
        if self._load is None:
            query = (
                select(tickets.c.owner, func.count())
                .where(tickets.c.status.in_([s.value for s in OPEN_STATUSES]))
                .where(tickets.c.owner.is_not(None))
                .group_by(tickets.c.owner)
            )
            self._load = Counter({owner: n for owner, n in self.connection.execute(query)})
        return self._load

    def last_auto_assigned(self) -> str | None:
        if not self._last_loaded:
            self._last = get_value(self.connection, ROUND_ROBIN_KEY)
            self._last_loaded = True
        return self._last

    def automatic_mails_since(self, recipient: str, since: datetime) -> int:
        params = {"recipient": recipient, "since": since}
        return int(self.connection.execute(AUTOMATIC_SINCE, params).scalar() or 0)

    def raw_seen(self, raw_sha256: str) -> int | None:
        """The inbound row that already holds exactly these bytes, if any."""
        return self.connection.execute(RAW_SEEN, {"digest": raw_sha256}).scalar()

    def note_assignment(self, previous: str | None, owner: str | None, automatic: bool) -> None:
        """Keep the cached load (and round-robin pointer) in step with a new assignment."""
        load = self.open_load()
        if previous:
            load[previous] -= 1
        if owner:
            load[owner] += 1
        if automatic and owner:
            self._last, self._last_loaded = owner, True

    def forget_caches(self) -> None:
        """Drop cached counters (after a rolled-back savepoint they may be wrong)."""
        self._load, self._last_loaded = None, False
        self._seen.clear()

    def note_closed(self, owner: str | None) -> None:
        if owner and self._load is not None:
            self._load[owner] -= 1

    def note_reopened(self, owner: str | None) -> None:
        if owner and self._load is not None:
            self._load[owner] += 1

    def _resolve(self, row: RowMapping) -> TicketRef:
        """A merged ticket's mail belongs to the ticket it was merged into."""
        for _ in range(10):
            if row["merged_into"] is None:
                break
            query = select(*_REF_COLUMNS).where(tickets.c.id == row["merged_into"])
            target = self.connection.execute(query).mappings().first()
            if target is None:
                break
            row = target
        return ticket_ref(row)
