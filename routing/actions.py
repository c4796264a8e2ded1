"""An engineer acting from the workspace: the same command lines and text as a mail,
parsed and planned by the mail's own parser and planner (one code path)."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from ticketd.mail.message import Attachment
from ticketd.routing.commands import (
    Command,
    CommandBlock,
    CommandName,
    RefusedLine,
    parse_commands,
)
from ticketd.routing.effects import Effect
from ticketd.routing.engineer import may_act, plan_commands
from ticketd.routing.model import EngineerInfo, TicketRef
from ticketd.routing.outcomes import Outcome, OutcomeCode, Reason
from ticketd.routing.ports import Lookup

MAX_LINES = 50
MAX_TEXT = 100 * 1024


@dataclass(frozen=True, slots=True)
class ActionRequest:
    """What the engineer sent: command lines (one command each), text and attachments."""

    commands: tuple[str, ...]
    text: str
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, slots=True)
class ActionOutcome:
    """The effects to apply and every line's outcome; ``denied``: the engineer may not act
    on this ticket at all (nothing to apply)."""

    effects: tuple[Effect, ...]
    done: tuple[Outcome, ...]
    refused: tuple[Outcome, ...]
    denied: Reason | None = None


class ActionState(enum.StrEnum):
    DONE = "done"
    CONFLICT = "conflict"
    DENIED = "denied"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What became of an action: applied (``done``, maybe with ``refused`` lines), a
    version conflict (nothing applied), denied (``reason``) or no such ticket; ``version``
    is the ticket's version afterwards."""

    state: ActionState
    done: tuple[Outcome, ...] = ()
    refused: tuple[Outcome, ...] = ()
    version: int = 0
    reason: Reason | None = None


def command_block(lines: Sequence[str], text: str) -> CommandBlock:
    """The block a mail with these command lines on top and this text after them parses
    to; a line that is not one command is refused, as the mail's first non-command line
    would end the commands."""
    commands: list[Command] = []
    refused: list[RefusedLine] = []
    note_lines: list[str] = []
    for line in lines:
        if not line.strip():
            continue
        parsed = parse_commands(line)
        if len(parsed.commands) + len(parsed.refused) != 1 or (parsed.reply and not parsed.note):
            refused.append(RefusedLine(line.strip()[:200], Reason(OutcomeCode.NOT_A_COMMAND)))
            continue
        commands.extend(parsed.commands)
        refused.extend(parsed.refused)
        if parsed.note and parsed.reply:
            note_lines.append(parsed.reply)
    note = any(c.name == CommandName.NOTE for c in commands)
    reply = "\n".join([*note_lines, text.strip()]).strip()
    return CommandBlock(tuple(commands), tuple(refused), reply, note)


def plan_action(
    request: ActionRequest,
    actor: EngineerInfo,
    ticket: TicketRef,
    engineers: Sequence[EngineerInfo],
    lookup: Lookup,
    prefix: str,
    *,
    status_link: str = "",
) -> ActionOutcome:
    """What the workspace action does: the mail planner's effects (no command report:
    the answer is the report); ``denied`` when the planner refused everything because
    the engineer may not act on the ticket; ``status_link`` fills a saved reply's."""
    block = command_block(request.commands, request.text)
    plan = plan_commands(
        block,
        actor,
        ticket,
        engineers,
        lookup,
        prefix,
        request.attachments,
        status_link=status_link,
    )
    denied = may_act(actor, ticket)
    if denied is not None and not plan.effects and not plan.done:
        return ActionOutcome((), (), tuple(plan.refused), denied)
    return ActionOutcome(tuple(plan.effects), tuple(plan.done), tuple(plan.refused))
