"""The classification code tree and what ``#code PATH`` resolves to: exact paths by name
or label, partial paths, one typo, ambiguity with candidates, retired codes."""

from __future__ import annotations

import pytest

from tests.unit.fakes import TEAM, FakeLookup, ticket
from ticketd.routing.code_commands import plan_code
from ticketd.routing.codes import (
    Code,
    CodeTree,
    NewCodes,
    Refusal,
    check_move,
    parse_path,
    plan_add,
    resolve,
    within_one,
)
from ticketd.routing.effects import AddCodes, RetireCode, SetCode
from ticketd.routing.outcome_words import reason_words
from ticketd.routing.outcomes import OutcomeCode, Reason

ALICE, BOB = TEAM  # an agent, a manager


def tree(*retired: str) -> CodeTree:
    rows = [
        (1, None, "배송", "배송", "Shipping"),
        (2, 1, "파손", "파손", "Damage"),
        (3, 2, "교환요청", "교환요청", "Exchange request"),
        (4, 2, "환불요청", "환불요청", "Refund request"),
        (5, 1, "지연", "지연", "Delay"),
        (6, None, "결제", "결제", "Payment"),
        (7, 6, "환불요청", "환불요청", "Refund request"),
        (8, None, "계정", "계정", "Account"),
    ]
    paths: dict[int, str] = {}
    codes = []
    for code_id, parent, name, ko, en in rows:
        path = f"{paths[parent]}/{name}" if parent else name
        paths[code_id] = path
        codes.append(
            Code(code_id, parent, path.count("/") + 1, name, ko, en, path, path in retired)
        )
    return CodeTree.of(codes)


def resolved(text: str, known: CodeTree | None = None) -> str:
    found = resolve(known or tree(), text)
    assert isinstance(found, Code), found
    return found.path


@pytest.mark.parametrize(
    "written",
    [
        "배송/파손/교환요청",
        " 배송 > 파손 > 교환요청 ",
        "shipping/DAMAGE/exchange request",
        "Shipping > 파손 > Exchange  Request",
        "ＳＨＩＰＰＩＮＧ/damage/exchange request",  # full-width, NFKC
    ],
)
def test_an_exact_path_by_name_or_label(written: str) -> None:
    assert resolved(written) == "배송/파손/교환요청"


def test_an_inner_node_resolves_by_its_own_path() -> None:
    assert resolved("배송/파손") == "배송/파손"


@pytest.mark.parametrize(
    "written", ["파손/교환요청", "교환요청", "배송/교환요청", "exchange request"]
)
def test_an_unambiguous_partial_path(written: str) -> None:
    assert resolved(written) == "배송/파손/교환요청"


@pytest.mark.parametrize(
    ("written", "path"),
    [
        ("배송/파손/교환요쳥", "배송/파손/교환요청"),
        ("shiping/delay", "배송/지연"),
        ("acount", "계정"),
    ],
)
def test_one_typo_per_segment_is_forgiven(written: str, path: str) -> None:
    assert resolved(written) == path


def test_segments_that_begin_the_names_resolve_when_unambiguous() -> None:
    assert resolved("배송/교환") == "배송/파손/교환요청"


def test_an_ambiguous_path_is_refused_with_its_candidates() -> None:
    found = resolve(tree(), "환불요청")
    assert isinstance(found, Refusal)
    assert found.candidates == ("결제/환불요청", "배송/파손/환불요청")
    assert "matches 2 codes" in str(found) and "결제/환불요청" in str(found)
    assert resolved("결제/환불요청") == "결제/환불요청"


def test_no_match_suggests_the_closest() -> None:
    found = resolve(tree(), "배송/분실")
    assert isinstance(found, Refusal) and found.reason.startswith("no code")
    assert "배송" in " ".join(found.candidates)


def test_a_retired_code_never_resolves() -> None:
    known = tree("배송/파손/교환요청")
    found = resolve(known, "배송/파손/교환요청")
    assert isinstance(found, Refusal) and "retired" in str(found)
    assert isinstance(resolve(known, "교환요청"), Refusal)
    assert resolved("배송/파손/환불요청", known) == "배송/파손/환불요청"


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        ("a/b/c/d", "at most 3 levels"),
        ("a//b", "not a code path"),
        ("", "not a code path"),
        ("a/" + "x" * 61, "at most 60 characters"),
        ("a/b\x07", "control characters"),
        ("a/\u202eb", "control characters"),
    ],
)
def test_malformed_paths_are_refused(written: str, problem: str) -> None:
    found = parse_path(written)
    assert isinstance(found, Refusal) and problem in found.reason


def test_one_edit_apart() -> None:
    assert within_one("교환요청", "교환요쳥") and within_one("account", "acount")
    assert within_one("delay", "dealy") and not within_one("delay", "dleya")


def test_adding_creates_the_missing_levels_below_the_nearest_live_ancestor() -> None:
    assert plan_add(tree(), "배송/파손/부분파손") == NewCodes(2, "배송/파손", ("부분파손",))
    assert plan_add(tree(), "반품/단순변심") == NewCodes(None, "", ("반품", "단순변심"))
    assert "exists" in str(plan_add(tree(), "배송/파손"))
    assert "at most 3" in str(plan_add(tree(), "배송/파손/교환요청/더"))


def test_moves_keep_three_levels_and_never_go_under_themselves() -> None:
    known = tree()
    shipping, damage, account = known.by_id(1), known.by_id(2), known.by_id(8)
    assert shipping and damage and account
    assert check_move(known, damage, account) is None
    assert check_move(known, shipping, account) == Reason.of(OutcomeCode.CODE_TOO_DEEP, count="3")
    assert check_move(known, shipping, damage) == Reason.of(OutcomeCode.CODE_UNDER_ITSELF)
    refund = known.by_id(7)
    assert refund and check_move(known, refund, damage) == Reason.of(
        OutcomeCode.CODE_NAME_TAKEN, name=refund.name
    )
    said = reason_words(Reason.of(OutcomeCode.CODE_NAME_TAKEN, name="환불요청"), "ko")
    assert said == "그 자리에 이미 코드 환불요청이 있습니다"


def test_code_commands_set_clear_and_manage() -> None:
    lookup = FakeLookup(code_tree=tree())
    done = plan_code("파손/교환요청", ALICE, ticket(), lookup)
    assert done.effects == (SetCode(ticket(), "배송/파손/교환요청", ALICE.email),)
    for clearing in ("", "none", "-"):
        assert plan_code(clearing, ALICE, ticket(), lookup).effects == (
            SetCode(ticket(), "", ALICE.email),
        )
    assert plan_code("add 반품/단순변심", ALICE, ticket(), lookup).refused == (
        Reason(OutcomeCode.MANAGER_ADDS_CODES)
    )
    assert plan_code("retire 배송", ALICE, ticket(), lookup).refused == (
        Reason(OutcomeCode.MANAGER_RETIRES_CODES)
    )
    added = plan_code("add 반품/단순변심", BOB, ticket(), lookup)
    assert added.effects == (AddCodes(NewCodes(None, "", ("반품", "단순변심")), BOB.email),)
    assert plan_code("retire 배송/지연", BOB, ticket(), lookup).effects == (
        RetireCode(5, BOB.email),
    )
