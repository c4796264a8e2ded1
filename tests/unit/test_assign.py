"""Owner assignment: rules first, then least-loaded on duty, ties round-robin."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from tests.unit.fakes import message
from ticketd.mail.message import Address
from ticketd.routing.assign import (
    Availability,
    back_at,
    choose_owner,
    last_away_day,
    least_loaded,
    on_duty,
    rule_matches,
)
from ticketd.routing.model import EngineerInfo, Role, RoutingRuleSpec
from ticketd.routing.outcomes import AssignKind, AssignReason

ALICE = EngineerInfo("alice@example.com", "Alice", Role.AGENT, ("general",))
BOB = EngineerInfo("bob@example.com", "Bob", Role.MANAGER, ("billing",))
CAROL = EngineerInfo("carol@example.com", "Carol", Role.AGENT, ("billing",), available=False)
TEAM = (ALICE, BOB, CAROL)


def test_domain_rule_gives_fixed_owner_even_when_busy() -> None:
    rules = (RoutingRuleSpec(from_domain=("acme.co.kr",), owner="bob@example.com"),)
    got = choose_owner(message(), rules, TEAM, Counter({"bob@example.com": 40}), None)
    assert got.owner == "bob@example.com"
    assert got.reason == AssignReason(AssignKind.RULE_FIXED, 1)
    assert str(got.reason) == "rule:1:fixed"


def test_subdomain_matches_domain_rule_but_lookalike_does_not() -> None:
    rule = RoutingRuleSpec(from_domain=("acme.co.kr",), owner="bob@example.com")
    assert rule_matches(rule, message(from_addr=Address("x@mail.acme.co.kr")))
    assert not rule_matches(rule, message(from_addr=Address("x@notacme.co.kr")))


def test_all_conditions_of_a_rule_must_hold() -> None:
    rule = RoutingRuleSpec(
        from_domain=("acme.co.kr",), subject_contains=("invoice", "청구"), team="billing"
    )
    assert not rule_matches(rule, message())
    assert rule_matches(rule, message(subject="청구서 문의"))


def test_first_matching_rule_wins() -> None:
    rules = (
        RoutingRuleSpec(body_contains=("error",), owner="alice@example.com"),
        RoutingRuleSpec(from_domain=("acme.co.kr",), owner="bob@example.com"),
    )
    assert choose_owner(message(), rules, TEAM, Counter(), None).owner == "alice@example.com"


def test_team_rule_prefers_available_member() -> None:
    rules = (RoutingRuleSpec(from_domain=("acme.co.kr",), team="billing"),)
    got = choose_owner(message(), rules, TEAM, Counter(), None)
    assert got.owner == "bob@example.com"


def test_least_loaded_available_engineer_without_rules() -> None:
    load = Counter({"alice@example.com": 3, "bob@example.com": 1})
    assert choose_owner(message(), (), TEAM, load, None).owner == "bob@example.com"


def test_unavailable_engineer_is_never_picked_while_someone_is_on_duty() -> None:
    load = Counter({"alice@example.com": 5, "bob@example.com": 5})
    owners = {
        choose_owner(message(), (), TEAM, load, last).owner for last in (None, "bob@example.com")
    }
    assert "carol@example.com" not in owners


def test_ties_rotate_round_robin() -> None:
    team = (ALICE, BOB)
    picks = []
    last = None
    for _ in range(4):
        pick = least_loaded(team, Counter(), last)
        assert pick is not None
        picks.append(pick.email)
        last = pick.email
    assert picks == ["alice@example.com", "bob@example.com"] * 2


def test_nobody_on_duty_leaves_the_ticket_unowned_never_with_someone_away() -> None:
    off = (CAROL,)
    got = choose_owner(message(), (), off, Counter(), None)
    assert got.owner is None
    assert got.reason == AssignReason(AssignKind.NOBODY_ON_DUTY)
    team_rule = (RoutingRuleSpec(from_domain=("acme.co.kr",), team="billing"),)
    away_team = (replace(CAROL, teams=("billing",)),)
    assert choose_owner(message(), team_rule, away_team, Counter(), None).owner is None


def test_an_engineer_away_until_a_day_is_back_at_the_next_midnight_there() -> None:
    back = back_at(date(2026, 3, 2), "Asia/Seoul")
    assert back == datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    assert last_away_day(back, "Asia/Seoul") == date(2026, 3, 2)
    stored = {ALICE.email: Availability(True, back), BOB.email: Availability(True)}
    before = on_duty(TEAM, stored, back - timedelta(seconds=1))
    after = on_duty(TEAM, stored, back)
    assert [e.available for e in before] == [False, False, False]
    assert [e.available for e in after] == [True, False, False]
    pick = choose_owner(message(), (), before, Counter(), None)
    assert pick.owner is None and pick.reason.kind == AssignKind.NOBODY_ON_DUTY


def test_stored_availability_overrides_the_toml_default() -> None:
    stored = {CAROL.email: Availability(False)}
    assert [e.available for e in on_duty(TEAM, stored, datetime.now(UTC))] == [True, True, True]


def test_a_rule_naming_an_engineer_who_is_away_is_passed_over() -> None:
    rules = (
        RoutingRuleSpec(from_domain=("acme.co.kr",), owner="carol@example.com"),
        RoutingRuleSpec(from_domain=("acme.co.kr",), team="billing"),
    )
    got = choose_owner(message(), rules, TEAM, Counter(), None)
    assert got.owner == "bob@example.com"
    assert str(got.reason) == "rule:2:team:billing"
