"""``routing.ports.Lookup`` on the database, within one open transaction.

The lookup only reads. Per-batch counters are kept in a ``BatchCache`` that the writer owns
and keeps current as it writes (``store.writer``); the lookup reads through it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, RowMapping, bindparam, func, select

from ticketd.mail.message import Address, InboundMessage
from ticketd.routing.assign import Availability
from ticketd.routing.codes import CodeTree
from ticketd.routing.dedupe import claim_fingerprint
from ticketd.routing.macros import Macro
from ticketd.routing.model import (
    OPEN_STATUSES,
    EventKind,
    Priority,
    Status,
    TicketRef,
    TicketView,
)
from ticketd.store import availability as availability_rows
from ticketd.store import codes as code_rows
from ticketd.store import macros as macro_rows
from ticketd.store.keyvalue import get_value
from ticketd.store.schema import claims, events, followers, inbound, messages, outbox, tickets

ROUND_ROBIN_KEY = "round_robin_last"
_REF_COLUMNS = (
    tickets.c.id,
    tickets.c.tracking,
    tickets.c.status,
    tickets.c.owner,
    tickets.c.requester_email,
    tickets.c.requester_name,
    tickets.c.subject,
    tickets.c.language,
    tickets.c.merged_into,
)
SEEN_CHUNK = 500
"""Message-IDs per query of ``SqlLookup.learn_seen``."""
MESSAGE_SEEN = select(messages.c.id).where(messages.c.message_id == bindparam("mid")).limit(1)
BY_TRACKING = select(*_REF_COLUMNS).where(tickets.c.tracking == bindparam("tracking"))
BY_MESSAGE_IDS = (
    select(*_REF_COLUMNS)
    .join(messages, messages.c.ticket_id == tickets.c.id)
    .where(messages.c.message_id.in_(bindparam("ids", expanding=True)))
    .order_by(messages.c.id.desc())
    .limit(1)
)
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
LOCKED_TICKET = (
    select(*_REF_COLUMNS).where(tickets.c.tracking == bindparam("tracking")).with_for_update()
)
VERSION = select(func.max(events.c.id)).where(events.c.ticket_id == bindparam("ticket_pk"))
NOTICE_QUEUED_AT = select(func.max(outbox.c.created_at)).where(
    outbox.c.message_id.in_(bindparam("ids", expanding=True)),
    outbox.c.recipient == bindparam("recipient"),
)
PUBLIC_SINCE = (
    select(messages.c.body)
    .join(events, events.c.message_ref == messages.c.id)
    .where(
        events.c.ticket_id == bindparam("ticket_pk"),
        events.c.type.in_([EventKind.CUSTOMER_MESSAGE.value, EventKind.REPLY_SENT.value]),
        events.c.at > bindparam("since"),
    )
    .order_by(events.c.id)
)
RAW_SEEN = (
    select(inbound.c.id)
    .where(inbound.c.raw_sha256 == bindparam("digest"), inbound.c.raw.is_not(None))
    .limit(1)
)


def ticket_ref(row: RowMapping) -> TicketRef:
    """The core's view of a ticket row."""
    status, requester = Status(row["status"]), row["requester_email"]
    return TicketRef(
        row["id"],
        row["tracking"],
        status,
        row["owner"],
        requester,
        row["subject"],
        row["language"],
        requester_name=row["requester_name"],
    )


def ticket_view(row: Mapping[Any, Any]) -> TicketView:
    """A whole ticket row as a typed view."""
    return TicketView(
        id=row["id"],
        tracking=row["tracking"],
        status=Status(row["status"]),
        priority=Priority(row["priority"]),
        type=row["type"],
        subject=row["subject"],
        requester=Address(row["requester_email"], row["requester_name"]),
        owner=row["owner"],
        language=row["language"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        first_response_at=row["first_response_at"],
        resolved_at=row["resolved_at"],
        last_customer_at=row["last_customer_at"],
        sla_reminded_at=row["sla_reminded_at"],
        sla_breached_at=row["sla_breached_at"],
        first_response_remind_at=row["first_response_remind_at"],
        first_response_due_at=row["first_response_due_at"],
        next_response_remind_at=row["next_response_remind_at"],
        next_response_due_at=row["next_response_due_at"],
        next_response_reminded_at=row["next_response_reminded_at"],
        next_response_breached_at=row["next_response_breached_at"],
        waiting_since=row["waiting_since"],
        waiting_reminded_at=row["waiting_reminded_at"],
        duplicate_count=row["duplicate_count"],
        minutes_worked=row["minutes_worked"],
        merged_into=row["merged_into"],
    )


@dataclass
class BatchCache:
    """What one transaction learnt and keeps current: the open load per owner, the
    round-robin pointer, Message-IDs known to be stored and the engineers' availability.
    Only the writer changes it."""

    load: Counter[str] | None = None
    last_assigned: str | None = None
    last_loaded: bool = False
    seen: dict[str, bool] = field(default_factory=dict)
    availability: Mapping[str, Availability] | None = None
    unclaimed: set[str] = field(default_factory=set)
    """Claim fingerprints known to have no claim at all (the writer drops one it claims)."""
    automatic: dict[str, list[datetime]] = field(default_factory=dict)
    """When automatic mail went to each of a batch's senders since ``automatic_since``
    (the writer adds what it queues)."""
    automatic_since: datetime | None = None

    def clear(self) -> None:
        self.load, self.last_loaded, self.availability = None, False, None
        self.seen.clear()
        self.unclaimed.clear()
        self.automatic, self.automatic_since = {}, None


class SqlLookup:
    """Answers the core's questions on ``connection``, reading through ``cache``."""

    def __init__(self, connection: Connection, cache: BatchCache | None = None) -> None:
        self.connection = connection
        self.cache = cache if cache is not None else BatchCache()

    def message_seen(self, message_id: str) -> bool:
        seen = self.cache.seen
        known = seen.get(message_id)
        if known is None:
            found = self.connection.execute(MESSAGE_SEEN, {"mid": message_id}).first()
            known = seen[message_id] = found is not None
        return known

    def learn_seen(self, message_ids: Iterable[str]) -> None:
        """Find out in one query per ``SEEN_CHUNK`` which of these Message-IDs are stored
        (a batch's own, before its messages are routed one by one)."""
        seen = self.cache.seen
        wanted = sorted({m for m in message_ids if m and m not in seen})
        for at in range(0, len(wanted), SEEN_CHUNK):
            chunk = wanted[at : at + SEEN_CHUNK]
            query = select(messages.c.message_id).where(messages.c.message_id.in_(chunk))
            stored = set(self.connection.execute(query).scalars())
            seen.update((m, m in stored) for m in chunk)

    def learn_batch(self, msgs: Sequence[InboundMessage], automatic_since: datetime) -> None:
        """Ask once for a whole batch (before its messages are routed one by one) which
        Message-IDs are stored, which claims were never made and when automatic mail went
        to its senders since ``automatic_since`` (the start of the hourly cap's window)."""
        cache = self.cache
        self.learn_seen(msg.message_id for msg in msgs)
        fingerprints = sorted({claim_fingerprint(msg) for msg in msgs})
        cache.unclaimed.update(self._absent(claims.c.fingerprint, fingerprints))
        senders = sorted({msg.from_addr.email for msg in msgs if msg.from_addr})
        sent: dict[str, list[datetime]] = {sender: [] for sender in senders}
        for at in range(0, len(senders), SEEN_CHUNK):
            query = select(outbox.c.recipient, outbox.c.created_at).where(
                outbox.c.recipient.in_(senders[at : at + SEEN_CHUNK]),
                outbox.c.automatic.is_(True),
                outbox.c.created_at >= automatic_since,
            )
            for recipient, created_at in self.connection.execute(query):
                sent[recipient].append(created_at)
        cache.automatic, cache.automatic_since = sent, automatic_since

    def _absent(
        self, column: ColumnElement[str], values: Sequence[str], *where: ColumnElement[bool]
    ) -> set[str]:
        """Which of ``values`` no row has in ``column`` (under ``where``), one query per
        ``SEEN_CHUNK``."""
        absent = set(values)
        for at in range(0, len(values), SEEN_CHUNK):
            chunk = values[at : at + SEEN_CHUNK]
            query = select(column).where(column.in_(chunk), *where).distinct()
            absent.difference_update(self.connection.execute(query).scalars())
        return absent

    def ticket_by_message_ids(self, message_ids: Sequence[str]) -> TicketRef | None:
        ids = [m for m in message_ids if m][:50]
        if not ids:
            return None
        row = self.connection.execute(BY_MESSAGE_IDS, {"ids": ids}).mappings().first()
        return self._resolve(row) if row else None

    def ticket_by_tracking(self, tracking: str) -> TicketRef | None:
        row = self.connection.execute(BY_TRACKING, {"tracking": tracking}).mappings().first()
        return self._resolve(row) if row else None

    def recent_claim(self, fingerprint: str, since: datetime) -> TicketRef | None:
        if fingerprint in self.cache.unclaimed:
            return None
        params = {"fingerprint": fingerprint, "since": since}
        row = self.connection.execute(RECENT_CLAIM, params).mappings().first()
        return ticket_ref(row) if row else None

    def open_load(self) -> Mapping[str, int]:
        cache = self.cache
        if cache.load is None:
            query = (
                select(tickets.c.owner, func.count())
                .where(tickets.c.status.in_([s.value for s in OPEN_STATUSES]))
                .where(tickets.c.owner.is_not(None))
                .group_by(tickets.c.owner)
            )
            cache.load = Counter({owner: n for owner, n in self.connection.execute(query)})
        return cache.load

    def last_auto_assigned(self) -> str | None:
        cache = self.cache
        if not cache.last_loaded:
            cache.last_assigned = get_value(self.connection, ROUND_ROBIN_KEY)
            cache.last_loaded = True
        return cache.last_assigned

    def automatic_mails_since(self, recipient: str, since: datetime) -> int:
        cache = self.cache
        known = cache.automatic.get(recipient)
        if (
            known is not None
            and cache.automatic_since is not None
            and since >= cache.automatic_since
        ):
            return sum(1 for at in known if at >= since)
        params = {"recipient": recipient, "since": since}
        return int(self.connection.execute(AUTOMATIC_SINCE, params).scalar() or 0)

    def availability(self) -> Mapping[str, Availability]:
        cache = self.cache
        if cache.availability is None:
            cache.availability = availability_rows.stored(self.connection)
        return cache.availability

    def macros(self) -> Sequence[Macro]:
        return macro_rows.in_use(self.connection)

    def codes(self) -> CodeTree:
        return code_rows.tree(self.connection)

    def notice_queued_at(self, message_ids: Sequence[str], recipient: str) -> datetime | None:
        ids = [m for m in message_ids if m][:50]
        if not ids:
            return None
        params = {"ids": ids, "recipient": recipient}
        found: datetime | None = self.connection.execute(NOTICE_QUEUED_AT, params).scalar()
        return found

    def public_since(self, ticket_id: int, since: datetime) -> tuple[str, ...]:
        params = {"ticket_pk": ticket_id, "since": since}
        return tuple(self.connection.execute(PUBLIC_SINCE, params).scalars())

    def raw_seen(self, raw_sha256: str) -> int | None:
        """The inbound row that already holds exactly these bytes, if any."""
        return self.connection.execute(RAW_SEEN, {"digest": raw_sha256}).scalar()

    def ticket_to_act_on(self, tracking: str) -> TicketRef | None:
        """The ticket ``tracking`` itself (a merged one too), its row locked until the
        transaction ends (``FOR UPDATE`` on PostgreSQL; a SQLite writer holds the write
        lock from ``BEGIN IMMEDIATE``), so its version stays what ``version`` reads."""
        row = self.connection.execute(LOCKED_TICKET, {"tracking": tracking}).mappings().first()
        return self._with_followers(ticket_ref(row)) if row else None

    def version(self, ticket_id: int) -> int:
        """The ticket's version: the id of its newest event (0 without any)."""
        return int(self.connection.execute(VERSION, {"ticket_pk": ticket_id}).scalar() or 0)

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
        return self._with_followers(ticket_ref(row))

    def _with_followers(self, ref: TicketRef) -> TicketRef:
        query = select(followers.c.email).where(followers.c.ticket_id == ref.id)
        found = tuple(self.connection.execute(query).scalars())
        return replace(ref, followers=found) if found else ref
