"""Scheduled work as decisions (routing/schedule.py), the link resend and the one hourly cap."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from tests.unit.fakes import TEAM, FakeLookup
from ticketd.mail.message import Address
from ticketd.routing import schedule
from ticketd.routing.effects import (
    ChangeStatus,
    MarkBreached,
    MarkReminded,
    NoticeKind,
    QueueNotice,
    Suppressed,
)
from ticketd.routing.model import EngineerInfo, Priority, Role, Status, TicketView
from ticketd.routing.resend import resend_link

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
CAROL = EngineerInfo("carol@example.com", "Carol", Role.MANAGER)
SETTINGS = schedule.ScheduleSettings(24, 7, (*TEAM, CAROL))
TICKET = TicketView(
    id=1,
    tracking="SUP-0000-0000",
    status=Status.OPEN,
    priority=Priority.NORMAL,
    type=None,
    subject="Login",
    requester=Address("kim@acme.co.kr", "Kim"),
    owner="alice@example.com",
    language="ko",
    created_at=T0,
    updated_at=T0,
    first_response_remind_at=T0 + timedelta(hours=18),
    first_response_due_at=T0 + timedelta(hours=24),
)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def notices(decision: object) -> list[tuple[NoticeKind, str]]:
    effects = getattr(decision, "effects", ())
    return [(e.kind, e.recipient.email) for e in effects if isinstance(e, QueueNotice)]


def test_reminder_goes_to_the_owner_once() -> None:
    assert schedule.first_response(TICKET, at(17.9), SETTINGS) is None
    decision = schedule.first_response(TICKET, at(18), SETTINGS)
    assert decision is not None and isinstance(decision.effects[0], MarkReminded)
    assert notices(decision) == [(NoticeKind.SLA_REMINDER, "alice@example.com")]
    reminded = replace(TICKET, sla_reminded_at=at(18))
    assert schedule.first_response(reminded, at(20), SETTINGS) is None


def test_breach_tells_the_owner_and_every_manager_once() -> None:
    decision = schedule.first_response(TICKET, at(24), SETTINGS)
    assert decision is not None and isinstance(decision.effects[0], MarkBreached)
    assert notices(decision) == [
        (NoticeKind.SLA_BREACHED, "alice@example.com"),
        (NoticeKind.SLA_BREACHED, "bob@example.com"),
        (NoticeKind.SLA_BREACHED, "carol@example.com"),
    ]
    breached = replace(TICKET, sla_breached_at=at(24))
    assert schedule.first_response(breached, at(30), SETTINGS) is None


def test_a_manager_owner_is_told_once_and_an_unowned_breach_reaches_the_managers() -> None:
    owned_by_bob = replace(TICKET, owner="bob@example.com")
    assert [r for _, r in notices(schedule.first_response(owned_by_bob, at(25), SETTINGS))] == [
        "bob@example.com",
        "carol@example.com",
    ]
    unowned = replace(TICKET, owner=None)
    assert notices(schedule.first_response(unowned, at(18), SETTINGS)) == []
    assert len(notices(schedule.first_response(unowned, at(25), SETTINGS))) == 2


def test_answered_closed_or_merged_tickets_have_no_clock() -> None:
    for stopped in (
        replace(TICKET, first_response_at=at(1)),
        replace(TICKET, status=Status.RESOLVED),
        replace(TICKET, merged_into=7),
    ):
        assert schedule.first_response(stopped, at(48), SETTINGS) is None


def test_past_both_instants_at_once_only_the_breach_is_sent() -> None:
    decision = schedule.first_response(TICKET, at(30), SETTINGS)
    assert decision is not None
    assert [type(e) for e in decision.effects if not isinstance(e, QueueNotice)] == [MarkBreached]


def test_auto_close_after_quiet_days_tells_the_customer() -> None:
    resolved = replace(TICKET, status=Status.RESOLVED, resolved_at=at(0))
    assert schedule.auto_close(resolved, at(24 * 7 - 1), SETTINGS) is None
    decision = schedule.auto_close(resolved, at(24 * 7), SETTINGS)
    assert decision is not None
    change = decision.effects[0]
    assert isinstance(change, ChangeStatus) and change.status == Status.CLOSED
    assert notices(decision) == [(NoticeKind.AUTO_CLOSED, "kim@acme.co.kr")]
    wrote_again = replace(resolved, last_customer_at=at(24 * 6))
    assert schedule.auto_close(wrote_again, at(24 * 7), SETTINGS) is None


def test_link_resend_is_capped_and_the_suppression_recorded() -> None:
    decision = resend_link(TICKET, " Kim@ACME.co.kr", FakeLookup(automatic_sent=4), 5, at(0))
    [notice] = decision.effects
    assert isinstance(notice, QueueNotice) and notice.kind == NoticeKind.STATUS_LINK
    assert notice.recipient.email == "kim@acme.co.kr"
    capped = resend_link(TICKET, "kim@acme.co.kr", FakeLookup(automatic_sent=5), 5, at(0))
    [suppressed] = capped.effects
    assert isinstance(suppressed, Suppressed) and suppressed.ticket == TICKET.ref
    assert suppressed.reason == "suppressed_cap:status_link:5:kim@acme.co.kr"


def test_link_resend_to_another_address_changes_nothing() -> None:
    for typed in ("mallory@evil.example", "kim@acme.co.kr.evil.example", ""):
        decision = resend_link(TICKET, typed, FakeLookup(), 5, at(0))
        assert decision.effects == ()
