"""The engineer command parser."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ticketd.routing.commands import CommandName, parse_commands, parse_duration
from ticketd.routing.outcome_words import reason_words


def names(text: str) -> list[tuple[str, str]]:
    return [(c.name.value, c.argument) for c in parse_commands(text).commands]


def test_commands_first_then_the_reply() -> None:
    block = parse_commands("\n#Status Resolved\n#PRIORITY high\n\nFixed in 2.3.\n#close\n")
    assert [(c.name, c.argument) for c in block.commands] == [
        (CommandName.STATUS, "resolved"),
        (CommandName.PRIORITY, "high"),
    ]
    assert block.reply == "Fixed in 2.3.\n#close"
    assert not block.note


def test_every_command_of_the_contract() -> None:
    text = (
        "#assign Bob Kim\n#status waiting\n#priority urgent\n#close\n#reopen\n#resolve\n"
        "#merge sup-0000-001y\n#take\n#if-owner alice@example.com\n#if-status open\n"
        "#type feature\n#time 1h30m\n#help\n#note called the customer\nrest of note"
    )
    block = parse_commands(text)
    assert [c.name.value for c in block.commands] == [
        "assign", "status", "priority", "close", "reopen", "resolve", "merge", "take",
        "if-owner", "if-status", "type", "time", "help", "note",
    ]  # fmt: skip
    assert block.refused == ()
    assert block.note and block.reply == "called the customer\nrest of note"
    assert names("#time 1h30m") == [("time", "90")]


def test_bad_lines_are_refused_with_reasons_and_not_relayed() -> None:
    block = parse_commands("#status done\n#priority\n#time soon\n#frobnicate\n#close now\nHi")
    reasons = [reason_words(r.reason, "en") for r in block.refused]
    assert reasons[0].startswith("unknown status 'done'")
    assert "needs an argument" in reasons[1]
    assert "not a duration" in reasons[2]
    assert reasons[3] == "unknown command #frobnicate"
    assert "takes no argument" in reasons[4]
    assert block.commands == () and block.reply == "Hi"


def test_prose_with_hash_is_not_a_command() -> None:
    assert parse_commands("#1 priority is the invoice").commands == ()
    assert parse_commands("# heading").reply == "# heading"


def test_mail_client_mangling_is_tolerated() -> None:
    assert names("\ufeff\uff03status\u00a0pending\r\nok") == [("status", "pending")]


def test_durations() -> None:
    assert [parse_duration(t) for t in ("45m", "1h30m", "2h", "1.5h", "90", "0m", "x")] == [
        45, 90, 120, 90, 90, None, None,
    ]  # fmt: skip


@given(st.text(max_size=500))
def test_parser_never_raises_and_accepts_only_lines_from_the_input(text: str) -> None:
    block = parse_commands(text)
    normalised = text.replace("\uff03", "#")
    for command in block.commands:
        assert command.line in normalised.replace("\r\n", "\n").replace("\r", "\n")
