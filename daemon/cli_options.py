"""The command line's shape: one-line errors, validated log levels, and the global options
(``--config``, ``--log-level``) accepted before or after any subcommand."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from typing import NoReturn

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one ``error: …`` line on stderr."""

    def error(self, message: str) -> NoReturn:
        print(f"error: {message} (see `{self.prog} --help`)", file=sys.stderr)
        raise SystemExit(2)


def log_level(value: str) -> str:
    """``value`` as a logging level name, in any case."""
    level = value.strip().upper()
    if level not in LOG_LEVELS:
        raise argparse.ArgumentTypeError(
            f"invalid log level {value!r} (choose from {', '.join(LOG_LEVELS)})"
        )
    return level


def subparsers(parser: argparse.ArgumentParser) -> Iterator[tuple[argparse.ArgumentParser, str]]:
    """Every subcommand's parser below ``parser``, at any depth, with its one-line help."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
            for name, sub in action.choices.items():
                yield sub, helps.get(name, "")
                yield from subparsers(sub)


def share_global_options(parser: argparse.ArgumentParser, *options: str) -> None:
    """Accept ``options`` of ``parser`` after every subcommand too, and give each
    subcommand its one-line help as the description of its own ``--help``.

    Below the top level the options default to ``SUPPRESS``, so a value given before the
    subcommand (or its environment default) stays unless it is given again after it."""
    shared = [a for a in parser._actions if set(a.option_strings) & set(options)]
    for sub, text in subparsers(parser):
        sub.description = sub.description or text
        for action in shared:
            sub.add_argument(
                *action.option_strings,
                dest=action.dest,
                type=action.type or str,
                metavar=action.metavar,
                help=action.help,
                default=argparse.SUPPRESS,
            )
