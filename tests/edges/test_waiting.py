"""Waiting on the customer on a real database with an injected clock: one reminder per
waiting spell, then one resolution with its notice; a reply in between starts again; a
restart (a new store and writer) or a clock jump neither repeats nor skips a step."""

from __future__ import annotations

from datetime import datetime, timedelta
from email import message_from_bytes, policy

import pytest
from sqlalchemy import Engine, select

from tests.builders import claim
from tests.edges.test_sla_clocks import Desk, kst
from tests.unit.fakes import FrozenClock
from ticketd.routing.effects import ChangeStatus, PublicReply
from ticketd.routing.model import Status
from ticketd.routing.outcome_words import event_summary
from ticketd.store.schema import events, outbox

START = kst(2027, 1, 8, 17)
KINDS = ("waiting_reminder", "waiting_resolved")


@pytest.fixture
def desk(lane_engine: Engine) -> Desk:
    return Desk(lane_engine, FrozenClock(START))


def wait(desk: Desk, at: datetime) -> None:
    """An engineer asks the customer for logs and sets the ticket waiting."""
    ref = desk.ref()
    asked = PublicReply(ref, "Could you send the logs?", "bob@example.com")  # type: ignore[arg-type]
    waiting = ChangeStatus(ref, Status.WAITING, "asked for logs", "bob@example.com")  # type: ignore[arg-type]
    desk.apply(at, asked, waiting)


def waiting_mail(desk: Desk) -> list[tuple[str, str]]:
    query = select(outbox.c.kind, outbox.c.recipient).where(outbox.c.kind.in_(KINDS))
    with desk.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(query.order_by(outbox.c.id))]  # type: ignore[misc]


def schedule_events(desk: Desk) -> list[tuple[str, str, str]]:
    query = select(events.c.type, events.c.actor, events.c.summary).where(
        events.c.actor == "schedule"
    )
    with desk.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(query.order_by(events.c.id))]  # type: ignore[misc]


def test_a_waiting_reminder_and_close_each_once(desk: Desk) -> None:
    desk.mail(claim())
    wait(desk, START)
    assert desk.jobs(START + timedelta(days=3, minutes=-1)).actions == 0
    assert desk.jobs(START + timedelta(days=3)).waiting == 1
    assert desk.jobs(START + timedelta(days=5)).actions == 0
    assert desk.ticket()["status"] == "waiting"
    assert desk.jobs(START + timedelta(days=7, minutes=-1)).actions == 0
    assert desk.jobs(START + timedelta(days=7)).waiting == 1
    assert desk.jobs(START + timedelta(days=9)).actions == 0
    assert desk.ticket()["status"] == "resolved"
    assert waiting_mail(desk) == [
        ("waiting_reminder", "kim@acme.co.kr"),
        ("waiting_resolved", "kim@acme.co.kr"),
    ]
    assert [(kind, actor) for kind, actor, _ in schedule_events(desk)] == [
        ("waiting_reminded", "schedule"),
        ("status_changed", "schedule"),
    ]
    summary = schedule_events(desk)[1][2]
    assert summary.endswith(": no_reply_after_reminder:4")
    assert "no reply for 4 days after the reminder" in event_summary(
        "status_changed", summary, "en"
    )


def test_the_reminder_is_a_threaded_korean_customer_mail_with_the_status_link(
    desk: Desk,
) -> None:
    desk.mail(
        claim(subject="로그인이 안 됩니다", body="어제부터 관리자 페이지에서 500 오류가 납니다.")
    )
    wait(desk, START)
    desk.jobs(START + timedelta(days=3))
    with desk.engine.connect() as connection:
        row = connection.execute(
            select(outbox.c.data, outbox.c.automatic).where(outbox.c.kind == "waiting_reminder")
        ).one()
    mail = message_from_bytes(row.data, policy=policy.default)
    tracking = str(desk.ticket()["tracking"])
    assert row.automatic
    assert f"[{tracking}]" in mail["Subject"]
    assert mail["In-Reply-To"] and mail["Auto-Submitted"] == "auto-replied"
    body = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "답변이 필요합니다" in body and "4일 안에" in body
    assert f"/t/{tracking}?k=" in body


def test_a_reply_in_between_starts_a_new_spell(desk: Desk) -> None:
    desk.mail(claim())
    wait(desk, START)
    desk.jobs(START + timedelta(days=3))
    desk.clock.at = START + timedelta(days=4)
    tracking = desk.ticket()["tracking"]
    desk.mail(claim(subject=f"Re: [{tracking}] Cannot log in", body="Here are the logs"))
    assert desk.ticket()["status"] == "open"
    assert desk.jobs(START + timedelta(days=7)).waiting == 0
    wait(desk, START + timedelta(days=5))
    assert desk.jobs(START + timedelta(days=7)).waiting == 0
    assert desk.jobs(START + timedelta(days=8)).waiting == 1
    assert desk.ticket()["status"] == "waiting"
    assert desk.jobs(START + timedelta(days=12)).waiting == 1
    assert [kind for kind, _ in waiting_mail(desk)] == [
        "waiting_reminder",
        "waiting_reminder",
        "waiting_resolved",
    ]


def test_a_restart_and_clock_jumps_neither_repeat_nor_skip(desk: Desk) -> None:
    desk.mail(claim())
    wait(desk, START)
    assert desk.jobs(START + timedelta(days=30)).waiting == 1
    assert desk.ticket()["status"] == "waiting"
    restarted = Desk(desk.engine, FrozenClock(START))
    assert restarted.jobs(START + timedelta(days=30)).actions == 0
    assert restarted.jobs(START + timedelta(days=2)).actions == 0
    assert restarted.jobs(START + timedelta(days=34)).waiting == 1
    assert Desk(desk.engine, FrozenClock(START)).jobs(START + timedelta(days=60)).waiting == 0
    assert [kind for kind, _ in waiting_mail(desk)] == list(KINDS)
