"""SLA clock steps and auto-close."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ticketd.routing.sla import Deadline, SlaStep, auto_close_due, clock_step

T0 = datetime(2026, 11, 24, tzinfo=UTC)


def step(hours_later: float, **flags: bool) -> SlaStep:
    state = {"answered": False, "reminded": False, "breached": False, **flags}
    deadline = Deadline(T0 + timedelta(hours=18), T0 + timedelta(hours=24))
    return clock_step(deadline, T0 + timedelta(hours=hours_later), **state)


def test_nothing_before_three_quarters() -> None:
    assert step(17.9) == SlaStep.NONE


def test_reminder_at_75_percent_once() -> None:
    assert step(18) == SlaStep.REMIND
    assert step(20, reminded=True) == SlaStep.NONE


def test_breach_at_100_percent_once() -> None:
    assert step(24, reminded=True) == SlaStep.BREACH
    assert step(30, reminded=True, breached=True) == SlaStep.NONE


def test_answer_stops_the_clock() -> None:
    assert step(30, answered=True) == SlaStep.NONE


def test_auto_close_counts_from_the_later_of_resolution_and_customer_reply() -> None:
    resolved = T0
    assert not auto_close_due(resolved, None, T0 + timedelta(days=6.9), 7)
    assert auto_close_due(resolved, None, T0 + timedelta(days=7), 7)
    replied = T0 + timedelta(days=3)
    assert not auto_close_due(resolved, replied, T0 + timedelta(days=8), 7)
    assert not auto_close_due(None, None, T0 + timedelta(days=80), 7)
