"""The only writer: every change to tickets, events, messages, inbound rows and the outbox
goes through ``Writer``, in the caller's transaction, so all of a change commits or none.

Decisions of the core (``routing``) arrive as frozen effects; the queue and the outbox get
small named operations. ``attempt()`` wraps one message in a savepoint and, when it fails,
forgets everything this transaction cached about it.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Connection,
    Table,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ticketd.mail.message import Address, Attachment, InboundMessage, OutgoingMessage, RawMessage
from ticketd.routing.actions import ActionOutcome, ActionResult, ActionState
from ticketd.routing.assign import Availability
from ticketd.routing.code_rules import RULE_ACTOR
from ticketd.routing.csat import RatingState
from ticketd.routing.digest import DIGEST_KIND, DigestPeriod
from ticketd.routing.effects import (
    ENGINEER_NOTICES,
    HUMAN_NOTICES,
    AddCodes,
    AddFollower,
    AddNote,
    AddTime,
    AppendMessage,
    AssignOwner,
    ChangeStatus,
    Decision,
    Disposition,
    Effect,
    Hold,
    HoldReply,
    MarkBreached,
    MarkReminded,
    MarkWaitingReminded,
    MergeInto,
    NewTicket,
    NoticeKind,
    OpenTicket,
    PublicReply,
    QueueNotice,
    RecordBounce,
    RecordDuplicate,
    RecordRating,
    RejectCommand,
    RemoveFollower,
    RetireCode,
    SetBillable,
    SetCode,
    SetPriority,
    SetType,
    SuggestCode,
    Suppressed,
    Target,
)
from ticketd.routing.event_notes import NoteKind, note
from ticketd.routing.macros import Macro
from ticketd.routing.model import (
    OPEN_STATUSES,
    EventKind,
    InboundState,
    Priority,
    SlaClock,
    Status,
    TicketRef,
    TicketView,
)
from ticketd.routing.outcomes import Reason, StatusKind, StatusReason
from ticketd.routing.page_time import SCHEDULE_ACTOR
from ticketd.routing.privacy import RetentionPolicy
from ticketd.routing.sla import DEFAULT_SLA, SlaPolicy
from ticketd.routing.views import NoticeContext
from ticketd.store import availability as availability_rows
from ticketd.store import codes as code_rows
from ticketd.store import digests as digest_rows
from ticketd.store import inbound as queue
from ticketd.store import (
    leadership,
    purge,
    queries,
    ratings,
    report_cache,
    retention,
    search,
    staff_auth,
)
from ticketd.store import macros as macro_rows
from ticketd.store import outbox as outbox_rows
from ticketd.store.fast_insert import FastInsert
from ticketd.store.fees import fee_ticket
from ticketd.store.keyvalue import drop_value, get_value, put_value
from ticketd.store.lookup import ROUND_ROBIN_KEY, BatchCache, SqlLookup, ticket_view
from ticketd.store.raw_form import PackedRaw
from ticketd.store.schema import (
    attachments,
    blobs,
    claims,
    events,
    followers,
    messages,
    tickets,
)
from ticketd.store.search_pending import PendingDocuments
from ticketd.store.sent_journal import Noted, SentJournal

SYSTEM_ACTOR = "ticketd"
INSERT_EVENT = FastInsert(events)
INSERT_MESSAGE = FastInsert(messages)
INSERT_TICKET = FastInsert(tickets)
INSERT_ATTACHMENT = FastInsert(attachments)
INSERT_BLOB = FastInsert(blobs)


def _put_claim(dialect_insert: Callable[[Table], Any]) -> Any:
    """The claim's fingerprint naming a ticket, replacing any older claim (one statement)."""
    statement = dialect_insert(claims)
    return statement.on_conflict_do_update(
        index_elements=[claims.c.fingerprint],
        set_={"ticket_id": statement.excluded.ticket_id, "at": statement.excluded.at},
    )


PUT_CLAIM = {"sqlite": _put_claim(sqlite_insert), "postgresql": _put_claim(postgresql_insert)}
"""A claim's fingerprint now names this ticket (one statement, on either database)."""
UPDATE_TICKET = update(tickets).where(tickets.c.id == bindparam("ticket_pk"))
SELECT_TICKET = select(tickets).where(tickets.c.id == bindparam("ticket_pk"))
LOCK_TICKET = SELECT_TICKET.with_for_update()
SLA_MARKS = {
    SlaClock.FIRST_RESPONSE: ("sla_reminded_at", "sla_breached_at"),
    SlaClock.NEXT_RESPONSE: ("next_response_reminded_at", "next_response_breached_at"),
}
"""Each clock's stored reminder and breach marks."""
NEXT_RESPONSE_CLEARED: dict[str, Any] = dict.fromkeys(
    (
        "next_response_due_at",
        "next_response_remind_at",
        "next_response_reminded_at",
        "next_response_breached_at",
    )
)
"""No next reply owed (a public reply answered the customer)."""
WAITING_CLEARED: dict[str, Any] = dict.fromkeys(("waiting_since", "waiting_reminded_at"))
"""Not in a waiting spell."""
SELECT_THREAD = (
    select(messages.c.message_id, messages.c.public)
    .where(messages.c.ticket_id == bindparam("ticket_pk"))
    .order_by(messages.c.id)
)
SELECT_FOLLOWERS = (
    select(followers.c.email, followers.c.name)
    .where(followers.c.ticket_id == bindparam("ticket_pk"))
    .order_by(followers.c.email)
)
SELECT_TEXTS = (
    select(messages.c.direction, messages.c.public, messages.c.body)
    .where(messages.c.ticket_id == bindparam("ticket_pk"), messages.c.direction != "out")
    .order_by(messages.c.id)
)
PSEUDO_ID = "@ticketd.local"
NOTES_KEPT = 5
FOLD_AFTER = 5
"""Owner notices of new tickets to one engineer in one transaction before the rest are
folded into one notice (a flood of claims never floods an engineer's inbox)."""
CONTEXT_NOTICES = frozenset(
    {
        NoticeKind.OWNER_ASSIGNED,
        NoticeKind.UNOWNED,
        NoticeKind.CUSTOMER_WROTE,
        NoticeKind.THIRD_PARTY_WROTE,
    }
)
"""Engineer notices that carry the ticket's story (claim, latest message, notes, files)."""
LAST_REASON = (
    select(events.c.summary)
    .where(events.c.ticket_id == bindparam("ticket_pk"), events.c.type == EventKind.ASSIGNED)
    .order_by(events.c.id.desc())
    .limit(1)
)

BuildNotice = Callable[[QueueNotice, TicketView, NoticeContext], OutgoingMessage]
"""Renders a notice about a ticket, with what the store knows around it, into a mail."""
Publish = Callable[[Connection, Collection[int]], object]
"""Publishes the status pages of changed tickets, in the writer's transaction."""


@dataclass(frozen=True)
class Incoming:
    """The inbound message a decision is about, and its queue row."""

    inbound_id: int
    msg: InboundMessage
    source: str | None = None
    """Where it came in (``imap``, ``smtp``, ``import``): a ticket it opens keeps it as its
    channel; None: read from its stored row."""


class Writer:
    """Applies decisions and queue/outbox changes on one connection (one transaction)."""

    def __init__(
        self,
        connection: Connection,
        now: Callable[[], datetime],
        *,
        build_notice: BuildNotice | None = None,
        notify: bool = True,
        publish: Publish | None = None,
        sla: SlaPolicy = DEFAULT_SLA,
        journal: SentJournal | None = None,
    ) -> None:
        self.connection = connection
        self.journal = journal
        self.journal_folded = Noted(())
        """The journal's notes this transaction folded (discarded after commit)."""
        self.now = now
        self.build_notice = build_notice
        self.notify = notify
        self.publish = publish
        self.sla = sla
        self.cache = BatchCache()
        self.lookup = SqlLookup(connection, self.cache)
        self.touched: set[int] = set()
        self._opened: set[int] = set()
        self.documents = PendingDocuments()
        self._events: list[dict[str, Any]] = []
        self._processed: list[dict[str, Any]] = []
        """The inbound rows' outcomes, written by ``finish`` in one statement."""
        self._tickets: dict[int, dict[str, Any]] = {}
        self._threads: dict[int, list[tuple[str, bool]]] = {}
        self._reasons: dict[int, str] = {}
        self._handles: dict[str, int] = {}
        self._owners: dict[str, str | None] = {}
        """The owner each ticket the decision opens is assigned (written with its row)."""
        self._preset: set[int] = set()
        self._round_robin: str | None = None
        self._files: dict[int, tuple[Attachment, ...]] = {}
        self._followers: dict[int, dict[str, str]] = {}
        self._owner_notices: dict[str, int] = {}
        self._folded: dict[str, list[tuple[QueueNotice, int]]] = {}

    # --- decisions ---------------------------------------------------------------------

    @contextlib.contextmanager
    def attempt(self) -> Iterator[None]:
        """A savepoint for one message (or a whole batch); on failure its writes (its
        pending search documents, folded notices and changed tickets included) and every
        cache are dropped."""
        mark, processed = self.documents.mark(), len(self._processed)
        kept = (
            set(self.touched),
            set(self._opened),
            dict(self._files),
            dict(self._owner_notices),
            {email: list(notices) for email, notices in self._folded.items()},
            self._round_robin,
        )
        try:
            with self.connection.begin_nested():
                yield
        except BaseException:
            self.documents.truncate(mark)
            del self._processed[processed:]
            self.forget()
            (
                self.touched,
                self._opened,
                self._files,
                self._owner_notices,
                self._folded,
                self._round_robin,
            ) = kept
            raise

    def apply(self, decision: Decision, incoming: Incoming | None = None) -> int | None:
        """Write every effect; returns the id of the ticket the message ended up on. The
        inbound row (if any) is marked done or held, with the decision's reasons, at
        ``finish``."""
        ticket_id: int | None = None
        self._handles.clear()
        self._owners = {
            e.ticket.tracking: e.owner
            for e in reversed(decision.effects)
            if isinstance(e, AssignOwner) and isinstance(e.ticket, NewTicket)
        }
        for effect in decision.effects:
            if isinstance(effect, QueueNotice) and not self.notify:
                continue
            ticket_id = self._apply_one(effect, incoming) or ticket_id
        self._write_events()
        if incoming is not None:
            held = [e.reason for e in decision.effects if isinstance(e, Hold)]
            self._processed.append(
                {
                    "inbound_pk": incoming.inbound_id,
                    "state": InboundState.HELD if held else InboundState.DONE,
                    "disposition": decision.disposition.value,
                    "ticket_id": ticket_id,
                    "reason": (held[0] if held else "; ".join(map(str, decision.hits)))[:2000],
                    "processed_at": self.now(),
                }
            )
        return ticket_id

    def act(
        self, tracking: str, version: int, decide: Callable[[TicketRef], ActionOutcome]
    ) -> ActionResult:
        """A workspace action: decided and applied only while the ticket is still at
        ``version``, checked under the ticket's lock in this transaction; every effect
        carries the engineer as its actor."""
        ticket = self.lookup.ticket_to_act_on(tracking)
        if ticket is None:
            return ActionResult(ActionState.UNKNOWN)
        current = self.lookup.version(ticket.id)
        if current != version:
            return ActionResult(ActionState.CONFLICT, version=current)
        outcome = decide(ticket)
        if outcome.denied is not None:
            return ActionResult(
                ActionState.DENIED, refused=outcome.refused, version=current, reason=outcome.denied
            )
        self.apply(Decision(Disposition.SCHEDULED, (), outcome.effects))
        done = ActionState.DONE
        return ActionResult(done, outcome.done, outcome.refused, self.lookup.version(ticket.id))

    def rating_to_change(self, tracking: str) -> tuple[TicketRef, RatingState] | None:
        """The ticket ``tracking``, locked until the transaction ends (so two posts of one
        rating record it once), and its current rating; None for an unknown number."""
        ticket = self.lookup.ticket_to_act_on(tracking)
        if ticket is None:
            return None
        state = ratings.rating_state(self.connection, ticket.id, ticket.status, ticket.language)
        return ticket, state

    def _id(self, target: Target) -> int:
        if isinstance(target, NewTicket):
            return self._handles[target.tracking]
        return target.id

    def _apply_one(self, effect: Effect, incoming: Incoming | None) -> int | None:
        match effect:
            case OpenTicket():
                assert incoming is not None
                channel = incoming.source or queue.channel_of(self.connection, incoming.inbound_id)
                return self._open(effect, channel)
            case AppendMessage(ticket=target, public=public, kind=kind):
                assert incoming is not None
                ticket_id = self._id(target)
                self._append(incoming, ticket_id, public, kind)
                return ticket_id
            case RecordDuplicate(ticket=ticket, reason=reason):
                assert incoming is not None
                self._record_duplicate(incoming, ticket.id, reason)
                return ticket.id
            case AssignOwner():
                ticket_id = self._id(effect.ticket)
                self._assign(ticket_id, effect)
                return ticket_id
            case ChangeStatus(ticket=ticket, status=status, reason=reason):
                self._change_status(ticket.id, status, reason, effect.actor or SYSTEM_ACTOR)
                return ticket.id
            case SetPriority(ticket=ticket, priority=priority, actor=actor):
                summary = self._set_priority(ticket.id, priority)
                self._event(ticket.id, EventKind.PRIORITY_CHANGED, summary, actor, value=priority)
                return ticket.id
            case SetType(ticket=ticket, type=kind, actor=actor):
                self._update(ticket.id, type=kind)
                summary = note(NoteKind.TYPE, kind)
                self._event(ticket.id, EventKind.TYPE_CHANGED, summary, actor, value=kind)
                return ticket.id
            case SetCode(ticket=target, path=path, actor=actor):
                ticket_id = self._id(target)
                code_id = code_rows.live_id(self.connection, path) if path else None
                self._update(ticket_id, code_id=code_id)
                summary = note(NoteKind.CODE, path) if path else note(NoteKind.CODE_CLEARED)
                self._event(ticket_id, EventKind.CODE_CHANGED, summary, actor, value=path or None)
                return ticket_id
            case SuggestCode(ticket=target, path=path):
                ticket_id = self._id(target)
                summary = note(NoteKind.CODE_SUGGESTED, path)
                self._event(ticket_id, EventKind.CODE_SUGGESTED, summary, RULE_ACTOR, value=path)
                return ticket_id
            case AddCodes(codes=new, actor=actor):
                code_rows.add(self.connection, new, actor, self.now())
                return None
            case RetireCode(code_id=code_id):
                known = code_rows.tree(self.connection)
                code = known.by_id(code_id)
                if code is not None:
                    code_rows.retire(self.connection, code, known, self.now())
                return None
            case AddTime(ticket=ticket, minutes=minutes, actor=actor):
                self._update(ticket.id, minutes_worked=tickets.c.minutes_worked + minutes)
                self._event(ticket.id, EventKind.TIME_LOGGED, note(NoteKind.TIME, minutes), actor)
                return ticket.id
            case SetBillable(ticket=ticket, billable=billable, actor=actor):
                word = "yes" if billable else "no"
                self._update(ticket.id, billable=billable)
                summary = note(NoteKind.BILLABLE, word)
                self._event(ticket.id, EventKind.BILLABLE_CHANGED, summary, actor, value=word)
                return ticket.id
            case AddNote(ticket=ticket, text=text, actor=actor):
                ref = self._store_text(ticket.id, text, actor, "note", public=False)
                self._event(ticket.id, EventKind.NOTE, text[:200], actor, message_ref=ref)
                return ticket.id
            case PublicReply(ticket=ticket, text=text, actor=actor, attachments=files):
                self._public_reply(ticket.id, text, actor, files)
                return ticket.id
            case HoldReply(ticket=ticket, text=text, actor=actor, summary=summary):
                ref = self._store_text(ticket.id, text, actor, "held", public=False)
                self._event(ticket.id, EventKind.REPLY_HELD, summary, actor, message_ref=ref)
                return ticket.id
            case AddFollower(ticket=ticket, follower=follower, actor=actor):
                self._add_follower(ticket.id, follower, actor)
                return ticket.id
            case RemoveFollower(ticket=ticket, email=email, actor=actor):
                self._remove_follower(ticket.id, email, actor)
                return ticket.id
            case MergeInto(ticket=ticket, target=target, actor=actor):
                self._merge(ticket.id, target.id, target.tracking, ticket.tracking, actor)
                return ticket.id
            case RejectCommand(ticket=ticket, reason=reason, actor=actor):
                self._event(ticket.id, EventKind.COMMAND_REJECTED, reason, actor)
                return ticket.id
            case RecordRating(ticket=ticket, rating=rating, comment=comment):
                actor = ticket.requester
                self._event(ticket.id, EventKind.CSAT, comment, actor, value=rating)
                return ticket.id
            case RecordBounce(ticket=ticket, summary=summary):
                self._event(ticket.id, EventKind.BOUNCE, summary, SYSTEM_ACTOR)
                return ticket.id
            case MarkReminded(ticket=ticket, summary=summary, clock=clock):
                reminded, _ = SLA_MARKS[clock]
                self._update(ticket.id, **{reminded: self.now()})
                self._event(ticket.id, EventKind.SLA_REMINDED, summary, SYSTEM_ACTOR, value=clock)
                return ticket.id
            case MarkBreached(ticket=ticket, summary=summary, clock=clock):
                reminded, breached = SLA_MARKS[clock]
                row = self.ticket_row(ticket.id)
                marks = {breached: self.now(), reminded: row[reminded] or self.now()}
                self._update(ticket.id, **marks)
                self._event(ticket.id, EventKind.SLA_BREACHED, summary, SYSTEM_ACTOR, value=clock)
                return ticket.id
            case MarkWaitingReminded(ticket=ticket, summary=summary):
                self._update(ticket.id, waiting_reminded_at=self.now())
                self._event(ticket.id, EventKind.WAITING_REMINDED, summary, SCHEDULE_ACTOR)
                return ticket.id
            case Hold():
                return None
            case QueueNotice():
                ticket_id = self._id(effect.ticket)
                self._queue_notice(effect, ticket_id, incoming.msg if incoming else None)
                return ticket_id
            case Suppressed(ticket=target, reason=reason):
                ticket_id = self._id(target)
                self._event(ticket_id, EventKind.NOTICE_SUPPRESSED, reason, SYSTEM_ACTOR)
                return ticket_id
        raise AssertionError(f"unknown effect {effect!r}")

    def _open(self, effect: OpenTicket, channel: str) -> int:
        now = self.now()
        row: dict[str, Any] = {
            "tracking": effect.handle.tracking,
            "status": Status.OPEN.value,
            "priority": effect.priority.value,
            "type": None,
            "subject": effect.subject[:1000],
            "requester_email": effect.requester.email,
            "requester_name": effect.requester.name[:200],
            "requester_domain": effect.requester.email.rpartition("@")[2].lower()[:255],
            "owner": self._owners.get(effect.handle.tracking),
            "language": effect.language,
            "fingerprint": effect.fingerprint,
            "created_at": now,
            "updated_at": now,
            "last_customer_at": now,
            **self._first_response_clock(now, effect.priority),
            "channel": channel,
        }
        ticket_id = INSERT_TICKET.one(self.connection, row)
        self._opened.add(ticket_id)
        if effect.handle.tracking in self._owners:
            self._preset.add(ticket_id)
        self.documents.add(ticket_id, "subject", row["subject"])
        self._tickets[ticket_id] = {
            **row,
            "id": ticket_id,
            "duplicate_count": 0,
            "minutes_worked": 0,
            "merged_into": None,
            "first_response_at": None,
            "resolved_at": None,
            "sla_reminded_at": None,
            "sla_breached_at": None,
            **NEXT_RESPONSE_CLEARED,
            **WAITING_CLEARED,
        }
        self._threads[ticket_id] = []
        self._followers[ticket_id] = {}
        self._handles[effect.handle.tracking] = ticket_id
        self.connection.execute(
            PUT_CLAIM[self.connection.dialect.name],
            {"fingerprint": effect.fingerprint, "ticket_id": ticket_id, "at": now},
        )
        self.cache.unclaimed.discard(effect.fingerprint)
        received = note(NoteKind.RECEIVED)
        self._event(ticket_id, EventKind.CREATED, received, effect.requester.email, public=True)
        for follower in effect.followers:
            self._add_follower(ticket_id, follower, effect.requester.email)
        return ticket_id

    def _first_response_clock(self, created_at: datetime, priority: Priority) -> dict[str, Any]:
        deadline = self.sla.first_response(created_at, priority)
        return {
            "first_response_due_at": deadline.due_at,
            "first_response_remind_at": deadline.remind_at,
        }

    def _set_priority(self, ticket_id: int, priority: Priority) -> str:
        """A new priority, and the first-response clock it implies while unanswered
        (counted again from creation); returns the event's summary."""
        row = self.ticket_row(ticket_id)
        if row["first_response_at"] is not None:
            self._update(ticket_id, priority=priority.value)
            return note(NoteKind.PRIORITY, priority.value)
        clock = self._first_response_clock(row["created_at"], priority)
        self._update(ticket_id, priority=priority.value, **clock)
        due = self.sla.calendar.describe(clock["first_response_due_at"])
        return note(NoteKind.PRIORITY_DUE, priority.value, due)

    def _add_follower(self, ticket_id: int, follower: Address, actor: str) -> None:
        if follower.email in self._ticket_followers(ticket_id):
            return
        name = follower.name[:200]
        self.connection.execute(
            insert(followers).values(ticket_id=ticket_id, email=follower.email, name=name)
        )
        self._followers[ticket_id][follower.email] = name
        self._event(ticket_id, EventKind.FOLLOWER_ADDED, follower.email, actor)

    def _remove_follower(self, ticket_id: int, email: str, actor: str) -> None:
        key = (followers.c.ticket_id == ticket_id) & (followers.c.email == email)
        if self.connection.execute(delete(followers).where(key)).rowcount:
            self._followers.pop(ticket_id, None)
            self._event(ticket_id, EventKind.FOLLOWER_REMOVED, email, actor)

    def _ticket_followers(self, ticket_id: int) -> dict[str, str]:
        """The ticket's followers by email as this transaction has them (read once)."""
        known = self._followers.get(ticket_id)
        if known is None:
            rows = self.connection.execute(SELECT_FOLLOWERS, {"ticket_pk": ticket_id}).all()
            known = self._followers[ticket_id] = {r.email: r.name for r in rows}
        return known

    def _append(self, incoming: Incoming, ticket_id: int, public: bool, kind: EventKind) -> None:
        msg = incoming.msg
        author = msg.from_addr.email if msg.from_addr else ""
        message_ref = self._store_message(incoming, ticket_id, public)
        self._event(ticket_id, kind, "", author, public=public, message_ref=message_ref)
        if ticket_id in self._handles.values():
            return
        values: dict[str, Any] = {"updated_at": self.now()}
        if kind == EventKind.CUSTOMER_MESSAGE:
            values["last_customer_at"] = self.now()
            values.update(self._next_response_clock(ticket_id))
        self._update(ticket_id, **values)

    def _next_response_clock(self, ticket_id: int) -> dict[str, Any]:
        """A customer's message after the first response starts the next-reply clock,
        unless an earlier message's clock still runs (the oldest unanswered one counts)."""
        row = self.ticket_row(ticket_id)
        deadline = self.sla.next_response(self.now())
        if (
            deadline is None
            or row["first_response_at"] is None
            or row["next_response_due_at"] is not None
            or row["status"] == Status.CLOSED.value
        ):
            return {}
        return {
            **NEXT_RESPONSE_CLEARED,
            "next_response_due_at": deadline.due_at,
            "next_response_remind_at": deadline.remind_at,
        }

    def ticket_row(self, ticket_id: int) -> dict[str, Any]:
        """The ticket row as this transaction has it (read once, then kept current)."""
        cached = self._tickets.get(ticket_id)
        if cached is None:
            row = self.connection.execute(SELECT_TICKET, {"ticket_pk": ticket_id}).mappings().one()
            cached = self._tickets[ticket_id] = dict(row)
        return cached

    def _thread(self, ticket_id: int, *, customer: bool) -> tuple[str, ...]:
        """The ticket's real Message-IDs; for ``customer`` mail only what the customer saw
        (never an engineer's own mail or a note)."""
        thread = self._threads.get(ticket_id)
        if thread is None:
            rows = self.connection.execute(SELECT_THREAD, {"ticket_pk": ticket_id}).all()
            thread = self._threads[ticket_id] = [(r.message_id, bool(r.public)) for r in rows]
        return tuple(
            mid
            for mid, public in thread
            if (public or not customer) and not mid.endswith(PSEUDO_ID)
        )

    def _insert_message(self, values: dict[str, Any]) -> int:
        message_ref = INSERT_MESSAGE.one(self.connection, values)
        ticket_id = values["ticket_id"]
        kind: search.Kind = "note" if values["direction"] == "note" else "message"
        self.documents.add(ticket_id, kind, values["body"], message_ref)
        self.cache.seen[values["message_id"]] = True
        if ticket_id in self._threads:
            self._threads[ticket_id].append((values["message_id"], values["public"]))
        return message_ref

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

    def _public_reply(
        self, ticket_id: int, text: str, actor: str, files: tuple[Attachment, ...]
    ) -> None:
        ref = self._store_text(ticket_id, text, actor, "reply", public=True)
        self._store_attachments(ticket_id, ref, files)
        self._files[ticket_id] = files
        self._event(ticket_id, EventKind.REPLY_SENT, "", actor, public=True, message_ref=ref)
        row = self.ticket_row(ticket_id)
        if row["first_response_at"] is None:
            due, now = row["first_response_due_at"], self.now()
            self._update(
                ticket_id,
                first_response_at=now,
                first_response_due_at=None,
                first_response_late=None if due is None else now > due,
            )
        else:
            self._update(ticket_id, **NEXT_RESPONSE_CLEARED)

    def _merge(
        self, ticket_id: int, target_id: int, target_tracking: str, tracking: str, actor: str
    ) -> None:
        merged = str(StatusReason(StatusKind.MERGED_INTO, target_tracking))
        self._change_status(ticket_id, Status.CLOSED, merged, actor)
        self._update(ticket_id, merged_into=target_id)
        summary = note(NoteKind.DUPLICATE_OF, target_tracking)
        self._event(ticket_id, EventKind.MERGED, summary, actor, public=True)
        self._update(target_id, duplicate_count=tickets.c.duplicate_count + 1)
        self._event(target_id, EventKind.DUPLICATE, note(NoteKind.MERGED_FROM, tracking), actor)

    def _record_duplicate(self, incoming: Incoming, ticket_id: int, reason: str) -> None:
        ref = self._store_message(incoming, ticket_id, public=False)
        self._update(ticket_id, duplicate_count=tickets.c.duplicate_count + 1)
        author = incoming.msg.from_addr.email if incoming.msg.from_addr else ""
        self._event(ticket_id, EventKind.DUPLICATE, reason, actor=author, message_ref=ref)

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
        self._store_attachments(ticket_id, message_ref, msg.attachments)
        self._files[ticket_id] = msg.attachments
        return message_ref

    def _store_attachments(
        self, ticket_id: int, message_ref: int, files: Sequence[Attachment]
    ) -> None:
        for attachment in files:
            known = select(func.length(blobs.c.data)).where(blobs.c.sha256 == attachment.sha256)
            stored = self.connection.execute(known).first()
            if stored is None:
                INSERT_BLOB.add(
                    self.connection, {"sha256": attachment.sha256, "data": attachment.data}
                )
            elif stored[0] == 0 and attachment.data:
                retention.refill(self.connection, attachment.sha256, attachment.data)
            INSERT_ATTACHMENT.add(
                self.connection,
                {
                    "ticket_id": ticket_id,
                    "message_ref": message_ref,
                    "filename": attachment.filename,
                    "content_type": attachment.content_type[:255],
                    "size": attachment.size,
                    "sha256": attachment.sha256,
                },
            )

    def _event(
        self,
        ticket_id: int,
        kind: EventKind,
        summary: str,
        actor: str,
        *,
        public: bool = False,
        message_ref: int | None = None,
        value: str | None = None,
    ) -> None:
        """Append one event to a ticket's history (written by ``_write_events``)."""
        self.touched.add(ticket_id)
        self._events.append(
            {
                "ticket_id": ticket_id,
                "type": kind.value,
                "at": self.now(),
                "actor": actor,
                "public": public,
                "summary": summary[:2000],
                "message_ref": message_ref,
                "value": value,
            }
        )

    def _write_events(self) -> None:
        """Insert the events appended since the last call, in order, in one statement."""
        if self._events:
            INSERT_EVENT.many(self.connection, self._events)
            self._events = []

    def _assign(self, ticket_id: int, effect: AssignOwner) -> None:
        """Set the owner, keep the load counters current and record an ``assigned`` event.
        A ``#take`` (``only_if_unowned``) changes nothing if someone owns it already."""
        row = self.ticket_row(ticket_id)
        owner, preset = effect.owner, ticket_id in self._preset
        previous = None if preset else row["owner"]
        self._preset.discard(ticket_id)
        if effect.only_if_unowned and previous not in (None, owner):
            return
        automatic = effect.actor is None
        if Status(row["status"]) in OPEN_STATUSES:
            self._count(previous, -1)
            self._count(owner, +1)
        if automatic and owner:
            self._round_robin = owner
            self.cache.last_assigned, self.cache.last_loaded = owner, True
        if preset and row["owner"] == owner:
            self.touched.add(ticket_id)
        else:
            self._update(ticket_id, owner=owner)
        summary = f"{owner or 'nobody'}: {effect.reason}"
        self._reasons[ticket_id] = summary
        actor = effect.actor or SYSTEM_ACTOR
        self._event(ticket_id, EventKind.ASSIGNED, summary, actor, value=owner)

    def _count(self, owner: str | None, delta: int) -> None:
        """Keep the cached open load (if loaded) in step with a change."""
        if owner and self.cache.load is not None:
            self.cache.load[owner] += delta

    def _change_status(self, ticket_id: int, status: Status, reason: str, actor: str) -> None:
        """Move a ticket to ``status`` and record a public ``status_changed`` event."""
        row = self.ticket_row(ticket_id)
        before = Status(row["status"])
        if before == status:
            return
        if before in OPEN_STATUSES and status not in OPEN_STATUSES:
            self._count(row["owner"], -1)
        elif before not in OPEN_STATUSES and status in OPEN_STATUSES:
            self._count(row["owner"], +1)
        values: dict[str, Any] = {"status": status.value}
        if status == Status.RESOLVED or (status == Status.CLOSED and before in OPEN_STATUSES):
            values["resolved_at"] = self.now()
        if status == Status.CLOSED:
            values["closed_at"] = self.now()
        elif status in OPEN_STATUSES:
            values["closed_at"] = None
        values.update(WAITING_CLEARED)
        if status == Status.WAITING:
            values["waiting_since"] = self.now()
        self._update(ticket_id, **values)
        summary = f"{before.value} → {status.value}: {reason}"
        self._event(ticket_id, EventKind.STATUS_CHANGED, summary, actor, public=True, value=status)

    def _queue_notice(
        self, notice: QueueNotice, ticket_id: int, msg: InboundMessage | None
    ) -> None:
        """Render a notice and put it in the outbox, recording its Message-ID for threading.
        Past ``FOLD_AFTER`` new-ticket notices to one engineer, the rest wait for
        ``finish`` to go out as one."""
        if notice.kind == NoticeKind.OWNER_ASSIGNED and ticket_id in self._handles.values():
            email = notice.recipient.email
            self._owner_notices[email] = self._owner_notices.get(email, 0) + 1
            if self._owner_notices[email] > FOLD_AFTER:
                self._folded.setdefault(email, []).append((notice, ticket_id))
                return
        self._render(notice, ticket_id, self._context(notice, ticket_id, msg))

    def _render(self, notice: QueueNotice, ticket_id: int, context: NoticeContext) -> None:
        assert self.build_notice is not None, "this writer was made without notices"
        mail = self.build_notice(notice, self._view(ticket_id), context)
        to_customer = notice.kind not in ENGINEER_NOTICES
        automatic = notice.kind not in ENGINEER_NOTICES | HUMAN_NOTICES
        self._queue_mail(mail, ticket_id, notice.kind.value, automatic, self.now())
        self._insert_message(
            {
                "ticket_id": ticket_id,
                "message_id": mail.message_id,
                "direction": "out",
                "inbound_id": None,
                "author": mail.sender,
                "subject": "",
                "body": "",
                "public": to_customer,
                "at": self.now(),
            }
        )

    def _queue_mail(
        self,
        mail: OutgoingMessage,
        ticket_id: int | None,
        kind: str,
        automatic: bool,
        now: datetime,
    ) -> None:
        """Put a rendered mail in the outbox (counted against its recipient's hourly cap
        when automatic)."""
        outbox_rows.queue(self.connection, mail, ticket_id, kind, automatic, now)
        known = self.cache.automatic.get(mail.recipients[0])
        if automatic and known is not None:
            known.append(now)

    def _view(self, ticket_id: int) -> TicketView:
        """The ticket as notices read it, followers included."""
        known = sorted(self._ticket_followers(ticket_id).items())
        view = ticket_view(self.ticket_row(ticket_id))
        return replace(view, followers=tuple(Address(email, name) for email, name in known))

    def _context(
        self, notice: QueueNotice, ticket_id: int, msg: InboundMessage | None
    ) -> NoticeContext:
        """What the notice may say besides the ticket: its thread, and for engineers the
        latest assignment's reason and the ticket's story."""
        to_customer = notice.kind not in ENGINEER_NOTICES
        thread = self._thread(ticket_id, customer=to_customer)
        if to_customer:
            files = self._files.get(ticket_id, ()) if notice.kind in HUMAN_NOTICES else ()
            told = notice.text if notice.kind == NoticeKind.STATUS_CHANGED else notice.new_status
            resolved = told == Status.RESOLVED.value
            fee = fee_ticket(self.connection, ticket_id) if resolved else None
            return NoticeContext(thread=thread, message=msg, attachments=files, fee=fee)
        reason = self._reasons.get(ticket_id)
        if reason is None:
            found = self.connection.execute(LAST_REASON, {"ticket_pk": ticket_id}).scalar()
            reason = self._reasons[ticket_id] = found or ""
        context = NoticeContext(thread=thread, reason=reason, message=msg)
        if notice.kind not in CONTEXT_NOTICES:
            return context
        if ticket_id in self._handles.values() and msg is not None:
            text = msg.new_text
            return replace(
                context, customer_text=text, original_text=text, attachments=msg.attachments
            )
        rows = self.connection.execute(SELECT_TEXTS, {"ticket_pk": ticket_id}).all()
        from_customers = [r.body for r in rows if r.direction == "in" and r.public]
        notes = tuple(r.body for r in rows if r.direction == "note")[-NOTES_KEPT:]
        return replace(
            context,
            customer_text=from_customers[-1] if from_customers else "",
            original_text=next((r.body for r in rows if r.direction == "in"), ""),
            notes=notes,
            attachments=self._files.get(ticket_id, ())
            if notice.kind != NoticeKind.OWNER_ASSIGNED
            else (),
        )

    def finish(self) -> None:
        """Write what was kept for the end of the transaction: folded owner notices, the
        round-robin pointer, the search documents and the published pages of the tickets
        that changed."""
        for folded in self._folded.values():
            first, ticket_id = folded[0]
            listed = tuple(
                (self.ticket_row(t)["tracking"], self.ticket_row(t)["subject"]) for _, t in folded
            )
            summary = replace(first, kind=NoticeKind.NEW_TICKETS)
            thread = self._thread(ticket_id, customer=False)
            self._render(summary, ticket_id, NoticeContext(thread=thread, folded=listed))
        self._folded.clear()
        self._owner_notices.clear()
        if self._round_robin is not None:
            put_value(self.connection, ROUND_ROBIN_KEY, self._round_robin)
            self._round_robin = None
        self._write_events()
        if self._processed:
            self.connection.execute(queue.UPDATE_INBOUND, self._processed)
            self._processed = []
        self.documents.flush(self.connection)
        if self.publish is not None and self.touched:
            self.publish(self.connection, self.touched)
        if self.touched - self._opened:
            report_cache.mark_stale(self.connection, self.touched - self._opened)
        self.touched = set()
        self._opened = set()

    def forget(self) -> None:
        """Drop every cache and the unwritten events (after a rolled-back savepoint)."""
        self._events = []
        self._tickets.clear()
        self._threads.clear()
        self._reasons.clear()
        self._handles.clear()
        self._preset.clear()
        self._followers.clear()
        self.cache.clear()

    # --- reads inside the write transaction --------------------------------------------

    def ticket(self, tracking: str) -> TicketView | None:
        return queries.ticket_by_tracking(self.connection, tracking)

    def stored_uids(
        self, mailbox: str | None, uidvalidity: int | None, uids: Sequence[int]
    ) -> set[int]:
        """Which of these IMAP UIDs are stored already."""
        return queue.stored_uids(self.connection, mailbox, uidvalidity, uids)

    def stored_under_other_uidvalidity(
        self,
        mailbox: str,
        uidvalidity: int,
        column: Literal["raw_sha256", "message_id"],
        values: Collection[str],
    ) -> set[str]:
        """Which raw digests or Message-IDs ``mailbox`` stored before its UIDs changed."""
        return queue.stored_under_other_uidvalidity(
            self.connection, mailbox, uidvalidity, column, values
        )

    def marked(self, key: str) -> str | None:
        return get_value(self.connection, key)

    def due_sla_clocks(self, now: datetime, limit: int) -> list[int]:
        return queries.due_sla_clocks(self.connection, now, limit)

    def locked_ticket(self, ticket_id: int) -> TicketView:
        """The ticket as committed now, locked until this transaction ends (so a reminder
        or breach is decided on its stored marks, once, even with several daemons)."""
        self._tickets.pop(ticket_id, None)
        row = self.connection.execute(LOCK_TICKET, {"ticket_pk": ticket_id}).mappings().one()
        self._tickets[ticket_id] = dict(row)
        return ticket_view(row)

    def due_auto_close(self, cutoff: datetime, limit: int) -> list[TicketView]:
        return queries.due_auto_close(self.connection, cutoff, limit)

    def due_waiting(
        self, remind_before: datetime | None, close_before: datetime | None, limit: int
    ) -> list[int]:
        return queries.due_waiting(self.connection, remind_before, close_before, limit)

    # --- the inbound queue -------------------------------------------------------------

    def store_raw(
        self,
        raw: RawMessage,
        *,
        mailbox: str | None = None,
        uidvalidity: int | None = None,
        processing: bool = False,
        message_id: str = "",
        packed: PackedRaw | None = None,
    ) -> int:
        """Keep a raw message: queued, or (``processing``) taken by this run right away
        (``packed``: its stored form, when computed already)."""
        attempts = 1 if processing else 0
        return queue.store_raw(
            self.connection, self.lookup, raw, mailbox, uidvalidity, attempts, message_id, packed
        )

    def note_message_id(self, inbound_id: int, message_id: str) -> None:
        """Record the Message-ID a queued message turned out to have."""
        queue.update_row(self.connection, inbound_id, message_id=message_id[:998])

    def claim(
        self, released: Sequence[int], limit: int, refund: Sequence[int] = ()
    ) -> list[queue.Claimed]:
        """Take the next batch to process (see ``store.inbound.claim``)."""
        return queue.claim(self.connection, released, limit, refund)

    def failed(self, inbound_id: int, attempts: int, reason: str) -> InboundState:
        """A message whose processing raised: retried later, or quarantined at the last."""
        state = queue.failed_state(attempts)
        queue.update_row(self.connection, inbound_id, state=state, reason=reason[:2000])
        return state

    def release(self, inbound_id: int) -> bool:
        """An operator lets a held or quarantined message through again; False if none."""
        if not queue.reviewable(self.connection, inbound_id):
            return False
        queue.update_row(self.connection, inbound_id, attempts=0)
        return True

    def drop(self, inbound_id: int) -> bool:
        """An operator discards a held or quarantined message (the row is kept as dropped)."""
        if not queue.reviewable(self.connection, inbound_id):
            return False
        queue.update_row(self.connection, inbound_id, state=InboundState.DROPPED)
        return True

    def save_position(self, mailbox: str, position: queue.Position) -> None:
        """The IMAP checkpoint, committed with the batch it covers."""
        queue.save_position(self.connection, mailbox, position, self.now())

    def mark(self, key: str, value: str) -> None:
        """A named mark (an IMAP batch in flight)."""
        put_value(self.connection, key, value)

    def unmark(self, key: str) -> None:
        drop_value(self.connection, key)

    # --- the search index -----------------------------------------------------------

    def refresh_reports(self, timezone: str) -> int:
        """Keep the report figures of stale and never-kept past days; how many were kept."""
        return report_cache.refresh(self.connection, timezone, self.now())

    def clear_search_index(self) -> None:
        """Empty the search index (a rebuild's first step, see ``store.search.clear``)."""
        self.documents.flush(self.connection)
        search.clear(self.connection)

    def index_stored(self, source: search.Source, after: int, limit: int) -> tuple[int, int | None]:
        """Index a batch of stored texts that have no document (``store.search.fill``)."""
        self.documents.flush(self.connection)
        return search.fill(self.connection, source, after, limit)

    def forget_search(
        self, *, ticket_ids: Collection[int] = (), message_ids: Collection[int] = ()
    ) -> int:
        """Delete the search documents of these tickets and messages (a purge)."""
        self.documents.flush(self.connection)
        return search.delete_documents(
            self.connection, ticket_ids=ticket_ids, message_ids=message_ids
        )

    def purge_requester(self, email: str, placeholder: str) -> purge.PurgeReport:
        """Erase one person's data everywhere (``store.purge``); their tickets' status
        pages are published again."""
        report = purge.purge_requester(self.connection, email, placeholder)
        self._followers.clear()
        self.touched |= report.tickets
        return report

    def apply_retention(self, policy: RetentionPolicy, limit: int) -> retention.Removed:
        """Remove up to ``limit`` raw mails and ``limit`` files past ``policy``."""
        return retention.remove_expired(self.connection, policy, self.now(), limit)

    # --- leadership --------------------------------------------------------------------

    def fence(self, term: int | None) -> None:
        """Go on only as the poller of ``term`` (else ``LostLeadership``, see
        ``store.leadership``)."""
        leadership.fence(self.connection, term)

    def begin_term(self, holder: str) -> int:
        """A new poller was elected: its term (held by ``holder``, ``host:pid``); the mail
        earlier pollers had claimed is theirs to send now."""
        term = leadership.begin_term(self.connection, holder, self.now())
        self.fold_sent()
        outbox_rows.release_claims(self.connection, holder)  # after the term row's lock
        return term

    # --- the outbox --------------------------------------------------------------------

    def claim_mail(
        self, claimer: str, *, after: int = 0, ignore_schedule: bool = False
    ) -> list[outbox_rows.QueuedMail]:
        """Take the next due mail for ``claimer`` to send (see ``store.outbox.claim_due``),
        after folding what the journal noted sent."""
        self.fold_sent()
        return outbox_rows.claim_due(
            self.connection, self.now(), claimer, after=after, ignore_schedule=ignore_schedule
        )

    def mail_unclaimed(self, items: Sequence[outbox_rows.QueuedMail]) -> None:
        """Claimed mail the flush did not try, pending again."""
        if items:
            outbox_rows.unclaim(self.connection, [item.id for item in items])

    def mail_sent(self, item: outbox_rows.QueuedMail) -> None:
        outbox_rows.mark_sent(self.connection, item.id, self.now())

    def fold_sent(self) -> None:
        """Mark sent the mail the journal noted since the last fold (SQLite; see
        ``store.sent_journal``); the notes are discarded once this transaction commits."""
        if self.journal is None:
            return
        noted = self.journal.read()
        outbox_rows.fold_sent(self.connection, noted.sent)
        self.journal_folded = noted

    def mail_deferred(
        self, item: outbox_rows.QueuedMail, error: str, *, backoff: bool = True
    ) -> None:
        """Not sent yet: retried later with the mail's own backoff (its 4xx), or, without
        ``backoff`` (the relay was unreachable), as soon as the relay answers again."""
        if backoff:
            outbox_rows.mark_retry(self.connection, item, error, self.now())
        else:
            outbox_rows.note_error(self.connection, item.id, error)

    def mail_failed(self, item: outbox_rows.QueuedMail, error: str) -> None:
        """Given up on (5xx): marked failed and recorded on its ticket."""
        outbox_rows.mark_failed(self.connection, item.id, error)
        if item.ticket_id is not None:
            failed = note(NoteKind.DELIVERY_FAILED, error)
            self._event(item.ticket_id, EventKind.DELIVERY_FAILED, failed, SYSTEM_ACTOR)
            self._write_events()

    # --- the staff workspace's sign-in and API tokens ----------------------------------

    def add_sign_in_link(
        self, digest: str, email: str, next_path: str, mail: OutgoingMessage
    ) -> None:
        """Keep a new sign-in link (its digest) and queue the mail that carries it."""
        now = self.now()
        staff_auth.add_link(self.connection, digest, email, next_path, now)
        kind = NoticeKind.SIGN_IN_LINK.value
        self._queue_mail(mail, None, kind, True, now)

    def spend_sign_in_link(self, digest: str) -> tuple[str, str] | str:
        """Use a link once: its engineer and next path, or why not (``LinkState``)."""
        return staff_auth.spend_link(self.connection, digest, self.now())

    def open_session(self, digest: str, email: str, hours: float) -> None:
        staff_auth.open_session(self.connection, digest, email, self.now(), hours)

    def end_session(self, digest: str) -> None:
        staff_auth.end_session(self.connection, digest, self.now())

    def add_api_token(self, digest: str, email: str) -> int:
        """Keep a new API token's digest; returns its id."""
        return staff_auth.add_token(self.connection, digest, email, self.now())

    def revoke_api_token(self, token_id: int) -> bool:
        """False when there is no such unrevoked token."""
        return staff_auth.revoke_token(self.connection, token_id, self.now())

    def api_token_used(self, token_id: int) -> None:
        staff_auth.touch_token(self.connection, token_id, self.now())

    # --- saved replies and availability (the workspace) --------------------------------

    def save_macro(self, macro: Macro, actor: str) -> None:
        """Create or replace a saved reply (checked by ``routing.macros.check_macro``)."""
        macro_rows.save(self.connection, macro, actor, self.now())

    def retire_macro(self, name: str, actor: str) -> bool:
        """False when no saved reply in use has that name."""
        return macro_rows.retire(self.connection, name, actor, self.now())

    def add_code(self, path: str, label_ko: str, label_en: str, actor: str) -> Reason | None:
        """Create a classification code (the workspace's form); why not, or None."""
        return code_rows.add_labelled(self.connection, path, label_ko, label_en, actor, self.now())

    def relabel_code(self, code_id: int, label_ko: str, label_en: str) -> None:
        code_rows.relabel(self.connection, code_id, label_ko, label_en)

    def move_code(self, code_id: int, parent_id: int | None) -> Reason | None:
        """Move a code (its descendants follow); why not, or None."""
        return code_rows.move_checked(self.connection, code_id, parent_id)

    def retire_code(self, code_id: int, retired: bool) -> Reason | None:
        """Retire a code and its descendants, or put it in use again; why not, or None."""
        return code_rows.set_retired(self.connection, code_id, retired, self.now())

    def set_availability(self, email: str, state: Availability, actor: str) -> None:
        """An engineer away (until ``state.back_at``) or on duty, from now on."""
        availability_rows.put(self.connection, email, state, actor, self.now())
        self.cache.availability = None

    # --- the managers' digest ----------------------------------------------------------

    def record_digest(self, period: DigestPeriod, mails: Sequence[OutgoingMessage]) -> bool:
        """Keep ``period`` as sent and queue its mails, in one transaction; False (nothing
        queued) when a digest for it was sent already."""
        now = self.now()
        if not digest_rows.record(self.connection, period, len(mails), now):
            return False
        for mail in mails:
            self._queue_mail(mail, None, DIGEST_KIND, True, now)
        return True
