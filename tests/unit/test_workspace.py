"""The workspace's pure decisions: the SLA badge, the company domain, team mates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ticketd.routing.model import EngineerInfo, Priority, Role, Status
from ticketd.routing.sla import SlaPolicy
from ticketd.routing.workspace import SlaState, StaffUser, company_domain, sla_state, team_mates

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
DUE = T0 + timedelta(hours=8)


@pytest.mark.parametrize(
    ("hours", "status", "answered", "breached", "expected"),
    [
        (0, Status.OPEN, False, False, SlaState.OK),
        (5.99, Status.PENDING, False, False, SlaState.OK),
        (6, Status.OPEN, False, False, SlaState.SOON),
        (8, Status.WAITING, False, False, SlaState.BREACHED),
        (1, Status.OPEN, False, True, SlaState.BREACHED),
        (9, Status.OPEN, True, True, SlaState.NONE),
        (9, Status.RESOLVED, False, False, SlaState.NONE),
        (9, Status.CLOSED, False, True, SlaState.NONE),
    ],
)
def test_the_badge_at_a_fixed_clock(
    hours: float, status: Status, answered: bool, breached: bool, expected: SlaState
) -> None:
    now = T0 + timedelta(hours=hours)
    assert sla_state(status, T0, DUE, now, answered=answered, breached=breached) == expected


def test_no_due_time_means_no_badge() -> None:
    assert sla_state(Status.OPEN, T0, None, T0, answered=False, breached=False) == "none"


def test_the_policy_counts_hours_from_creation() -> None:
    assert SlaPolicy(4).first_response_due(T0, Priority.URGENT) == T0 + timedelta(hours=4)


@pytest.mark.parametrize(
    ("email", "domain"),
    [
        ("kim@Acme.co.kr", "acme.co.kr"),
        ("kim@gmail.com", None),
        ("lee@NAVER.com", None),
        ("park@hanmail.net", None),
        ("nobody", None),
    ],
)
def test_the_company_domain_skips_webmail(email: str, domain: str | None) -> None:
    assert company_domain(email) == domain


def test_team_mates_share_a_configured_team() -> None:
    engineers = (
        EngineerInfo("a@x.com", "A", Role.AGENT, ("web", "db")),
        EngineerInfo("b@x.com", "B", Role.AGENT, ("db",)),
        EngineerInfo("c@x.com", "C", Role.AGENT, ("mail",)),
    )
    assert team_mates(StaffUser("a@x.com", "A", Role.AGENT), engineers) == ("a@x.com", "b@x.com")
    assert team_mates(StaffUser("z@x.com", "Z", Role.AGENT), engineers) == ()
