"""Support fees end to end on the real store: ``#billable`` from the workspace, the
resolution mail's fee summary in Korean and English, and ``ticketd fees`` as a user runs
it, over a hand-counted month with its boundary in Asia/Seoul."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.e2e.support import text_of
from tests.fixtures.smtp_sink import SmtpSink
from tests.web.staff_support import Desk, desk
from tests.web.test_staff_actions import act, events, mail_to, receive, version
from ticketd.store.schema import tickets

FEES = """
[fees]
default_rate = 30000
increment_minutes = 15
notify_customer = true

[[fees.customers]]
domain = "acme.co.kr"
rate = 50000
name = "ACME"

[[fees.customers]]
domain = "us-client.com"
rate = 99.99
currency = "USD"
"""


@pytest.fixture
def d(tmp_path: Path, smtp_sink: SmtpSink) -> Iterator[Desk]:
    with desk(tmp_path, stored=True, sink=smtp_sink, extra=FEES) as opened:
        yield opened


def work(d: Desk, tracking: str, *commands: str, at: datetime | None = None) -> dict[str, object]:
    """Bob (a manager) applies ``commands`` from the workspace (at ``at``)."""
    if at is not None:
        d.clock.at = at
    csrf = d.sign_in("bob@example.com")
    body = {"commands": list(commands), "text": "", "version": version(d, tracking)}
    answer = act(d, tracking, body, csrf)
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def billable(d: Desk, tracking: str) -> bool | None:
    query = select(tickets.c.billable).where(tickets.c.tracking == tracking)
    with d.components.store.engine.connect() as connection:
        return connection.execute(query).scalar_one()


def test_billable_from_the_workspace_is_recorded_and_reported(d: Desk) -> None:
    tracking = receive(d)
    result = work(d, tracking, "#billable no", "#billable maybe")
    assert result["done"] == ["#billable no"]
    assert result["refused"] == [
        "#billable maybe  -- 거부: 'maybe'는 알 수 없는 과금 여부입니다(가능한 값: yes, no)"
    ]
    assert billable(d, tracking) is False
    assert ("billable_changed", "bob@example.com") in events(d, tracking)
    work(d, tracking, "#billable yes")
    assert billable(d, tracking) is True


def test_the_resolution_mail_itemises_the_fee_in_korean(d: Desk, smtp_sink: SmtpSink) -> None:
    tracking = receive(d)
    work(d, tracking, "#time 1h10m", "#resolve")
    [mail] = [m for m in mail_to(smtp_sink, d, "kim@acme.co.kr") if "해결" in m["Subject"]]
    text = text_of(mail)
    assert "작업 시간: 1시간 10분" in text
    assert "청구 시간: 1시간 15분" in text
    assert "시간당 요금: 50,000원" in text
    assert "청구 금액: 62,500원" in text


def test_the_resolution_mail_itemises_the_fee_in_english(d: Desk, smtp_sink: SmtpSink) -> None:
    tracking = receive(
        d, sender="ann@us-client.com", subject="Login fails", body="I cannot log in at all."
    )
    work(d, tracking, "#time 40m", "#resolve")
    [mail] = [m for m in mail_to(smtp_sink, d, "ann@us-client.com") if "Resolved" in m["Subject"]]
    text = text_of(mail)
    assert "Time worked:   40 min" in text
    assert "Billable time: 45 min" in text
    assert "Rate:          USD 99.99 per hour" in text
    assert "Amount:        USD 74.99" in text  # 74.9925


def test_no_fee_in_the_mail_of_a_ticket_not_charged(d: Desk, smtp_sink: SmtpSink) -> None:
    tracking = receive(d)
    work(d, tracking, "#time 1h", "#billable no", "#resolve")
    [mail] = [m for m in mail_to(smtp_sink, d, "kim@acme.co.kr") if "해결" in m["Subject"]]
    assert "요금" not in text_of(mail)


def seoul(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    """A time of 2026 in Asia/Seoul, as UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=ZoneInfo("Asia/Seoul")).astimezone(UTC)


def test_ticketd_fees_prints_the_hand_counted_month(d: Desk) -> None:
    def claim(sender: str, minutes: str, resolved: datetime, *extra: str) -> None:
        d.clock.at = datetime(2026, 10, 20, 3, tzinfo=UTC)
        tracking = receive(d, sender=sender, body=f"문의 {sender} {minutes} {resolved}")
        work(d, tracking, f"#time {minutes}", *extra, "#resolve", at=resolved)

    # ACME, 50,000 KRW an hour, subdomains included:
    claim("kim@acme.co.kr", "50m", datetime(2026, 10, 31, 15, 0, tzinfo=UTC))  # 11-01 00:00 KST: 60
    claim("lee@seoul.acme.co.kr", "1h20m", seoul(30, 23, 59))  # 90
    claim("park@acme.co.kr", "2h", seoul(15, 12), "#billable no")  # 0, counted
    claim("kim@acme.co.kr", "3h", datetime(2026, 10, 31, 14, 59, tzinfo=UTC))  # October KST
    claim("kim@acme.co.kr", "3h", seoul(1, 9, month=12))  # December
    # the default rate, 30,000 KRW an hour:
    claim("choi@other.kr", "5m", seoul(3, 10))  # 15
    claim("han@other.kr", "31m", seoul(4, 10))  # 45
    # webmail, a customer of its own:
    claim("solo@naver.com", "15m", seoul(5, 10))  # 15
    result = d.ws.subprocess("fees", "--month", "2026-11")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        {
            "customer": "acme.co.kr",
            "name": "ACME",
            "tickets": 3,
            "minutes": 50 + 80 + 120,
            "billable_minutes": 150,
            "rate": 50000,
            "amount": 125000,
            "currency": "KRW",
        },
        {
            "customer": "other.kr",
            "name": "",
            "tickets": 2,
            "minutes": 36,
            "billable_minutes": 60,
            "rate": 30000,
            "amount": 30000,
            "currency": "KRW",
        },
        {
            "customer": "solo@naver.com",
            "name": "",
            "tickets": 1,
            "minutes": 15,
            "billable_minutes": 15,
            "rate": 30000,
            "amount": 7500,
            "currency": "KRW",
        },
    ]
    result = d.ws.subprocess("fees", "--month", "2026-11", "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("\ufeff")
    rows = list(csv.DictReader(result.stdout.removeprefix("\ufeff").splitlines()))
    assert [(r["customer"], r["billable_minutes"], r["amount"]) for r in rows] == [
        ("acme.co.kr", "150", "125000"),
        ("other.kr", "60", "30000"),
        ("solo@naver.com", "15", "7500"),
    ]
    october = json.loads(d.ws.subprocess("fees", "--month", "2026-10").stdout)
    assert [(r["customer"], r["minutes"], r["amount"]) for r in october] == [
        ("acme.co.kr", 180, 150000)
    ]


def test_a_bad_month_is_one_line_of_error(d: Desk) -> None:
    result = d.ws.subprocess("fees", "--month", "2026-13")
    assert result.returncode == 1
    assert result.stderr == "error: --month: expected YYYY-MM, got '2026-13'\n"
