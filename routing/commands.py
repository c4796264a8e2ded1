"""Parsing engineer commands: ``#keyword argument`` lines at the top of a mail body.

The first line that is not a command ends the block; the rest is the public reply, or
with ``#note`` an internal note. An unknown ``#word`` line is refused, and still counts
as a command line, so it is never relayed to the customer. Never raises.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from ticketd.mail.addresses import parse_address_list
from ticketd.routing.model import Priority, Status
from ticketd.routing.outcomes import OutcomeCode, Reason

MAX_MINUTES = 7 * 24 * 60
TYPES = ("bug", "feature", "question")


class CommandName(enum.StrEnum):
    ASSIGN = "assign"
    STATUS = "status"
    PRIORITY = "priority"
    CLOSE = "close"
    REOPEN = "reopen"
    RESOLVE = "resolve"
    NOTE = "note"
    MERGE = "merge"
    TAKE = "take"
    IF_OWNER = "if-owner"
    IF_STATUS = "if-status"
    TYPE = "type"
    TIME = "time"
    HELP = "help"
    CC = "cc"
    MACRO = "macro"
    SEND = "send"
    BILLABLE = "billable"
    CODE = "code"


NO_ARGUMENT = frozenset(
    {
        CommandName.CLOSE,
        CommandName.REOPEN,
        CommandName.RESOLVE,
        CommandName.TAKE,
        CommandName.HELP,
        CommandName.SEND,
    }
)

HELP_TEXT = "\n".join(
    (
        "#assign EMAIL-or-NAME        give the ticket to another engineer (who is told)",
        "#status open|pending|waiting|resolved|closed",
        "#priority low|normal|high|urgent",
        "#close  #reopen  #resolve    shorthands for #status",
        "#note [text]                 the rest of the mail is an internal note",
        "#merge TRACKING              this ticket becomes a duplicate of TRACKING",
        "#take                        take the ticket if nobody owns it",
        "#if-owner EMAIL              apply nothing unless EMAIL still owns the ticket",
        "#if-status STATUS            apply nothing unless the ticket still has STATUS",
        "#type bug|feature|question",
        "#time DURATION               time worked, e.g. 45m or 1h30m",
        "#billable yes|no             whether this ticket's time is charged",
        "#cc add EMAIL, #cc remove EMAIL  add or remove a follower (Cc on customer mail)",
        "#macro NAME                  insert a saved reply (and the commands it carries)",
        "#code PATH                   classification code, e.g. 배송/파손/교환요청 (a partial",
        "                             path is enough); #code none (or #code) clears it",
        "#code add PATH, #code retire PATH  managers: create or retire a code",
        "#send                        send the reply even if the ticket changed since",
        "                             the notice you answer (else it is held)",
        "#help                        this list",
    )
)

_LINE = re.compile(r"^#([A-Za-z][A-Za-z-]*)(?:[ \t\u00a0]+(.*))?$")
_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?$", re.IGNORECASE)


@dataclass(frozen=True)
class Command:
    name: CommandName
    argument: str
    line: str


@dataclass(frozen=True)
class RefusedLine:
    line: str
    reason: Reason


@dataclass(frozen=True)
class CommandBlock:
    commands: tuple[Command, ...]
    refused: tuple[RefusedLine, ...]
    reply: str
    note: bool


def parse_duration(text: str) -> int | None:
    """Minutes in ``45m``, ``1h30m``, ``2h``, ``1.5h`` or a bare number of minutes."""
    cleaned = text.strip().lower().replace(" ", "")
    if cleaned.isascii() and cleaned.isdigit():
        minutes = int(cleaned)
    else:
        match = _DURATION.match(cleaned)
        if not cleaned or not match or not any(match.groups()):
            return None
        hours, mins = match.groups()
        minutes = round(float(hours or 0) * 60) + int(mins or 0)
    return minutes if 0 < minutes <= MAX_MINUTES else None


def _check(name: CommandName, argument: str) -> str | RefusedLine:
    """The normalised argument, or why the line is refused."""
    line = f"#{name.value} {argument}".strip()
    if name in NO_ARGUMENT:
        refusal = Reason.of(OutcomeCode.TAKES_NO_ARGUMENT, command=name.value)
        return RefusedLine(line, refusal) if argument else ""
    if not argument and name not in (CommandName.NOTE, CommandName.CODE):
        return RefusedLine(line, Reason.of(OutcomeCode.NEEDS_ARGUMENT, command=name.value))
    value = argument.lower()
    choices: dict[CommandName, tuple[str, ...]] = {
        CommandName.STATUS: tuple(s.value for s in Status),
        CommandName.IF_STATUS: tuple(s.value for s in Status),
        CommandName.PRIORITY: tuple(p.value for p in Priority),
        CommandName.TYPE: TYPES,
        CommandName.BILLABLE: ("yes", "no"),
    }
    if name in choices:
        if value not in choices[name]:
            unknown = Reason.of(
                OutcomeCode.UNKNOWN_CHOICE,
                what=name.value.removeprefix("if-"),
                value=argument,
                allowed=", ".join(choices[name]),
            )
            return RefusedLine(line, unknown)
        return value
    if name == CommandName.CC:
        return _cc_argument(line, argument)
    if name == CommandName.TIME:
        minutes = parse_duration(argument)
        return (
            RefusedLine(line, Reason.of(OutcomeCode.NOT_A_DURATION, value=argument))
            if (minutes is None)
            else str(minutes)
        )
    return argument


def _cc_argument(line: str, argument: str) -> str | RefusedLine:
    """``add EMAIL`` or ``remove EMAIL``, normalised to ``add|remove <addr-spec>``."""
    verb, _, rest = argument.partition(" ")
    parsed = parse_address_list(rest.strip())
    if verb.lower() not in ("add", "remove") or len(parsed.addresses) != 1:
        return RefusedLine(line, Reason(OutcomeCode.CC_USAGE))
    return f"{verb.lower()} {parsed.addresses[0].email}"


def parse_commands(text: str) -> CommandBlock:
    """Split a mail body into its command lines, refused lines and the remaining text."""
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    commands: list[Command] = []
    refused: list[RefusedLine] = []
    note_lines: list[str] = []
    note = False
    index = 0
    while index < len(lines):
        raw = lines[index].strip().replace("\uff03", "#")
        if not raw:
            index += 1
            continue
        match = _LINE.match(raw)
        if not match or note:
            break
        keyword, argument = match.group(1).lower(), (match.group(2) or "").strip()
        index += 1
        try:
            name = CommandName(keyword)
        except ValueError:
            refused.append(
                RefusedLine(raw, Reason.of(OutcomeCode.UNKNOWN_COMMAND, command=keyword))
            )
            continue
        checked = _check(name, argument)
        if isinstance(checked, RefusedLine):
            refused.append(RefusedLine(raw, checked.reason))
            continue
        commands.append(Command(name, checked, raw))
        if name == CommandName.NOTE:
            note = True
            if argument:
                note_lines.append(argument)
    rest = "\n".join(lines[index:]).strip()
    reply = "\n".join([*note_lines, rest]).strip() if note else rest
    return CommandBlock(tuple(commands), tuple(refused), reply, note)
