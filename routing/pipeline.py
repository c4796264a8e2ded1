"""The message pipeline's decision table: read this file to know what any mail will do.

``route()`` looks at one parsed message and the stored state it refers to (``Facts``), takes
the first row of ``decision_table()`` whose condition holds, and returns that row's
``Decision``: the rules that fired (``hits``) and the effects the store applies in one
transaction. Conditions and handlers follow the table, in the table's order.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

from ticketd.mail.message import Address, InboundMessage
from ticketd.routing import tracking
from ticketd.routing.assign import choose_owner, on_duty
from ticketd.routing.auth import authenticate
from ticketd.routing.code_rules import CodeRule, code_rule_effects
from ticketd.routing.collision import held, reply_facts, what_is_new
from ticketd.routing.commands import parse_commands
from ticketd.routing.dedupe import RESEND_WINDOW, claim_fingerprint
from ticketd.routing.effects import (
    AppendMessage,
    AssignOwner,
    ChangeStatus,
    Decision,
    Disposition,
    Effect,
    Hold,
    HoldReply,
    NewTicket,
    NoticeKind,
    OpenTicket,
    QueueNotice,
    RecordBounce,
    RecordDuplicate,
    Suppressed,
)
from ticketd.routing.engineer import plan_commands, rejected
from ticketd.routing.event_notes import NoteKind, note
from ticketd.routing.limits import within_hourly_cap
from ticketd.routing.links import status_link
from ticketd.routing.model import (
    EngineerInfo,
    EventKind,
    Hit,
    Role,
    RoutingRuleSpec,
    Status,
    TicketRef,
)
from ticketd.routing.outcomes import StatusKind, StatusReason
from ticketd.routing.ports import Clock, Lookup, Rng
from ticketd.routing.rules import automatic_hits


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the decision table: when ``applies``, ``decide`` makes the decision."""

    name: str
    applies: Callable[[Facts], bool]
    decide: Callable[[Facts], Decision]


@functools.cache
def decision_table() -> tuple[Row, ...]:
    """The rows, in order; the first that applies decides."""
    return (
        # A From without exactly one usable address: nobody to answer; an operator looks.
        Row("no-sender", no_sender, hold_without_sender),
        # The same Message-ID was processed before (a re-fetch, a second copy): nothing.
        Row("seen-message-id", seen_message_id, ignore),
        # A delivery status notification: a bounce on the ticket of the original message.
        Row("delivery-report", delivery_report, record_bounce),
        # Auto-replies, bulk, lists, machines, our own echo: never answered, never a
        # ticket; recorded on the ticket they name, else held with the reasons.
        Row("automatic", automatic, record_automatic),
        # An engineer writing about a ticket: commands and a reply, once authenticated.
        Row("engineer-on-ticket", engineer_on_ticket, engineer_mail),
        # Someone who is neither the requester nor a follower writing about a ticket: kept
        # internal, the owner is told; the sender learns nothing about the ticket.
        Row("third-party-on-ticket", third_party_on_ticket, record_third_party),
        # The requester or a follower writing about a ticket: a customer message, mailed to
        # the owner (reopens the ticket if it was done).
        Row("reply-to-ticket", names_ticket, customer_reply),
        # The same claim (sender, subject, body) again within 24 h: a duplicate.
        Row("resent-claim", resent_claim, record_resend),
        # Everything else is a new claim: a ticket, an owner (or, with nobody on duty, the
        # managers told), its Cc as followers, an acknowledgement (none for old history).
        Row("new-claim", always, open_ticket),
    )


@dataclass(frozen=True, slots=True)
class RoutingContext:
    """Everything configured that routing depends on."""

    support_address: str
    tracking_prefix: str
    default_language: str
    engineers: tuple[EngineerInfo, ...]
    rules: tuple[RoutingRuleSpec, ...] = ()
    autoreply_limit_per_hour: int = 5
    trusted_authserv_ids: tuple[str, ...] = ()
    secret_key: str = ""
    acknowledge_max_age_hours: float = 72
    base_url: str = ""
    code_rules: tuple[CodeRule, ...] = ()


class Facts:
    """One message and what the lookups say about it, each asked at most once and only
    when a row needs it."""

    def __init__(
        self,
        msg: InboundMessage,
        lookup: Lookup,
        ctx: RoutingContext,
        clock: Clock,
        rng: Rng,
        *,
        released: bool,
        envelope_to: tuple[str, ...],
        arrived_at: datetime | None,
        authres_trusted: bool,
    ) -> None:
        self.msg = msg
        self.arrived_at = arrived_at
        self.lookup = lookup
        self.ctx = ctx
        self.clock = clock
        self.rng = rng
        self.released = released
        self.envelope_to = envelope_to
        self.authres_trusted = authres_trusted

    @cached_property
    def found(self) -> tuple[TicketRef | None, Hit | None]:
        """The ticket the message continues, and how it was recognised."""
        return find_ticket(self.msg, self.lookup, self.ctx.tracking_prefix)

    @property
    def ticket(self) -> TicketRef | None:
        return self.found[0]

    @property
    def thread_hit(self) -> tuple[Hit, ...]:
        hit = self.found[1]
        return (hit,) if hit else ()

    @cached_property
    def automatic(self) -> tuple[Hit, ...]:
        """Why this message must never be answered (nothing when an operator released it)."""
        return () if self.released else automatic_hits(self.msg, self.ctx.support_address)

    @cached_property
    def engineer(self) -> EngineerInfo | None:
        sender = self.msg.from_addr.email if self.msg.from_addr else None
        return next((e for e in self.ctx.engineers if e.email == sender), None)

    @cached_property
    def resent(self) -> TicketRef | None:
        """The ticket the same claim opened within the resend window."""
        since = self.clock.now() - RESEND_WINDOW
        return self.lookup.recent_claim(claim_fingerprint(self.msg), since)


def route(
    msg: InboundMessage,
    lookup: Lookup,
    ctx: RoutingContext,
    clock: Clock,
    rng: Rng,
    *,
    released: bool = False,
    envelope_to: tuple[str, ...] = (),
    arrived_at: datetime | None = None,
    authres_trusted: bool = True,
) -> Decision:
    """Decide what to do with ``msg``. ``released``: an operator let it through;
    ``envelope_to``: the SMTP recipients, when known (signed reply addresses);
    ``arrived_at``: when the mail reached us (IMAP INTERNALDATE, the topmost Received);
    ``authres_trusted``: whether a trusted server can have written its
    Authentication-Results (not when a client handed it straight to the listener)."""
    facts = Facts(
        msg,
        lookup,
        ctx,
        clock,
        rng,
        released=released,
        envelope_to=envelope_to,
        arrived_at=arrived_at,
        authres_trusted=authres_trusted,
    )
    for row in decision_table():
        if row.applies(facts):
            return row.decide(facts)
    raise AssertionError("the last row always applies")


def find_ticket(
    msg: InboundMessage, lookup: Lookup, prefix: str
) -> tuple[TicketRef | None, Hit | None]:
    """The ticket a message continues: tracking number in the Subject, then threading,
    then (for a delivery report) the original message."""
    number = tracking.find_in_subject(msg.subject, prefix)
    if number:
        ticket = lookup.ticket_by_tracking(number)
        if ticket:
            return ticket, Hit("tracking-in-subject", number)
    ids = (*msg.in_reply_to, *reversed(msg.references))
    if ids:
        ticket = lookup.ticket_by_message_ids(ids)
        if ticket:
            return ticket, Hit("thread-reference", ticket.tracking)
    if msg.report and msg.report.original_message_id:
        ticket = lookup.ticket_by_message_ids((msg.report.original_message_id,))
        if ticket:
            return ticket, Hit("bounce-reference", ticket.tracking)
    return None, None


# --- no-sender ------------------------------------------------------------------------


def no_sender(facts: Facts) -> bool:
    return facts.msg.from_addr is None


def hold_without_sender(facts: Facts) -> Decision:
    problem = facts.msg.from_problem
    reason = f"no usable From address: {problem}" if problem else "no usable From address"
    return Decision(Disposition.SHUNT, (Hit("no-sender", reason),), (Hold(reason),))


# --- seen-message-id ------------------------------------------------------------------


def seen_message_id(facts: Facts) -> bool:
    return facts.lookup.message_seen(facts.msg.message_id)


def ignore(facts: Facts) -> Decision:
    return Decision(Disposition.IGNORE, (Hit("seen-message-id", facts.msg.message_id),), ())


# --- delivery-report ------------------------------------------------------------------


def delivery_report(facts: Facts) -> bool:
    return facts.msg.report is not None and bool(facts.automatic)


def record_bounce(facts: Facts) -> Decision:
    report = facts.msg.report
    assert report is not None
    if facts.ticket is None:
        reason = "delivery report for an unknown message"
        return Decision(Disposition.HOLD, facts.automatic, (Hold(reason),))
    recipients = ", ".join(report.recipients)
    summary = note(NoteKind.BOUNCE, report.action or "failed", report.status, recipients)
    hits = (*facts.automatic, *facts.thread_hit)
    return Decision(Disposition.BOUNCE, hits, (RecordBounce(facts.ticket, summary),))


# --- automatic ------------------------------------------------------------------------


def automatic(facts: Facts) -> bool:
    return bool(facts.automatic)


def record_automatic(facts: Facts) -> Decision:
    if facts.ticket is None:
        reason = "automatic mail not about a ticket: " + "; ".join(map(str, facts.automatic))
        return Decision(Disposition.HOLD, facts.automatic, (Hold(reason),))
    effect = AppendMessage(facts.ticket, public=False, kind=EventKind.AUTOMATIC_MESSAGE)
    return Decision(Disposition.AUTOMATIC, (*facts.automatic, *facts.thread_hit), (effect,))


# --- engineer-on-ticket ---------------------------------------------------------------


def engineer_on_ticket(facts: Facts) -> bool:
    return facts.ticket is not None and facts.engineer is not None


def engineer_mail(facts: Facts) -> Decision:
    ticket, engineer, msg, ctx = facts.ticket, facts.engineer, facts.msg, facts.ctx
    assert ticket is not None and engineer is not None
    auth = authenticate(
        msg,
        engineer=engineer.email,
        tracking=ticket.tracking,
        trusted_authserv_ids=ctx.trusted_authserv_ids,
        support_address=ctx.support_address,
        secret=ctx.secret_key,
        today=int(facts.clock.now().timestamp() // 86400),
        envelope_to=facts.envelope_to,
        authres_trusted=facts.authres_trusted,
    )
    hits = (*facts.thread_hit, Hit("engineer", engineer.email), Hit("auth", auth.reason))
    if not auth.ok:
        return Decision(Disposition.COMMAND, hits, rejected(msg, ticket, engineer, auth))
    block = parse_commands(msg.new_text)
    facts_of_reply = reply_facts(block, _news_since_notice(facts, engineer, ticket))
    if held(facts_of_reply):
        return Decision(
            Disposition.COMMAND,
            (*hits, Hit("collision", "the ticket changed since the notice answered")),
            _hold_reply(ticket, engineer, block.reply, facts_of_reply.news),
        )
    plan = plan_commands(
        block,
        engineer,
        ticket,
        ctx.engineers,
        facts.lookup,
        ctx.tracking_prefix,
        msg.attachments,
        status_link=status_link(ctx.base_url, ctx.secret_key, ticket.tracking),
    )
    report = (*plan.done, *plan.refused)
    effects: list[Effect] = [
        AppendMessage(ticket, public=False, kind=EventKind.ENGINEER_MAIL),
        *plan.effects,
        QueueNotice(
            NoticeKind.COMMAND_RESULT,
            Address(engineer.email, engineer.name),
            ticket,
            outcomes=report,
        ),
    ]
    return Decision(Disposition.COMMAND, hits, tuple(effects))


def _news_since_notice(facts: Facts, engineer: EngineerInfo, ticket: TicketRef) -> tuple[str, ...]:
    """What was recorded on the ticket since the notice of ours the mail answers."""
    if not facts.msg.in_reply_to and not facts.msg.references:
        return ()
    ids = (*facts.msg.in_reply_to, *reversed(facts.msg.references))
    queued = facts.lookup.notice_queued_at(ids, engineer.email)
    return facts.lookup.public_since(ticket.id, queued) if queued else ()


def _hold_reply(
    ticket: TicketRef, engineer: EngineerInfo, text: str, news: tuple[str, ...]
) -> tuple[Effect, ...]:
    summary = note(NoteKind.HELD, len(news))
    return (
        AppendMessage(ticket, public=False, kind=EventKind.ENGINEER_MAIL),
        HoldReply(ticket, text, engineer.email, summary),
        QueueNotice(
            NoticeKind.REPLY_HELD,
            Address(engineer.email, engineer.name),
            ticket,
            text=what_is_new(news),
        ),
    )


# --- third-party-on-ticket ------------------------------------------------------------


def third_party_on_ticket(facts: Facts) -> bool:
    sender = facts.msg.from_addr
    return (
        facts.ticket is not None and sender is not None and not facts.ticket.may_write(sender.email)
    )


def record_third_party(facts: Facts) -> Decision:
    ticket, sender = facts.ticket, facts.msg.from_addr
    assert ticket is not None and sender is not None
    effects: list[Effect] = [
        AppendMessage(ticket, public=False, kind=EventKind.THIRD_PARTY_MESSAGE),
        *_tell_owner(NoticeKind.THIRD_PARTY_WROTE, ticket, facts.ctx),
    ]
    hits = (*facts.thread_hit, Hit("third-party", sender.email))
    return Decision(Disposition.REPLY, hits, tuple(effects))


def _tell_owner(kind: NoticeKind, ticket: TicketRef, ctx: RoutingContext) -> list[Effect]:
    """A notice to the ticket's owner, or to every manager while it has none."""
    owner = [e for e in ctx.engineers if e.email == ticket.owner]
    told = owner or [e for e in ctx.engineers if e.role == Role.MANAGER]
    return [QueueNotice(kind, Address(e.email, e.name), ticket) for e in told]


# --- reply-to-ticket ------------------------------------------------------------------

REOPENING_STATUSES = frozenset({Status.RESOLVED, Status.CLOSED, Status.WAITING})


def names_ticket(facts: Facts) -> bool:
    return facts.ticket is not None


def customer_reply(facts: Facts) -> Decision:
    ticket = facts.ticket
    assert ticket is not None
    effects: list[Effect] = [AppendMessage(ticket)]
    if ticket.status in REOPENING_STATUSES:
        replied = str(StatusReason(StatusKind.CUSTOMER_REPLIED))
        effects.append(ChangeStatus(ticket, Status.OPEN, replied))
    effects += _tell_owner(NoticeKind.CUSTOMER_WROTE, ticket, facts.ctx)
    return Decision(Disposition.REPLY, facts.thread_hit, tuple(effects))


# --- resent-claim ---------------------------------------------------------------------


def resent_claim(facts: Facts) -> bool:
    return facts.resent is not None


def record_resend(facts: Facts) -> Decision:
    ticket = facts.resent
    assert ticket is not None
    reason = f"same sender, subject and body as {ticket.tracking} within 24 h"
    hit = Hit("resent-claim", reason)
    recorded = RecordDuplicate(ticket, note(NoteKind.RESENT, ticket.tracking))
    return Decision(Disposition.DUPLICATE, (hit,), (recorded,))


# --- new-claim ------------------------------------------------------------------------

_HANGUL = re.compile(r"[\uac00-\ud7a3\u3131-\u318e]")
MAX_FOLLOWERS = 20


def always(facts: Facts) -> bool:
    return True


def open_ticket(facts: Facts) -> Decision:
    msg, ctx, lookup = facts.msg, facts.ctx, facts.lookup
    assert msg.from_addr is not None
    language = detect_language(msg, ctx.default_language)
    new = NewTicket(tracking.generate(ctx.tracking_prefix, facts.rng.token_bytes))
    engineers = on_duty(ctx.engineers, lookup.availability(), facts.clock.now())
    assignment = choose_owner(
        msg, ctx.rules, engineers, lookup.open_load(), lookup.last_auto_assigned()
    )
    followers = _followers(msg, ctx)
    effects: list[Effect] = [
        OpenTicket(
            new,
            msg.from_addr,
            msg.subject,
            claim_fingerprint(msg),
            language,
            followers=followers,
        ),
        AppendMessage(new),
        AssignOwner(new, assignment.owner, str(assignment.reason)),
        _acknowledgement(facts, new, language),
    ]
    owner = next((e for e in ctx.engineers if e.email == assignment.owner), None)
    if owner is not None:
        owner_address = Address(owner.email, owner.name)
        effects.append(QueueNotice(NoticeKind.OWNER_ASSIGNED, owner_address, new))
    else:
        managers = [e for e in ctx.engineers if e.role == Role.MANAGER]
        effects += [
            QueueNotice(NoticeKind.UNOWNED, Address(m.email, m.name), new) for m in managers
        ]
    if ctx.code_rules:
        effects += code_rule_effects(msg, ctx.code_rules, lookup.codes(), new)
    hits = (Hit("new-claim"), Hit("assign", str(assignment.reason)))
    return Decision(Disposition.NEW, hits, tuple(effects))


def _acknowledgement(facts: Facts, new: NewTicket, language: str) -> QueueNotice | Suppressed:
    """The acknowledgement, unless an operator released the mail, it is old history, or the
    requester had their hourly share of automatic mail."""
    msg, ctx, now = facts.msg, facts.ctx, facts.clock.now()
    assert msg.from_addr is not None
    ack = QueueNotice(NoticeKind.ACKNOWLEDGEMENT, msg.from_addr, new, language)
    if facts.released:
        released = note(NoteKind.SUPPRESSED_RELEASED, ack.kind, msg.from_addr.email)
        return Suppressed(new, ack.kind, msg.from_addr.email, released)
    arrived = facts.arrived_at
    max_age = timedelta(hours=ctx.acknowledge_max_age_hours)
    if arrived is not None and now - arrived > max_age:
        age = (now - arrived).total_seconds() / 3600
        most = f"{ctx.acknowledge_max_age_hours:g}"
        recipient = msg.from_addr.email
        reason = note(NoteKind.SUPPRESSED_HISTORY, ack.kind, f"{age:.0f}", most, recipient)
        return Suppressed(new, ack.kind, msg.from_addr.email, reason)
    return within_hourly_cap(ack, facts.lookup, ctx.autoreply_limit_per_hour, now)


def _followers(msg: InboundMessage, ctx: RoutingContext) -> tuple[Address, ...]:
    """The claim's Cc: everyone but the support address, engineers and the requester."""
    assert msg.from_addr is not None
    engineers = {e.email for e in ctx.engineers}
    support_local, _, support_domain = ctx.support_address.lower().rpartition("@")
    kept: dict[str, Address] = {}
    for address in msg.cc:
        local, _, domain = address.email.rpartition("@")
        ours = domain == support_domain and local.split("+")[0] == support_local
        if ours or address.email in engineers or address.email == msg.from_addr.email:
            continue
        kept.setdefault(address.email, address)
    return tuple(kept.values())[:MAX_FOLLOWERS]


def detect_language(msg: InboundMessage, default: str) -> str:
    """Korean when the customer wrote Hangul, English when plain ASCII, else the default."""
    sample = f"{msg.subject}\n{msg.new_text[:2000]}"
    if _HANGUL.search(sample):
        return "ko"
    if sample.isascii():
        return "en"
    return default
