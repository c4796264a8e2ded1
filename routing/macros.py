"""Saved replies (macros): a named answer in Korean and English, with placeholders and
optional command lines that run as if the engineer had written them.

``expand()`` turns the ``#macro NAME`` lines of a parsed mail into the macros' commands
and texts (the engineer's own text first, then each macro's, in order). Placeholders are
filled in one pass with plain text; unknown ones stay literally. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from ticketd.routing.commands import Command, CommandBlock, CommandName, parse_commands
from ticketd.routing.outcomes import Outcome, OutcomeCode, Reason, Verdict

MAX_NAME = 64
MAX_TEXT = 20_000
PLACEHOLDERS = ("customer_name", "tracking", "owner_name", "status_link")
NOT_IN_MACROS = frozenset({CommandName.MACRO, CommandName.NOTE, CommandName.HELP})
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_NAME = re.compile(r"^[0-9A-Za-z\uac00-\ud7a3][0-9A-Za-z\uac00-\ud7a3_.-]*$")


@dataclass(frozen=True, slots=True)
class Macro:
    """A saved reply; ``commands`` are its command lines (one a line, may be empty)."""

    name: str
    text_ko: str
    text_en: str
    commands: str = ""

    def text(self, language: str) -> str:
        """The text in the ticket's language, else the other one."""
        texts = (self.text_en, self.text_ko) if language == "en" else (self.text_ko, self.text_en)
        return texts[0] if texts[0].strip() else texts[1]


@dataclass(frozen=True, slots=True)
class StoredMacro:
    """A saved reply as the workspace lists it."""

    macro: Macro
    updated_by: str
    updated_at: datetime
    retired: bool


@dataclass(frozen=True, slots=True)
class Expanded:
    """The mail with its macros expanded, or why nothing in it may be applied."""

    block: CommandBlock
    problem: Reason | None = None


def macro_key(name: str) -> str:
    """The name as stored and looked up: trimmed and case-folded."""
    return name.strip().casefold()


def problem(code: OutcomeCode, line: str = "", **args: str) -> Outcome:
    """One thing wrong with a saved reply (``line``: the command line it is about)."""
    return Outcome(line, Verdict.REFUSED, Reason.of(code, **args))


def check_macro(name: str, text_ko: str, text_en: str, commands: str) -> list[Outcome]:
    """What is wrong with a macro a manager wants to save (nothing: it may be saved)."""
    problems: list[Outcome] = []
    if not _NAME.match(name.strip()) or len(name.strip()) > MAX_NAME:
        problems.append(problem(OutcomeCode.MACRO_BAD_NAME))
    if not (text_ko.strip() or text_en.strip()):
        problems.append(problem(OutcomeCode.MACRO_NO_TEXT))
    if max(len(text_ko), len(text_en), len(commands)) > MAX_TEXT:
        problems.append(problem(OutcomeCode.MACRO_TEXT_TOO_LONG, count=str(MAX_TEXT)))
    block = parse_commands(commands)
    problems += [Outcome(r.line, Verdict.REFUSED, r.reason) for r in block.refused]
    if block.reply:
        problems.append(problem(OutcomeCode.MACRO_ONLY_COMMANDS))
    problems += [
        problem(OutcomeCode.MACRO_NOT_ALLOWED, c.line)
        for c in block.commands
        if c.name in NOT_IN_MACROS
    ]
    return problems


def fill(text: str, values: Mapping[str, str]) -> str:
    """``text`` with its known placeholders replaced by plain values (one pass)."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def one_line(value: str) -> str:
    """A hostile value made a single line of plain text."""
    return " ".join(value.split())


def uses_macros(block: CommandBlock) -> bool:
    return any(c.name == CommandName.MACRO for c in block.commands)


def expand(
    block: CommandBlock,
    macros: Sequence[Macro],
    language: str,
    values: Callable[[Sequence[Command]], Mapping[str, str]],
) -> Expanded:
    """Replace each ``#macro NAME`` command by the macro's commands and append its text to
    the reply; ``values`` gives the placeholders' values once every command is known. An
    unknown macro: nothing in the mail may be applied."""
    if not uses_macros(block):
        return Expanded(block)
    known = {macro_key(m.name): m for m in macros}
    commands: list[Command] = []
    used: list[Macro] = []
    for command in block.commands:
        if command.name != CommandName.MACRO:
            commands.append(command)
            continue
        macro = known.get(macro_key(command.argument))
        if macro is None:
            names = ", ".join(sorted(m.name for m in macros))
            missing = Reason.of(OutcomeCode.NO_SAVED_REPLY, name=command.argument, available=names)
            return Expanded(block, missing)
        carried = parse_commands(macro.commands).commands
        commands += [c for c in carried if c.name not in NOT_IN_MACROS]
        used.append(macro)
    filled = values(commands)
    texts = [block.reply, *(fill(m.text(language), filled).strip() for m in used)]
    reply = "\n\n".join(text for text in texts if text)
    return Expanded(replace(block, commands=tuple(commands), reply=reply))


def placeholder_values(
    customer: str, tracking: str, owner: str, status_link: str
) -> dict[str, str]:
    """The placeholders' values, each a single line of plain text (empty when unknown)."""
    named = zip(PLACEHOLDERS, (customer, tracking, owner, status_link), strict=True)
    return {key: one_line(value) for key, value in named}
