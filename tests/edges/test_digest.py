"""The digest on the lane's database: sent exactly once per day with an injected clock
(twice, after a restart, after downtime, with the clock set back), its figures read from a
hand-made inbox, and its Korean and English text."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time, timedelta
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, insert, select

from tests.unit.fakes import FrozenClock
from ticketd.daemon.digest_job import send_digest
from ticketd.mail.message import Address
from ticketd.notifications.notices import NoticeFactory, NoticeSettings
from ticketd.notifications.render import Renderer
from ticketd.routing.digest import DigestPeriod, DigestSettings
from ticketd.routing.model import EngineerInfo, Role
from ticketd.store import digests as digest_rows
from ticketd.store.db import Store, make_engine
from ticketd.store.schema import codes, digests, events, outbox, tickets

SEOUL = ZoneInfo("Asia/Seoul")
ALICE, BOB, CAROL = "alice@example.com", "bob@example.com", "carol@example.com"
ENGINEERS = (
    EngineerInfo(ALICE, "Alice"),
    EngineerInfo(BOB, "Bob", Role.MANAGER),
    EngineerInfo(CAROL, "Carol", Role.MANAGER, available=False),
)
MANAGERS = (Address(BOB, "Bob"), Address(CAROL, "Carol"))


def seoul(day: int, hour: float) -> datetime:
    """December ``day``, 2026 at ``hour`` in Seoul, as UTC."""
    return (datetime(2026, 12, day, tzinfo=SEOUL) + timedelta(hours=hour)).astimezone(UTC)


def settings(language: str = "ko") -> DigestSettings:
    return DigestSettings(time(9, 0), "Asia/Seoul", language, MANAGERS)


def notices(clock: FrozenClock) -> NoticeFactory:
    return NoticeFactory(
        NoticeSettings(
            service_name="Example Support",
            support_address="support@example.com",
            sender=Address("support@example.com", "Example Support"),
            base_url="http://127.0.0.1:8080",
            secret_key="k" * 32,
            first_response_hours=24,
            engineer_names={e.email: e.name for e in ENGINEERS},
        ),
        Renderer.default(),
        os.urandom,
        clock.now,
    )


def run(engine: Engine, clock: FrozenClock, language: str = "ko") -> int:
    """One digest job, as a fresh process would run it (new store, new writer)."""
    return send_digest(
        Store(engine, clock.now), notices(clock), settings(language), ENGINEERS, clock
    )


def sent(engine: Engine) -> list[Message]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(outbox.c.data).where(outbox.c.kind == "digest").order_by(outbox.c.id)
        )
        return [message_from_bytes(row.data) for row in rows]


def sent_days(engine: Engine) -> list[date]:
    with engine.connect() as connection:
        return list(connection.execute(select(digests.c.day).order_by(digests.c.day)).scalars())


TICKETS = [
    # created on Dec 1 (Seoul): three new, one with a code, one unowned
    dict(id=1, created=seoul(1, 10), owner=ALICE, due=seoul(2, 10), code=1, subject="배송 파손"),
    dict(id=2, created=seoul(1, 11), owner=None, due=None, subject="결제 오류\r\nBcc: x@evil"),
    dict(id=3, created=seoul(1, 12), owner=CAROL, due=seoul(2, 12), subject="로그인 불가"),
    # created on Nov 30: breached, and one resolved on Dec 1
    dict(id=4, created=seoul(1, -20), owner=ALICE,
         due=seoul(1, 4), subject="오래된 문의"),
    dict(id=5, created=seoul(1, -10), owner=ALICE, due=seoul(2, 14), status="resolved",
         answered=seoul(1, -9), subject="해결된 문의"),
]  # fmt: skip
EVENTS = [
    (seoul(1, 15), 5, "status_changed", "resolved", ""),
    (seoul(1, 16), 5, "csat", "bad", "답변이 너무 늦었어요"),
    (seoul(1, 17), 1, "duplicate", None, ""),
    (seoul(1, -5), 4, "duplicate", None, ""),
    (seoul(1, -4), 4, "duplicate", None, ""),
]


@pytest.fixture
def engine(lane_engine: Engine) -> Engine:
    with lane_engine.begin() as connection:
        connection.execute(
            insert(codes).values(id=1, depth=1, name="배송", path="배송", created_at=seoul(1, -100))
        )
        for t in TICKETS:
            connection.execute(
                insert(tickets).values(
                    id=t["id"], tracking=f"SUP-TEST-000{t['id']}", status=t.get("status", "open"),
                    subject=t["subject"], requester_email="kim@acme.test", owner=t["owner"],
                    language="ko", fingerprint=str(t["id"]), created_at=t["created"],
                    updated_at=t["created"], first_response_due_at=t["due"],
                    first_response_at=t.get("answered"), code_id=t.get("code"),
                    resolved_at=seoul(1, 15) if t.get("status") else None,
                )
            )  # fmt: skip
        for when, ticket, kind, value, summary in EVENTS:
            connection.execute(
                insert(events).values(
                    ticket_id=ticket, type=kind, at=when, public=True, value=value, summary=summary
                )
            )
    return lane_engine


def test_sent_once_per_day_across_restarts_downtime_and_a_clock_set_back(engine: Engine) -> None:
    clock = FrozenClock(seoul(2, 8.99))
    assert run(engine, clock) == 0  # before 09:00
    clock.at = seoul(2, 9.01)
    assert run(engine, clock) == 2  # one per manager
    assert run(engine, clock) == 0
    clock.advance(hours=10)
    restarted = make_engine(engine.url.render_as_string(hide_password=False))
    try:
        assert run(restarted, clock) == 0  # a new process, the same day
    finally:
        restarted.dispose()
    assert sent_days(engine) == [date(2026, 12, 1)]
    clock.at = seoul(6, 15)  # down from the 3rd to the 6th
    assert run(engine, clock) == 2
    assert sent_days(engine) == [date(2026, 12, 1), date(2026, 12, 5)]
    clock.at = seoul(4, 10)  # the clock set back
    assert run(engine, clock) == 0
    assert len(sent(engine)) == 4
    assert sorted(m["To"] for m in sent(engine)[:2]) == [
        "Bob <bob@example.com>",
        "Carol <carol@example.com>",
    ]


def test_a_period_is_recorded_once_even_when_two_processes_race(engine: Engine) -> None:
    period = DigestPeriod(date(2026, 12, 1), date(2026, 12, 1))
    with engine.begin() as connection:
        assert digest_rows.record(connection, period, 2, seoul(2, 9))
    with engine.begin() as connection:
        assert not digest_rows.record(connection, period, 2, seoul(2, 9))


def body(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode("utf-8").replace("\r\n", "\n")


def test_the_korean_digest_reads_naturally_with_every_figure(engine: Engine) -> None:
    run(engine, FrozenClock(seoul(2, 9.5)))
    mail = sent(engine)[0]
    subject = str(make_header(decode_header(mail["Subject"])))
    assert subject == "[Example Support] 2026년 12월 1일(화) 일일 요약"
    text = body(mail)
    assert "Bob 님, 안녕하세요." in text
    assert "2026년 12월 1일(화) 하루 동안의 고객 지원 현황을 정리해 드립니다." in text
    assert "신규 접수: 3건 (1건 증가)" in text  # 3 on Dec 1, 2 on Nov 30
    assert "해결: 1건 (1건 증가)" in text
    assert "중복 접수: 1건 (1건 감소)" in text
    assert "Alice: 2건" in text and "Carol: 1건" in text
    assert "■ SLA 기한을 넘긴 티켓 (1건)\n  [SUP-TEST-0004] 오래된 문의" in text
    assert "http://127.0.0.1:8080/staff/t/SUP-TEST-0004" in text
    assert "■ SLA 기한이 임박한 티켓 (2건, 기한의 75% 경과)\n  [SUP-TEST-0001] 배송 파손" in text
    assert "■ 담당자가 없는 티켓 (1건)\n  [SUP-TEST-0002] 결제 오류 Bcc: x@evil" in text
    assert "■ 부재 중인 담당자의 응답 대기 티켓 (1건)\n  [SUP-TEST-0003] 로그인 불가" in text
    assert "응답 기한: 12월 2일 12:00" in text
    assert "배송: 1건" in text
    assert '고객 의견: "답변이 너무 늦었어요"' in text
    assert "http://127.0.0.1:8080/staff/dashboard" in text
    assert mail["Auto-Submitted"] == "auto-generated"
    assert "Bcc" not in mail


def test_the_english_digest_reads_naturally(engine: Engine) -> None:
    run(engine, FrozenClock(seoul(2, 9.5)), "en")
    text = body(sent(engine)[0])
    assert "Hello Bob," in text
    assert "Here is how support went on Tue 1 Dec 2026." in text
    assert "■ At a glance (compared with the day before)" in text
    assert "New tickets: 3 (up 1)" in text and "Duplicates: 1 (down 1)" in text
    assert "■ SLA breached (1)\n  [SUP-TEST-0004]" in text
    assert "Owner: Alice · first response due 1 Dec 04:00" in text
    assert "■ Unowned tickets (1)" in text
    assert 'Customer\'s comment: "답변이 너무 늦었어요"' in text
    assert str(sent(engine)[0]["Subject"]) == "[Example Support] Daily digest for Tue 1 Dec 2026"
