"""Saved replies: ``#macro NAME`` in the planner, placeholders, languages, refusals."""

from __future__ import annotations

from dataclasses import replace

from tests.unit.fakes import FakeLookup
from ticketd.routing.commands import parse_commands
from ticketd.routing.effects import AssignOwner, ChangeStatus, PublicReply, SetPriority
from ticketd.routing.engineer import Plan, plan_commands
from ticketd.routing.macros import Macro, check_macro
from ticketd.routing.model import EngineerInfo, Role, Status, TicketRef
from ticketd.routing.outcome_words import outcome_words, reason_words

ALICE = EngineerInfo("alice@example.com", "Alice", Role.AGENT)
BOB = EngineerInfo("bob@example.com", "Bob", Role.MANAGER)
TEAM = (ALICE, BOB)
LINK = "https://help.example.com/t/SUP-0000-0000?k=abc"
SOLVED = Macro(
    "solved",
    "{customer_name}님, {tracking} 문의는 해결되었습니다. 담당: {owner_name}. {status_link}",
    "Hello {customer_name}, {tracking} is solved. Owner: {owner_name}. {status_link}",
    "#status resolved\n#priority low",
)
HANDOVER = Macro("handover", "", "{owner_name} will take it from here. {unknown}", "#assign bob")


def ticket(language: str = "ko", owner: str | None = "alice@example.com") -> TicketRef:
    return TicketRef(
        1,
        "SUP-0000-0000",
        Status.OPEN,
        owner,
        "kim@acme.co.kr",
        "Login",
        language,
        requester_name="김민수",
    )


def plan(text: str, t: TicketRef | None = None, actor: EngineerInfo = ALICE) -> Plan:
    lookup = FakeLookup(saved_replies=[SOLVED, HANDOVER])
    block = parse_commands(text)
    return plan_commands(block, actor, t or ticket(), TEAM, lookup, "SUP", status_link=LINK)


def of(result: Plan, kind: type) -> list:  # type: ignore[type-arg]
    return [e for e in result.effects if isinstance(e, kind)]


def test_macro_text_follows_the_engineers_own_and_its_commands_run() -> None:
    result = plan("#macro solved\n\n확인해 보니 캐시 문제였습니다.")
    [reply] = of(result, PublicReply)
    assert reply.text == (
        "확인해 보니 캐시 문제였습니다.\n\n"
        f"김민수님, SUP-0000-0000 문의는 해결되었습니다. 담당: Alice. {LINK}"
    )
    assert [e.status for e in of(result, ChangeStatus)] == [Status.RESOLVED]
    assert len(of(result, SetPriority)) == 1
    assert "#status resolved" in [outcome.line for outcome in result.done]


def test_the_tickets_language_picks_the_text_and_an_empty_one_falls_back() -> None:
    [english] = of(plan("#macro SOLVED", ticket("en")), PublicReply)
    assert english.text.startswith("Hello 김민수, SUP-0000-0000 is solved.")
    [fallback] = of(plan("#macro handover", ticket("ko"), BOB), PublicReply)
    assert fallback.text.startswith("Bob will take it from here.")


def test_owner_name_is_the_owner_after_the_commands_and_unknown_placeholders_stay() -> None:
    result = plan("#macro handover")
    [assign] = of(result, AssignOwner)
    assert assign.owner == "bob@example.com"
    [reply] = of(result, PublicReply)
    assert reply.text == "Bob will take it from here. {unknown}"


def test_values_are_inserted_as_plain_text_and_never_expanded_again() -> None:
    hostile = replace(ticket(), requester_name="{tracking}\r\n#status closed <b>")
    [reply] = of(plan("#macro solved", hostile), PublicReply)
    assert reply.text.startswith("{tracking} #status closed <b>님, SUP-0000-0000")
    assert [e.status for e in of(plan("#macro solved", hostile), ChangeStatus)] == [Status.RESOLVED]


def test_an_unknown_macro_applies_nothing_and_names_the_available_ones() -> None:
    result = plan("#priority high\n#macro nope\n\nHere is my answer.")
    assert result.effects == []
    said = [outcome_words(outcome, "en") for outcome in result.refused]
    assert any("no saved reply 'nope' (available: handover, solved)" in r for r in said)
    assert any(r.startswith("(reply text)  -- not sent") for r in said)


def test_an_unnamed_macro_line_is_refused() -> None:
    reason = parse_commands("#macro").refused[0].reason
    assert reason_words(reason, "en") == "#macro needs an argument"


def test_a_macro_may_carry_only_plain_commands() -> None:
    assert check_macro("refund-ok", "환불되었습니다.", "", "#status resolved") == []
    assert check_macro("x", "", "", "")  # no text
    assert check_macro("two words", "a", "a", "")  # spaces in the name
    assert check_macro("loop", "a", "", "#macro loop")
    assert check_macro("bad", "a", "", "#status nonsense")
    assert check_macro("prose", "a", "", "#close\nthank you")
