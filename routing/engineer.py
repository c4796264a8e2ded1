"""What an engineer's mail about a ticket does: authenticate, check permissions and guards,
turn each command line into effects, and report every line's outcome back.

Default permissions: managers may do everything. Agents act on tickets they own or that
are unowned, may ``#assign`` their own tickets away, and may neither ``#merge`` nor
reopen a closed ticket.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ticketd.mail.message import Address, Attachment, InboundMessage
from ticketd.routing import tracking
from ticketd.routing.auth import AuthResult
from ticketd.routing.code_commands import plan_code
from ticketd.routing.commands import Command, CommandBlock, CommandName
from ticketd.routing.effects import (
    AddFollower,
    AddNote,
    AddTime,
    AppendMessage,
    AssignOwner,
    ChangeStatus,
    Effect,
    MergeInto,
    NoticeKind,
    PublicReply,
    QueueNotice,
    RejectCommand,
    RemoveFollower,
    SetBillable,
    SetPriority,
    SetType,
)
from ticketd.routing.macros import Expanded, expand, placeholder_values, uses_macros
from ticketd.routing.model import EngineerInfo, EventKind, Priority, Role, Status, TicketRef
from ticketd.routing.outcomes import (
    AssignKind,
    AssignReason,
    Outcome,
    OutcomeCode,
    Reason,
    StatusKind,
    StatusReason,
    Verdict,
    store_reasons,
)
from ticketd.routing.ports import Lookup

CUSTOMER_TOLD = frozenset({Status.WAITING, Status.RESOLVED, Status.CLOSED})
SHORTHANDS = {
    CommandName.CLOSE: Status.CLOSED,
    CommandName.RESOLVE: Status.RESOLVED,
    CommandName.REOPEN: Status.OPEN,
}


@dataclass
class Plan:
    """Effects to apply and the report lines for the engineer."""

    effects: list[Effect] = field(default_factory=list)
    done: list[Outcome] = field(default_factory=list)
    refused: list[Outcome] = field(default_factory=list)

    def refuse(self, line: str, reason: Reason, verdict: Verdict = Verdict.REFUSED) -> None:
        self.refused.append(Outcome(line, verdict, reason))

    def did(self, line: str, code: OutcomeCode = OutcomeCode.APPLIED) -> None:
        self.done.append(Outcome(line, Verdict.DONE, Reason(code)))


def find_engineer(engineers: Sequence[EngineerInfo], who: str) -> EngineerInfo | None:
    """An engineer by address or (case-insensitive) name."""
    wanted = who.strip().strip("<>").casefold()
    for engineer in engineers:
        if wanted in (engineer.email.casefold(), engineer.name.casefold()):
            return engineer
    return None


def rejected(
    msg: InboundMessage, ticket: TicketRef, sender: EngineerInfo, auth: AuthResult
) -> tuple[Effect, ...]:
    """An unauthenticated mail from an engineer's address: kept as an internal message
    (never shown to the customer), recorded as ``command_rejected``, and the configured
    address (not the sender path) is told."""
    return (
        AppendMessage(ticket, public=False, kind=EventKind.ENGINEER_MAIL),
        RejectCommand(ticket, store_reasons(auth.why), sender.email),
        QueueNotice(
            NoticeKind.COMMAND_REJECTED,
            Address(sender.email, sender.name),
            ticket,
            text=msg.subject,
            reasons=auth.why,
        ),
    )


def plan_commands(
    block: CommandBlock,
    actor: EngineerInfo,
    ticket: TicketRef,
    engineers: Sequence[EngineerInfo],
    lookup: Lookup,
    prefix: str,
    attachments: tuple[Attachment, ...] = (),
    *,
    status_link: str = "",
) -> Plan:
    """Effects of an authenticated engineer's mail (``attachments`` go with a public
    reply; ``status_link`` fills a saved reply's ``{status_link}``); nothing at all if a
    guard fails or a saved reply is unknown."""
    plan = Plan()
    for line in block.refused:
        plan.refuse(line.line, line.reason)
    expanded = with_macros(block, actor, ticket, engineers, lookup, status_link)
    block = expanded.block
    guard_failure = expanded.problem or _failed_guard(block.commands, ticket, engineers)
    if guard_failure:
        for command in block.commands:
            plan.refuse(command.line, guard_failure, Verdict.NOT_APPLIED)
        if block.reply:
            plan.refuse("", guard_failure, Verdict.NOT_SENT)
        return plan
    for command in block.commands:
        _one(command, actor, ticket, engineers, lookup, prefix, plan)
    _reply_or_note(block, actor, ticket, plan, attachments)
    return plan


def with_macros(
    block: CommandBlock,
    actor: EngineerInfo,
    ticket: TicketRef,
    engineers: Sequence[EngineerInfo],
    lookup: Lookup,
    status_link: str,
) -> Expanded:
    """The mail with its ``#macro`` lines expanded (``routing.macros``); ``{owner_name}``
    is the owner once the mail's commands (the macros' included) are applied."""
    if not uses_macros(block):
        return Expanded(block)

    def values(commands: Sequence[Command]) -> dict[str, str]:
        owner = ticket.owner
        for command in commands:
            if command.name == CommandName.ASSIGN:
                target = find_engineer(engineers, command.argument)
                owner = target.email if target else owner
            elif command.name == CommandName.TAKE and owner is None:
                owner = actor.email
        owner_name = next((e.name for e in engineers if e.email == owner), "")
        customer = ticket.requester_name or ticket.requester
        return placeholder_values(customer, ticket.tracking, owner_name, status_link)

    return expand(block, lookup.macros(), ticket.language, values)


def _failed_guard(
    commands: Sequence[Command], ticket: TicketRef, engineers: Sequence[EngineerInfo]
) -> Reason | None:
    for command in commands:
        if command.name == CommandName.IF_OWNER:
            wanted = find_engineer(engineers, command.argument)
            email = wanted.email if wanted else command.argument.lower()
            if ticket.owner is None:
                return Reason.of(OutcomeCode.OWNER_GONE, wanted=email)
            if ticket.owner != email:
                return Reason.of(OutcomeCode.OWNER_CHANGED, owner=ticket.owner, wanted=email)
        if command.name == CommandName.IF_STATUS and ticket.status.value != command.argument:
            status, expected = ticket.status.value, command.argument
            return Reason.of(OutcomeCode.STATUS_CHANGED, status=status, wanted=expected)
    return None


def may_act(actor: EngineerInfo, ticket: TicketRef) -> Reason | None:
    """Why ``actor`` may not change ``ticket`` (None: they may)."""
    if actor.role == Role.MANAGER or ticket.owner in (None, actor.email):
        return None
    return Reason.of(OutcomeCode.NOT_YOURS, owner=ticket.owner or "")


def _one(
    command: Command,
    actor: EngineerInfo,
    ticket: TicketRef,
    engineers: Sequence[EngineerInfo],
    lookup: Lookup,
    prefix: str,
    plan: Plan,
) -> None:
    name, line = command.name, command.line
    if name in (CommandName.IF_OWNER, CommandName.IF_STATUS):
        plan.did(line, OutcomeCode.GUARD_HOLDS)
        return
    if name == CommandName.SEND:
        plan.did(line, OutcomeCode.SEND_ANYWAY)
        return
    if name == CommandName.HELP:
        plan.effects.append(QueueNotice(NoticeKind.HELP, Address(actor.email, actor.name), ticket))
        plan.did(line, OutcomeCode.HELP_SENT)
        return
    if name == CommandName.TAKE:
        if ticket.owner not in (None, actor.email):
            plan.refuse(line, Reason.of(OutcomeCode.ALREADY_OWNED, owner=ticket.owner or ""))
            return
        taken = str(AssignReason(AssignKind.TAKEN))
        plan.effects.append(
            AssignOwner(ticket, actor.email, taken, actor.email, only_if_unowned=True)
        )
        plan.did(line)
        return
    denied = may_act(actor, ticket)
    if denied:
        plan.refuse(line, denied)
        return
    match name:
        case CommandName.ASSIGN:
            target = find_engineer(engineers, command.argument)
            if target is None:
                plan.refuse(line, Reason.of(OutcomeCode.NO_SUCH_ENGINEER, name=command.argument))
                return
            by = str(AssignReason(AssignKind.ASSIGNED_BY, name=actor.email))
            plan.effects.append(AssignOwner(ticket, target.email, by, actor.email))
            plan.effects.append(
                QueueNotice(NoticeKind.OWNER_ASSIGNED, Address(target.email, target.name), ticket)
            )
        case CommandName.STATUS | CommandName.CLOSE | CommandName.RESOLVE | CommandName.REOPEN:
            status = SHORTHANDS.get(name) or Status(command.argument)
            if (
                ticket.status == Status.CLOSED
                and status != Status.CLOSED
                and (actor.role != Role.MANAGER)
            ):
                plan.refuse(line, Reason(OutcomeCode.MANAGER_REOPENS))
                return
            by = str(StatusReason(StatusKind.BY, actor.email))
            plan.effects.append(ChangeStatus(ticket, status, by, actor.email))
            if status in CUSTOMER_TOLD and status != ticket.status:
                plan.effects.append(
                    QueueNotice(
                        NoticeKind.STATUS_CHANGED,
                        Address(ticket.requester),
                        ticket,
                        text=status.value,
                    )
                )
        case CommandName.PRIORITY:
            plan.effects.append(SetPriority(ticket, Priority(command.argument), actor.email))
        case CommandName.TYPE:
            plan.effects.append(SetType(ticket, command.argument, actor.email))
        case CommandName.TIME:
            plan.effects.append(AddTime(ticket, int(command.argument), actor.email))
        case CommandName.BILLABLE:
            plan.effects.append(SetBillable(ticket, command.argument == "yes", actor.email))
        case CommandName.MERGE:
            if actor.role != Role.MANAGER:
                plan.refuse(line, Reason(OutcomeCode.MANAGER_MERGES))
                return
            number = tracking.parse(command.argument, prefix)
            other = lookup.ticket_by_tracking(number) if number else None
            if other is None or other.id == ticket.id:
                plan.refuse(line, Reason.of(OutcomeCode.NO_OTHER_TICKET, number=command.argument))
                return
            plan.effects.append(MergeInto(ticket, other, actor.email))
            plan.effects.append(
                QueueNotice(
                    NoticeKind.MERGED,
                    Address(ticket.requester),
                    ticket,
                    text=other.tracking,
                )
            )
        case CommandName.CC:
            verb, _, email = command.argument.partition(" ")
            if verb == "add" and any(e.email == email for e in engineers):
                plan.refuse(line, Reason.of(OutcomeCode.CC_ENGINEER, email=email))
                return
            if verb == "add":
                plan.effects.append(AddFollower(ticket, Address(email), actor.email))
            else:
                plan.effects.append(RemoveFollower(ticket, email, actor.email))
        case CommandName.CODE:
            outcome = plan_code(command.argument, actor, ticket, lookup, plan.effects)
            if outcome.refused is not None:
                plan.refuse(line, outcome.refused)
                return
            plan.effects.extend(outcome.effects)
            plan.done.append(Outcome(line, Verdict.DONE, outcome.done))
            return
    plan.did(line)


def _reply_or_note(
    block: CommandBlock,
    actor: EngineerInfo,
    ticket: TicketRef,
    plan: Plan,
    attachments: tuple[Attachment, ...],
) -> None:
    text = block.reply.strip()
    if not text:
        return
    if block.note:
        plan.effects.append(AddNote(ticket, text, actor.email))
        plan.did("", OutcomeCode.NOTE_RECORDED)
        return
    denied = may_act(actor, ticket)
    if denied:
        plan.refuse("", denied, Verdict.NOT_SENT)
        return
    plan.effects.append(PublicReply(ticket, text, actor.email, attachments))
    told = _status_notices(plan)
    new_status = told[-1].text if told else ""
    plan.effects = [effect for effect in plan.effects if effect not in told]
    plan.effects.append(
        QueueNotice(
            NoticeKind.PUBLIC_REPLY,
            Address(ticket.requester),
            ticket,
            text=text,
            new_status=new_status,
        )
    )
    plan.did("", OutcomeCode.REPLY_SENT)


def _status_notices(plan: Plan) -> list[QueueNotice]:
    """The customer's status mail planned so far: a public reply in the same mail says the
    new status itself, so the customer gets one mail per engineer action."""
    return [
        effect
        for effect in plan.effects
        if isinstance(effect, QueueNotice) and effect.kind == NoticeKind.STATUS_CHANGED
    ]
