"""The only writer of ticket state: turns a routing ``Decision`` into rows, in the caller's
transaction (ticket, events, messages, attachments, outbox), so all of it commits or none.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, bindparam, delete, insert, select, update

from ticketd.mail.message import InboundMessage, OutgoingMessage
from ticketd.routing.effects import (
    ENGINEER_NOTICES,
    HUMAN_NOTICES,
    AddNote,
    AddTime,
    AppendMessage,
    AssignOwner,
    ChangeStatus,
    Decision,
    Effect,
    Hold,
    MergeInto,
    OpenTicket,
    PublicReply,
    QueueNotice,
    RecordBounce,
    RecordDuplicate,
    RejectCommand,
    SetAttribute,
    Suppressed,
)
from ticketd.routing.model import OPEN_STATUSES, Status
from ticketd.store import outbox as outbox_store
from ticketd.store.keyvalue import put_value
from ticketd.store.lookup import ROUND_ROBIN_KEY, SqlLookup
from ticketd.store.schema import (
    attachments,
    blobs,
    claims,
    events,
    inbound,
    messages,
    tickets,
)

SYSTEM_ACTOR = "ticketd"
INSERT_EVENT = insert(events)
FINISH_INBOUND = update(inbound).where(inbound.c.id == bindparam("inbound_pk"))
INSERT_MESSAGE = insert(messages)
INSERT_TICKET = insert(tickets)
INSERT_ATTACHMENT = insert(attachments)
UPDATE_TICKET = update(tickets).where(tickets.c.id == bindparam("ticket_pk"))
SELECT_TICKET = select(tickets).where(tickets.c.id == bindparam("ticket_pk"))
SELECT_THREAD = (
    select(messages.c.message_id)
    .where(messages.c.ticket_id == bindparam("ticket_pk"))
    .order_by(messages.c.id)
)
LAST_REASON = (
    select(events.c.summary)
    .where(events.c.ticket_id == bindparam("ticket_pk"), events.c.type == "assigned")
    .order_by(events.c.id.desc())
    .limit(1)
)


BuildNotice = Callable[
    [QueueNotice, Mapping[str, Any], Sequence[str], str, InboundMessage | None], OutgoingMessage
]
Publish = Callable[[Connection, Collection[int]], object]


@dataclass
class Incoming:
    """The inbound message being applied and its queue row."""

    inbound_id: int
    msg: InboundMessage


class Applier:
    """Applies decisions on one connection; ``lookup`` shares its per-batch caches."""

    def __init__(
        self,
        connection: Connection,
        lookup: SqlLookup,
        build_notice: BuildNotice,
        now: Callable[[], datetime],
        *,
        notify: bool = True,
        publish: Publish | None = None,
    ) -> None:
        self.notify = notify
        self.publish = publish
        self.touched: set[int] = set()
        self.connection = connection
        self._tickets: dict[int, dict[str, Any]] = {}
        self._threads: dict[int, list[str]] = {}
        self._reasons: dict[int, str] = {}
        self._fresh: set[int] = set()
        self._round_robin: str | None = None
        self.lookup = lookup
        self.build_notice = build_notice
        self.now = now

    def apply(self, decision: Decision, incoming: Incoming) -> int | None:
        """Write every effect; returns the id of the ticket the message ended up on."""
        ticket_id: int | None = None
        self._fresh.clear()
        for effect in decision.effects:
            if isinstance(effect, QueueNotice) and not self.notify:
                continue
            ticket_id = self._apply_one(effect, incoming, ticket_id)
        held = [e.reason for e in decision.effects if isinstance(e, Hold)]
        self.connection.execute(
            FINISH_INBOUND,
            {
                "inbound_pk": incoming.inbound_id,
                "state": "held" if held else "done",
                "disposition": decision.disposition.value,
                "ticket_id": ticket_id,
                "reason": (held[0] if held else "; ".join(decision.hits))[:2000],
                "processed_at": self.now(),
            },
        )
        return ticket_id

    def _apply_one(self, effect: Effect, incoming: Incoming, ticket_id: int | None) -> int | None:
        match effect:
            case OpenTicket():
                return self._open(effect, incoming)
            case AppendMessage(ticket=ticket):
                target = ticket.id if ticket else ticket_id
                assert target is not None
                self._append(effect, incoming, target)
                return target
            case RecordDuplicate(ticket=ticket, reason=reason):
                self._record_duplicate(incoming, ticket.id, reason)
                return ticket.id
            case AssignOwner():
                target = effect.ticket.id if effect.ticket else ticket_id
                assert target is not None
                self.assign(
                    target,
                    effect.owner,
                    effect.reason,
                    effect.actor or SYSTEM_ACTOR,
                    automatic=effect.actor is None,
                    only_if_unowned=effect.only_if_unowned,
                )
                return target
            case ChangeStatus(ticket=ticket, status=status, reason=reason):
                self.change_status(ticket.id, status, reason, effect.actor or SYSTEM_ACTOR)
                return ticket.id
            case SetAttribute(ticket=ticket, name=name, value=value, actor=actor):
                column = {"priority": "priority", "type": "type"}[name]
                self._update(ticket.id, **{column: value})
                self.event(ticket.id, f"{name}_changed", value, actor, public=False)
                return ticket.id
            case AddTime(ticket=ticket, minutes=minutes, actor=actor):
                self._update(ticket.id, minutes_worked=tickets.c.minutes_worked + minutes)
                self.event(ticket.id, "time_logged", f"{minutes} min", actor, public=False)
                return ticket.id
            case AddNote(ticket=ticket, text=text, actor=actor):
                ref = self._store_text(ticket.id, text, actor, "note", public=False)
                self.event(ticket.id, "note", text[:200], actor, public=False, message_ref=ref)
                return ticket.id
            case PublicReply(ticket=ticket, text=text, actor=actor):
                self._public_reply(ticket.id, text, actor)
                return ticket.id
            case MergeInto(ticket=ticket, target=target, actor=actor):
                self._merge(ticket.id, target.id, target.tracking, ticket.tracking, actor)
                return ticket.id
            case RejectCommand(ticket=ticket, reason=reason, actor=actor):
                self.event(ticket.id, "command_rejected", reason, actor, public=False)
                return ticket.id
            case RecordBounce(ticket=ticket, summary=summary):
                self.event(ticket.id, "bounce", summary, actor=SYSTEM_ACTOR, public=False)
                return ticket.id
            case Hold():
                return ticket_id
            case QueueNotice():
                target = effect.ticket.id if effect.ticket else ticket_id
                assert target is not None
                self.queue_notice(effect, target, incoming.msg)
                return target
            case Suppressed(kind=kind, recipient=recipient, reason=reason):
                assert ticket_id is not None
                summary = f"{kind.value} to {recipient} not sent: {reason}"
                self.event(ticket_id, "notice_suppressed", summary, SYSTEM_ACTOR, public=False)
                return ticket_id
        raise AssertionError(f"unknown effect {effect!r}")

    def _open(self, effect: OpenTicket, incoming: Incoming) -> int:
        now = self.now()
        row: dict[str, Any] = {
            "tracking": effect.tracking,
            "status": Status.OPEN.value,
            "priority": effect.priority.value,
            "type": None,
            "subject": effect.subject[:1000],
            "requester_email": effect.requester.email,
            "requester_name": effect.requester.name[:200],
            "owner": None,
            "language": effect.language,
            "fingerprint": effect.fingerprint,
            "created_at": now,
            "updated_at": now,
            "last_customer_at": now,
        }
        result = self.connection.execute(INSERT_TICKET, row)
        ticket_id = int(result.inserted_primary_key[0])
        self._tickets[ticket_id] = {**row, "id": ticket_id}
        self._threads[ticket_id] = []
        self._fresh.add(ticket_id)
        self.connection.execute(delete(claims).where(claims.c.fingerprint == effect.fingerprint))
        self.connection.execute(
            insert(claims).values(fingerprint=effect.fingerprint, ticket_id=ticket_id, at=now)
        )
        self.event(ticket_id, "created", "received", actor=effect.requester.email, public=True)
        return ticket_id

    def _append(self, effect: AppendMessage, incoming: Incoming, ticket_id: int) -> None:
        msg = incoming.msg
        author = msg.from_addr.email if msg.from_addr else ""
        message_ref = self._store_message(incoming, ticket_id, effect.public)
        self.event(ticket_id, effect.kind, "", author, effect.public, message_ref)
        if ticket_id in self._fresh:
            return
        values: dict[str, Any] = {"updated_at": self.now()}
        if effect.kind == "customer_message":
            values["last_customer_at"] = self.now()
        self._update(ticket_id, **values)

    def ticket(self, ticket_id: int) -> Mapping[str, Any]:
        """The ticket row as this transaction has it (read once, then kept current)."""
        cached = self._tickets.get(ticket_id)
        if cached is None:
            row = self.connection.execute(SELECT_TICKET, {"ticket_pk": ticket_id}).mappings().one()
            cached = self._tickets[ticket_id] = dict(row)
        return cached

    def _thread(self, ticket_id: int) -> list[str]:
        thread = self._threads.get(ticket_id)
        if thread is None:
            found = self.connection.execute(SELECT_THREAD, {"ticket_pk": ticket_id}).scalars()
            thread = self._threads[ticket_id] = list(found)
        return thread

    def _insert_message(self, values: dict[str, Any]) -> int:
        result = self.connection.execute(INSERT_MESSAGE, values)
        self.lookup.note_message(values["message_id"])
        if values["ticket_id"] in self._threads:
            self._threads[values["ticket_id"]].append(values["message_id"])
        return int(result.inserted_primary_key[0])

    def _update(self, ticket_id: int, **values: Any) -> None:
        values.setdefault("updated_at", self.now())
        self.touched.add(ticket_id)
        if any(isinstance(v, ColumnElement) for v in values.values()):
            self.connection.execute(update(tickets).where(tickets.c.id == ticket_id).values(values))
            self._tickets.pop(ticket_id, None)
            return
        self.connection.execute(UPDATE_TICKET, {"ticket_pk": ticket_id, **values})
        cached = self._tickets.get(ticket_id)
        if cached is not None:
            cached.update(values)

    def _store_text(self, ticket_id: int, text: str, author: str, kind: str, public: bool) -> int:
        """Keep text written inside ticketd (notes, replies) as a message of the ticket."""
        return self._insert_message(
            {
                "ticket_id": ticket_id,
                "message_id": f"{kind}-{uuid.uuid4().hex}@ticketd.local",
                "direction": "note" if kind == "note" else "out",
                "inbound_id": None,
                "author": author,
                "subject": "",
                "body": text,
                "public": public,
                "at": self.now(),
            }
        )

    def _public_reply(self, ticket_id: int, text: str, actor: str) -> None:
        ref = self._store_text(ticket_id, text, actor, "reply", public=True)
        self.event(ticket_id, "reply_sent", "", actor, public=True, message_ref=ref)
        if self.ticket(ticket_id)["first_response_at"] is None:
            self._update(ticket_id, first_response_at=self.now())
        else:
            self._update(ticket_id)

    def _merge(
        self, ticket_id: int, target_id: int, target_tracking: str, tracking: str, actor: str
    ) -> None:
        self.change_status(ticket_id, Status.CLOSED, f"merged into {target_tracking}", actor)
        self._update(ticket_id, merged_into=target_id)
        self.event(ticket_id, "merged", f"duplicate of {target_tracking}", actor, public=True)
        self._update(target_id, duplicate_count=tickets.c.duplicate_count + 1)
        self.event(
            target_id, "duplicate", f"{tracking} merged into this ticket", actor, public=False
        )

    def _record_duplicate(self, incoming: Incoming, ticket_id: int, reason: str) -> None:
        self._store_message(incoming, ticket_id, public=False)
        self._update(ticket_id, duplicate_count=tickets.c.duplicate_count + 1)
        author = incoming.msg.from_addr.email if incoming.msg.from_addr else ""
        self.event(ticket_id, "duplicate", reason, actor=author, public=False)

    def _store_message(self, incoming: Incoming, ticket_id: int, public: bool) -> int:
        msg = incoming.msg
        message_ref = self._insert_message(
            {
                "ticket_id": ticket_id,
                "message_id": msg.message_id,
                "direction": "in",
                "inbound_id": incoming.inbound_id,
                "author": msg.from_addr.email if msg.from_addr else "",
                "subject": msg.subject[:1000],
                "body": msg.new_text,
                "public": public,
                "at": self.now(),
            }
        )
        for attachment in msg.attachments:
            known = select(blobs.c.sha256).where(blobs.c.sha256 == attachment.sha256)
            if self.connection.execute(known).first() is None:
                self.connection.execute(
                    insert(blobs).values(sha256=attachment.sha256, data=attachment.data)
                )
            self.connection.execute(
                INSERT_ATTACHMENT,
                {
                    "ticket_id": ticket_id,
                    "message_ref": message_ref,
                    "filename": attachment.filename,
                    "content_type": attachment.content_type[:255],
                    "size": attachment.size,
                    "sha256": attachment.sha256,
                },
            )
        return message_ref

    def event(
        self,
        ticket_id: int,
        kind: str,
        summary: str,
        actor: str,
        public: bool,
        message_ref: int | None = None,
    ) -> None:
        """Append one event to a ticket's history."""
        self.touched.add(ticket_id)
        self.connection.execute(
            INSERT_EVENT,
            {
                "ticket_id": ticket_id,
                "type": kind,
                "at": self.now(),
                "actor": actor,
                "public": public,
                "summary": summary[:2000],
                "message_ref": message_ref,
            },
        )

    def assign(
        self,
        ticket_id: int,
        owner: str | None,
        reason: str,
        actor: str,
        *,
        automatic: bool,
        only_if_unowned: bool = False,
    ) -> bool:
        """Set the owner, keep the load counters current and record an ``assigned`` event.
        With ``only_if_unowned`` (``#take``) nothing changes if someone owns it already."""
        row = self.ticket(ticket_id)
        if only_if_unowned and row["owner"] not in (None, owner):
            return False
        is_open = Status(row["status"]) in OPEN_STATUSES
        self.lookup.note_assignment(
            row["owner"] if is_open else None, owner if is_open else None, automatic
        )
        self._update(ticket_id, owner=owner)
        if automatic and owner:
            self._round_robin = owner
        summary = f"{owner or 'nobody'}: {reason}"
        self._reasons[ticket_id] = summary
        self.event(ticket_id, "assigned", summary, actor, public=False)
        return True

    def change_status(self, ticket_id: int, status: Status, reason: str, actor: str) -> None:
        """Move a ticket to ``status`` and record a public ``status_changed`` event."""
        row = self.ticket(ticket_id)
        before = Status(row["status"])
        if before == status:
            return
        if before in OPEN_STATUSES and status not in OPEN_STATUSES:
            self.lookup.note_closed(row["owner"])
        elif before not in OPEN_STATUSES and status in OPEN_STATUSES:
            self.lookup.note_reopened(row["owner"])
        values: dict[str, Any] = {"status": status.value}
        if status == Status.RESOLVED:
            values["resolved_at"] = self.now()
        self._update(ticket_id, **values)
        self.event(
            ticket_id,
            "status_changed",
            f"{before.value} → {status.value}: {reason}",
            actor,
            public=True,
        )

    def queue_notice(self, notice: QueueNotice, ticket_id: int, msg: InboundMessage | None) -> None:
        """Render a notice and put it in the outbox, recording its Message-ID for threading."""
        reason = self._reasons.get(ticket_id)
        if reason is None:
            found = self.connection.execute(LAST_REASON, {"ticket_pk": ticket_id}).scalar()
            reason = self._reasons[ticket_id] = found or ""
        mail = self.build_notice(
            notice, self.ticket(ticket_id), tuple(self._thread(ticket_id)), reason, msg
        )
        automatic = notice.kind not in ENGINEER_NOTICES | HUMAN_NOTICES
        outbox_store.queue(
            self.connection, mail, ticket_id, notice.kind.value, automatic, self.now()
        )
        self._insert_message(
            {
                "ticket_id": ticket_id,
                "message_id": mail.message_id,
                "direction": "out",
                "inbound_id": None,
                "author": mail.sender,
                "subject": "",
                "body": "",
                "public": False,
                "at": self.now(),
            }
        )

    def finish(self) -> None:
        """Write what was kept for the end of the batch: the round-robin pointer and the
        published pages of the tickets that changed."""
        if self._round_robin is not None:
            put_value(self.connection, ROUND_ROBIN_KEY, self._round_robin)
            self._round_robin = None
        if self.publish is not None and self.touched:
            self.publish(self.connection, self.touched)
        self.touched = set()

    def forget(self) -> None:
        """Drop every cache (after a rolled-back savepoint)."""
        self._tickets.clear()
        self._threads.clear()
        self._reasons.clear()
        self._fresh.clear()
