"""Workspace actions and mail collisions, decided by the mail's own parser and planner."""

from __future__ import annotations

from tests.unit.fakes import FakeLookup
from tests.unit.test_engineer import ALICE, BOB, TEAM, ticket
from ticketd.routing.actions import ActionRequest, command_block, plan_action
from ticketd.routing.collision import held, reply_facts
from ticketd.routing.commands import CommandName, parse_commands
from ticketd.routing.effects import AddNote, NoticeKind, PublicReply, QueueNotice
from ticketd.routing.outcome_words import outcome_words
from ticketd.routing.outcomes import OutcomeCode, Reason


def act(lines: tuple[str, ...], text: str = "", actor=ALICE, owner="alice@example.com"):  # type: ignore[no-untyped-def]
    request = ActionRequest(lines, text)
    return plan_action(request, actor, ticket(owner), TEAM, FakeLookup(), "SUP")


def test_lines_and_text_plan_as_the_same_mail_would() -> None:
    lines = ("#priority high", "#assign bob@example.com")
    text = "확인했습니다."
    web = act(lines, text)
    mail = parse_commands("\n".join(lines) + "\n\n" + text)
    assert command_block(lines, text) == mail
    assert any(isinstance(e, PublicReply) and e.actor == ALICE.email for e in web.effects)
    assert not [e for e in web.effects if isinstance(e, QueueNotice) and e.kind == "command_result"]


def test_a_line_that_is_not_a_command_is_refused_and_a_note_stays_internal() -> None:
    outcome = act(("#note 메모 첫 줄", "call the customer", "#status nope"), "둘째 줄")
    said = [outcome_words(o, "en") for o in outcome.refused]
    assert "call the customer  -- refused: not a command" in said
    assert any("unknown status 'nope'" in r for r in said)
    [note] = [e for e in outcome.effects if isinstance(e, AddNote)]
    assert note.text == "메모 첫 줄\n둘째 줄"
    assert not [e for e in outcome.effects if isinstance(e, PublicReply)]


def test_an_agent_on_anothers_ticket_is_denied_and_a_manager_is_not() -> None:
    denied = act(("#priority urgent",), "hi", owner="bob@example.com")
    assert denied.denied == Reason.of(OutcomeCode.NOT_YOURS, owner="bob@example.com")
    assert not denied.effects
    assert act(("#priority urgent",), "hi", actor=BOB, owner="alice@example.com").denied is None


def test_a_public_reply_to_a_changed_ticket_is_held_unless_sent_anyway_or_a_note() -> None:
    news = ("카드를 바꿔도 안 됩니다.",)
    assert held(reply_facts(parse_commands("#priority high\n\n답장"), news))
    assert not held(reply_facts(parse_commands("#send\n\n답장"), news))
    assert not held(reply_facts(parse_commands("#note\n메모"), news))
    assert not held(reply_facts(parse_commands("답장"), ()))
    assert parse_commands("#send").commands[0].name == CommandName.SEND
    assert NoticeKind.REPLY_HELD.value == "reply_held"
