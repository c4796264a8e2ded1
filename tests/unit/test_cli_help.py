"""Every command and option of ``ticketd`` explains itself in ``--help``."""

from __future__ import annotations

import argparse
from pathlib import Path

from ticketd.daemon.cli import _parser
from ticketd.daemon.cli_options import subparsers


def undocumented(parser: argparse.ArgumentParser, where: str) -> list[str]:
    return [
        f"{where} {action.option_strings or action.dest}"
        for action in parser._actions
        if not isinstance(action, argparse._SubParsersAction) and not action.help
    ]


def test_every_subcommand_and_option_has_help() -> None:
    top = _parser()
    missing = undocumented(top, "ticketd")
    for sub, text in subparsers(top):
        if not text:
            missing.append(f"{sub.prog}: no help line")
        if not sub.description:
            missing.append(f"{sub.prog}: no description in its own --help")
        missing += undocumented(sub, sub.prog)
    assert missing == []


def test_global_options_are_accepted_after_every_subcommand() -> None:
    top = _parser()
    for sub, _ in subparsers(top):
        options = {o for action in sub._actions for o in action.option_strings}
        assert {"--config", "--log-level"} <= options, sub.prog


def test_the_readme_and_docs_never_point_outside_the_repository() -> None:
    root = Path(__file__).resolve().parents[2]
    for page in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        text = page.read_text(encoding="utf-8")
        assert "../shared" not in text and "CONTRACT" not in text, page.name


def test_the_quick_start_installs_into_a_venv_and_runs_in_one_line() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    quick = readme.split("## Quick start", 1)[1].split("```sh\n", 1)[1]
    first = quick.splitlines()[0]
    assert first.startswith("python3 -m venv ")
    assert first.endswith("ticketd --config config.example.toml run")
