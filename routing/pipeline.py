"""The message pipeline's decision table: read this file to know what any mail will do.

``route()`` classifies one parsed message (first matching row of ``CLASSIFY`` wins) and
returns a ``Decision``: the rules that fired and the effects the store must apply.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from ticketd.mail.message import Address, InboundMessage
from ticketd.routing import tracking
from ticketd.routing.assign import choose_owner
from ticketd.routing.auth import authenticate
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
    NoticeKind,
    OpenTicket,
    QueueNotice,
    RecordBounce,
    RecordDuplicate,
    Suppressed,
)
from ticketd.routing.engineer import plan_commands, rejected
from ticketd.routing.model import EngineerInfo, RoutingRuleSpec, Status, TicketRef
from ticketd.routing.ports import Clock, Lookup, Rng
from ticketd.routing.rules import Hit, automatic_hits

_HANGUL = re.compile(r"[\uac00-\ud7a3\u3131-\u318e]")
REOPENING_STATUSES = frozenset({Status.RESOLVED, Status.CLOSED, Status.WAITING})


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


@dataclass(frozen=True, slots=True)
class Facts:
    """What the lookups said about a message, gathered once and shared by the rows."""

    msg: InboundMessage
    ticket: TicketRef | None
    thread_hit: Hit | None
    automatic: tuple[Hit, ...]
    resent: TicketRef | None
    released: bool
    engineer: EngineerInfo | None
    envelope_to: tuple[str, ...]


def route(
    msg: InboundMessage,
    lookup: Lookup,
    ctx: RoutingContext,
    clock: Clock,
    rng: Rng,
    *,
    released: bool = False,
    envelope_to: tuple[str, ...] = (),
) -> Decision:
    """Classify ``msg`` and decide what to do. ``released``: an operator let it through;
    ``envelope_to``: the SMTP recipients, when known (signed reply addresses)."""
    if msg.from_addr is None:
        return Decision(Disposition.SHUNT, ("no-sender",), (Hold("no usable From address"),))
    if lookup.message_seen(msg.message_id):
        return Decision(Disposition.IGNORE, (f"seen-message-id: {msg.message_id}",), ())
    ticket, thread_hit = find_ticket(msg, lookup, ctx.tracking_prefix)
    automatic = () if released else automatic_hits(msg, ctx.support_address)
    resent = None
    if ticket is None and not automatic:
        resent = lookup.recent_claim(claim_fingerprint(msg), clock.now() - RESEND_WINDOW)
    sender = msg.from_addr.email
    engineer = next((e for e in ctx.engineers if e.email == sender), None)
    facts = Facts(msg, ticket, thread_hit, automatic, resent, released, engineer, envelope_to)
    for applies, handle in CLASSIFY:
        if applies(facts):
            return handle(facts, lookup, ctx, clock, rng)
    raise AssertionError("the last CLASSIFY row always applies")


def find_ticket(
    msg: InboundMessage, lookup: Lookup, prefix: str
) -> tuple[TicketRef | None, Hit | None]:
    """The ticket a message continues: tracking number in the Subject, then threading."""
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


def _bounce(facts: Facts, *_: object) -> Decision:
    hits = tuple(str(h) for h in facts.automatic)
    report = facts.msg.report
    assert report is not None
    if facts.ticket is None:
        return Decision(Disposition.HOLD, hits, (Hold("delivery report for an unknown message"),))
    summary = f"{report.action or 'failed'} {report.status} {', '.join(report.recipients)}".strip()
    hits = (*hits, str(facts.thread_hit))
    return Decision(Disposition.BOUNCE, hits, (RecordBounce(facts.ticket, summary),))


def _automatic(facts: Facts, *_: object) -> Decision:
    hits = tuple(str(h) for h in facts.automatic)
    if facts.ticket is None:
        reason = "automatic mail not about a ticket: " + "; ".join(hits)
        return Decision(Disposition.HOLD, hits, (Hold(reason),))
    effect = AppendMessage(facts.ticket, public=False, kind="automatic_message")
    return Decision(Disposition.AUTOMATIC, (*hits, str(facts.thread_hit)), (effect,))


def _engineer_mail(
    facts: Facts, lookup: Lookup, ctx: RoutingContext, clock: Clock, _: Rng
) -> Decision:
    ticket, engineer, msg = facts.ticket, facts.engineer, facts.msg
    assert ticket is not None and engineer is not None
    auth = authenticate(
        msg,
        engineer=engineer.email,
        tracking=ticket.tracking,
        trusted_authserv_ids=ctx.trusted_authserv_ids,
        support_address=ctx.support_address,
        secret=ctx.secret_key,
        today=int(clock.now().timestamp() // 86400),
        envelope_to=facts.envelope_to,
    )
    hits = (str(facts.thread_hit), f"engineer {engineer.email}", f"auth: {auth.reason}")
    if not auth.ok:
        return Decision(Disposition.COMMAND, hits, rejected(msg, ticket, engineer, auth.reason))
    block = parse_commands(msg.new_text)
    plan = plan_commands(block, engineer, ticket, ctx.engineers, lookup, ctx.tracking_prefix)
    report = "\n".join([*plan.done, *plan.refused]) or "(nothing to do)"
    effects: list[Effect] = [
        AppendMessage(ticket, public=False, kind="engineer_mail"),
        *plan.effects,
        QueueNotice(
            NoticeKind.COMMAND_RESULT,
            Address(engineer.email, engineer.name),
            ticket=ticket,
            text=report,
        ),
    ]
    return Decision(Disposition.COMMAND, hits, tuple(effects))


def _reply(facts: Facts, *_: object) -> Decision:
    ticket = facts.ticket
    assert ticket is not None
    effects: list[Effect] = [AppendMessage(ticket)]
    if ticket.status in REOPENING_STATUSES:
        effects.append(ChangeStatus(ticket, Status.OPEN, "customer replied"))
    return Decision(Disposition.REPLY, (str(facts.thread_hit),), tuple(effects))


def _resend(facts: Facts, *_: object) -> Decision:
    ticket = facts.resent
    assert ticket is not None
    hit = f"resent-claim: same sender, subject and body as {ticket.tracking} within 24 h"
    return Decision(Disposition.DUPLICATE, (hit,), (RecordDuplicate(ticket, hit),))


def _new(facts: Facts, lookup: Lookup, ctx: RoutingContext, clock: Clock, rng: Rng) -> Decision:
    msg = facts.msg
    assert msg.from_addr is not None
    language = detect_language(msg, ctx.default_language)
    number = tracking.generate(ctx.tracking_prefix, rng.token_bytes)
    assignment = choose_owner(
        msg, ctx.rules, ctx.engineers, lookup.open_load(), lookup.last_auto_assigned()
    )
    effects: list[Effect] = [
        OpenTicket(number, msg.from_addr, msg.subject, claim_fingerprint(msg), language),
        AppendMessage(None),
        AssignOwner(assignment.owner, assignment.reason),
    ]
    if facts.released:
        effects.append(Suppressed(NoticeKind.ACKNOWLEDGEMENT, msg.from_addr.email, "released"))
    else:
        effects.append(_rate_limited_ack(msg, lookup, ctx, clock, language))
    owner = next((e for e in ctx.engineers if e.email == assignment.owner), None)
    if owner is not None:
        effects.append(QueueNotice(NoticeKind.OWNER_ASSIGNED, _engineer_address(owner)))
    return Decision(Disposition.NEW, ("new-claim", f"assign: {assignment.reason}"), tuple(effects))


def _rate_limited_ack(
    msg: InboundMessage, lookup: Lookup, ctx: RoutingContext, clock: Clock, language: str
) -> Effect:
    assert msg.from_addr is not None
    since = clock.now() - timedelta(hours=1)
    if lookup.automatic_mails_since(msg.from_addr.email, since) >= ctx.autoreply_limit_per_hour:
        reason = f"more than {ctx.autoreply_limit_per_hour} automatic mails in an hour"
        return Suppressed(NoticeKind.ACKNOWLEDGEMENT, msg.from_addr.email, reason)
    return QueueNotice(NoticeKind.ACKNOWLEDGEMENT, msg.from_addr, language)


def _engineer_address(engineer: EngineerInfo) -> Address:
    return Address(engineer.email, engineer.name)


def detect_language(msg: InboundMessage, default: str) -> str:
    """Korean when the customer wrote Hangul, English when plain ASCII, else the default."""
    sample = f"{msg.subject}\n{msg.new_text[:2000]}"
    if _HANGUL.search(sample):
        return "ko"
    if sample.isascii():
        return "en"
    return default


Handler = Callable[[Facts, Lookup, RoutingContext, Clock, Rng], Decision]
Row = tuple[Callable[[Facts], bool], Handler]

CLASSIFY: tuple[Row, ...] = (
    (lambda f: f.msg.report is not None and bool(f.automatic), _bounce),
    (lambda f: bool(f.automatic), _automatic),
    (lambda f: f.ticket is not None and f.engineer is not None, _engineer_mail),
    (lambda f: f.ticket is not None, _reply),
    (lambda f: f.resent is not None, _resend),
    (lambda f: True, _new),
)
