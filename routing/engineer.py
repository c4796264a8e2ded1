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
from ticketd.routing.code_commands import plan_code
from ticketd.routing.commands import HELP_TEXT, Command, CommandBlock, CommandName
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
    done: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def refuse(self, line: str, reason: str) -> None:
        self.refused.append(f"{line}  -- refused: {reason}")


def find_engineer(engineers: Sequence[EngineerInfo], who: str) -> EngineerInfo | None:
    """An engineer by address or (case-insensitive) name."""
    wanted = who.strip().strip("<>").casefold()
    for engineer in engineers:
        if wanted in (engineer.email.casefold(), engineer.name.casefold()):
            return engineer
    return None


def rejected(
    msg: InboundMessage, ticket: TicketRef, sender: EngineerInfo, reason: str
) -> tuple[Effect, ...]:
    """An unauthenticated mail from an engineer's address: kept as an internal message
    (never shown to the customer), recorded as ``command_rejected``, and the configured
    address (not the sender path) is told."""
    return (
        AppendMessage(ticket, public=False, kind=EventKind.ENGINEER_MAIL),
        RejectCommand(ticket, reason, sender.email),
        QueueNotice(
            NoticeKind.COMMAND_REJECTED,
            Address(sender.email, sender.name),
            ticket,
            text=f"{reason}\nSubject: {msg.subject}",
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
        plan.refused.extend(f"{c.line}  -- not applied: {guard_failure}" for c in block.commands)
        if block.reply:
            plan.refused.append(f"(reply text)  -- not sent: {guard_failure}")
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
) -> str | None:
    for command in commands:
        if command.name == CommandName.IF_OWNER:
            wanted = find_engineer(engineers, command.argument)
            email = wanted.email if wanted else command.argument.lower()
            if ticket.owner != email:
                return f"the owner is now {ticket.owner or 'nobody'}, not {email}"
        if command.name == CommandName.IF_STATUS and ticket.status.value != command.argument:
            return f"the status is now {ticket.status.value}, not {command.argument}"
    return None


def may_act(actor: EngineerInfo, ticket: TicketRef) -> str | None:
    """Why ``actor`` may not change ``ticket`` (None: they may)."""
    if actor.role == Role.MANAGER or ticket.owner in (None, actor.email):
        return None
    return f"the ticket belongs to {ticket.owner}; agents act only on their own tickets"


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
        plan.done.append(f"{line}  -- holds")
        return
    if name == CommandName.SEND:
        plan.done.append(f"{line}  -- sent even if the ticket changed")
        return
    if name == CommandName.HELP:
        plan.effects.append(
            QueueNotice(NoticeKind.HELP, Address(actor.email, actor.name), ticket, text=HELP_TEXT)
        )
        plan.done.append(f"{line}  -- command list sent")
        return
    if name == CommandName.TAKE:
        if ticket.owner not in (None, actor.email):
            plan.refuse(line, f"{ticket.owner} already has it")
            return
        plan.effects.append(
            AssignOwner(ticket, actor.email, "#take", actor.email, only_if_unowned=True)
        )
        plan.done.append(line)
        return
    denied = may_act(actor, ticket)
    if denied:
        plan.refuse(line, denied)
        return
    match name:
        case CommandName.ASSIGN:
            target = find_engineer(engineers, command.argument)
            if target is None:
                plan.refuse(line, f"no engineer called {command.argument!r}")
                return
            plan.effects.append(
                AssignOwner(ticket, target.email, f"assigned by {actor.email}", actor.email)
            )
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
                plan.refuse(line, "only a manager may reopen a closed ticket")
                return
            plan.effects.append(ChangeStatus(ticket, status, f"by {actor.email}", actor.email))
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
                plan.refuse(line, "only a manager may merge tickets")
                return
            number = tracking.parse(command.argument, prefix)
            other = lookup.ticket_by_tracking(number) if number else None
            if other is None or other.id == ticket.id:
                plan.refuse(line, f"no other ticket {command.argument!r}")
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
                plan.refuse(
                    line, f"{email} is an engineer; engineers follow tickets by owning them"
                )
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
            plan.done.append(f"{line}  -- {outcome.done}")
            return
        case CommandName.NOTE:
            plan.done.append(line)
            return
    plan.done.append(line)


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
        plan.done.append("(internal note recorded)")
        return
    denied = may_act(actor, ticket)
    if denied:
        plan.refused.append(f"(reply text)  -- not sent: {denied}")
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
    plan.done.append("(reply sent to the customer)")


def _status_notices(plan: Plan) -> list[QueueNotice]:
    """The customer's status mail planned so far: a public reply in the same mail says the
    new status itself, so the customer gets one mail per engineer action."""
    return [
        effect
        for effect in plan.effects
        if isinstance(effect, QueueNotice) and effect.kind == NoticeKind.STATUS_CHANGED
    ]
