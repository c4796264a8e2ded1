"""The manager dashboard on the real app and store: who may see it, every card with the
report's numbers, the downloads equal to ``ticketd report``'s serialisation, and the
drill-down lists of exactly the tickets a figure counts (real pipeline, real database)."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, select, update

from tests.builders import claim
from tests.web.report_support import MemoryReports
from tests.web.staff_support import Desk, desk
from ticketd.mail.message import RawMessage, Source
from ticketd.routing.report_format import report_csv, report_json
from ticketd.routing.reports import (
    Csat,
    Granularity,
    OwnerFigures,
    PeriodFigures,
    ReportRequest,
)
from ticketd.store.schema import codes, events, tickets
from ticketd.store.workspace import SqlStaffReader

CARDS = ("volume", "status", "codes", "types", "first-response", "owners", "duplicates", "csat")
FIRST, SECOND = date(2026, 3, 1), date(2026, 3, 2)


def figures() -> MemoryReports:
    one = PeriodFigures(
        FIRST,
        new=1234,
        resolved=17,
        closed=9,
        reopened=2,
        duplicates=41,
        first_response_median_hours=3.25,
        first_response_p90_hours=20.5,
        sla_met_ratio=0.875,
        by_code={"배송/파손": 12, "<b>결제</b>": 4},
        by_type={"bug": 7, "question": 5},
        by_owner={"alice@example.com": OwnerFigures(3, 11, 2.5)},
        by_channel={"imap": 30, "workspace": 6},
        code_types={"배송/파손": {"bug": 8, "question": 4}},
        csat=Csat(good=13, bad=3),
    )
    two = PeriodFigures(SECOND, new=5, resolved=1, csat=Csat(good=1, bad=0))
    return MemoryReports(
        [one, two],
        PeriodFigures(date(2026, 2, 27), new=1000, by_code={"배송/파손": 6}),
        status_now={"open": 2048, "resolved": 3},
        open_by_owner={"alice@example.com": 3, "bob@example.com": 1},
    )


@pytest.fixture
def memory() -> MemoryReports:
    return figures()


@pytest.fixture
def d(tmp_path: Path, memory: MemoryReports) -> Iterator[Desk]:
    with desk(tmp_path, stored=True, reports=memory) as opened:
        yield opened


RANGE = {"from": "2026-03-01", "to": "2026-03-02", "by": "day"}


def test_without_a_session_the_dashboard_and_its_files_redirect_to_sign_in(d: Desk) -> None:
    for path in ("/staff/dashboard", "/staff/dashboard.csv", "/staff/dashboard/tickets"):
        answer = d.client.get(path)
        assert answer.status_code in (302, 303) and "/staff/login" in answer.headers["location"]


def test_an_agent_is_refused_in_their_language(d: Desk, memory: MemoryReports) -> None:
    d.sign_in("alice@example.com")
    page = d.client.get("/staff/dashboard")
    assert page.status_code == 403 and "관리자만 볼 수 있습니다" in page.text
    english = d.client.get("/staff/dashboard?lang=en")
    assert english.status_code == 403 and "Only managers" in english.text
    for path in ("/staff/dashboard.csv", "/staff/dashboard.json", "/staff/dashboard/tickets"):
        assert d.client.get(path).status_code == 403
    assert memory.asked == []
    assert 'href="/staff/dashboard"' not in d.client.get("/staff/").text


def test_a_manager_sees_every_card_with_the_reports_numbers(d: Desk, memory: MemoryReports) -> None:
    d.sign_in("bob@example.com")
    assert 'href="/staff/dashboard"' in d.client.get("/staff/").text
    page = d.client.get("/staff/dashboard", params={**RANGE, "top": "5"})
    assert page.status_code == 200, page.text
    assert memory.asked[-1] == ReportRequest(FIRST, SECOND, Granularity.DAY, "Asia/Seoul", 5)
    text = page.text
    for card in CARDS:
        section = re.search(rf'id="card-{card}".*?</section>', text, re.S)
        assert section, card
        assert '<svg class="chart" role="img"' in section.group(0)
        assert "<table" in section.group(0)
    shown = html.unescape(text)
    for figure in ("1,234", "1,239", "2,048", "41", "3.2", "20.5", "87.5%", "13", "▲ 24%"):
        assert figure in shown, figure
    assert "배송/파손" in shown and "<b>결제</b>" in shown and "<b>결제</b>" not in text
    assert "메일함 (IMAP)" in shown and "업무 화면" in shown and "오류" in shown
    assert "▲ 100%" in shown  # the code 배송/파손: 12 against 6
    assert "81.2%" in shown  # good share 13 of 16
    assert "이번 주" in shown and "지난달" in shown
    first_day = "/staff/dashboard/tickets?measure=new&amp;start=2026-03-01&amp;end=2026-03-01"
    assert f'href="{first_day}"' in text


def test_bad_parameters_are_named_and_defaults_used(d: Desk, memory: MemoryReports) -> None:
    d.sign_in("bob@example.com")
    page = d.client.get("/staff/dashboard", params={"from": "x", "by": "year", "top": "9999"})
    assert page.status_code == 200
    asked = memory.asked[-1]
    assert asked.by is Granularity.DAY and asked.top == 10
    assert (asked.end - asked.start).days == 29
    for message in ("시작일은", "집계 단위는", "분류 개수는"):
        assert message in page.text


def test_downloads_equal_the_reports_csv_and_json(d: Desk, memory: MemoryReports) -> None:
    d.sign_in("bob@example.com")
    request = ReportRequest(FIRST, SECOND, Granularity.DAY, "Asia/Seoul", 10)
    expected = memory.report(request, datetime.now(UTC))
    answer = d.client.get("/staff/dashboard.csv", params=RANGE)
    assert answer.status_code == 200
    assert answer.headers["content-disposition"].startswith("attachment;")
    assert answer.content.decode("utf-8") == report_csv(expected)
    assert answer.content.startswith("\ufeff".encode())
    data = d.client.get("/staff/dashboard.json", params=RANGE)
    assert "attachment" in data.headers["content-disposition"]
    assert json.loads(data.content) == json.loads(json.dumps(report_json(expected)))


def receive(d: Desk, subject: str) -> str:
    data = claim(subject=subject, body=f"{subject}: 확인 부탁드립니다.", sender="kim@acme.co.kr")
    d.components.ingestor.enqueue(RawMessage(data, Source.SMTP, d.clock.now()))
    d.components.ingestor.process_pending()
    with d.components.store.engine.connect() as connection:
        return str(
            connection.exec_driver_sql(
                "SELECT tracking FROM tickets ORDER BY id DESC LIMIT 1"
            ).scalar_one()
        )


def act(d: Desk, csrf: str, tracking: str, *commands: str) -> None:
    reader = SqlStaffReader(d.components.store.engine, d.components.config.engineers)
    ticket = reader.ticket(tracking, d.clock.now())
    assert ticket is not None
    body = {"commands": list(commands), "text": "", "version": ticket.version}
    answer = d.client.post(
        f"/staff/api/tickets/{tracking}/actions", json=body, headers={"X-CSRF-Token": csrf}
    )
    assert answer.status_code == 200 and answer.json()["refused"] == [], answer.text


def classify(d: Desk, coded: dict[str, str]) -> None:
    """Codes on tickets (the code commands are another module's; set here directly)."""
    with d.components.store.engine.begin() as connection:
        ids: dict[str, int] = {}
        for path in sorted({p for full in coded.values() for p in _prefixes(full)}):
            parent = ids.get(path.rpartition("/")[0])
            ids[path] = connection.execute(
                insert(codes).values(
                    parent_id=parent,
                    depth=path.count("/") + 1,
                    name=path.rpartition("/")[2],
                    path=path,
                    created_at=d.clock.now(),
                )
            ).inserted_primary_key[0]
        for tracking, path in coded.items():
            connection.execute(
                update(tickets).where(tickets.c.tracking == tracking).values(code_id=ids[path])
            )


def _prefixes(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[: n + 1]) for n in range(len(parts))]


def listed(d: Desk, **params: str) -> list[str]:
    page = d.client.get("/staff/dashboard/tickets", params=params)
    assert page.status_code == 200, page.text
    return re.findall(r'<span class="tracking">([A-Z0-9-]+)</span>', page.text)


def test_drill_down_lists_exactly_the_tickets_of_a_figure(d: Desk) -> None:
    first = receive(d, "배송 파손")  # 2026-03-02 10:00 in Seoul
    d.clock.advance(hours=14)  # 2026-03-03 00:00 in Seoul: the next day
    second = receive(d, "교환 요청")
    third = receive(d, "결제 문의")
    csrf = d.sign_in("bob@example.com")
    act(d, csrf, first, "#assign alice@example.com", "#resolve")
    act(d, csrf, second, "#assign bob@example.com", "#type bug")
    classify(d, {first: "배송/파손", second: "배송/파손/교환요청", third: "배송/파"})
    day1 = {"start": "2026-03-02", "end": "2026-03-02"}
    day2 = {"start": "2026-03-03", "end": "2026-03-03"}
    both = {"start": "2026-03-02", "end": "2026-03-03"}
    assert listed(d, measure="new", **day1) == [first]
    assert listed(d, measure="new", **day2) == [second, third]
    assert listed(d, measure="new", **both) == [first, second, third]
    assert listed(d, measure="resolved", **day2) == [first]
    assert listed(d, measure="resolved", **day1) == []
    assert listed(d, measure="code", key="배송/파손", **both) == [first, second]
    assert listed(d, measure="code", key="배송", **both) == [first, second, third]
    assert listed(d, measure="code", key="배송/파손/교환요청", **both) == [second]
    assert listed(d, measure="owner", key="alice@example.com", **both) == [first]
    assert listed(d, measure="owner", key="bob@example.com", **both) == []
    assert listed(d, measure="type", key="bug", **day2) == [second]
    act(d, csrf, first, "#reopen")
    assert listed(d, measure="reopened", **day2) == [first]
    for bad in ({"measure": "nope", **both}, {"measure": "code", **both}, {"measure": "new"}):
        assert d.client.get("/staff/dashboard/tickets", params=bad).status_code == 400


def test_drill_down_pages_by_keyset(d: Desk) -> None:
    d.sign_in("bob@example.com")
    made = [receive(d, f"문의 {n}") for n in range(3)]
    day = {"measure": "new", "start": "2026-03-02", "end": "2026-03-02"}
    from ticketd.web.staff import dashboard

    dashboard_size = dashboard.PAGE_SIZE
    try:
        dashboard.PAGE_SIZE = 2
        first = d.client.get("/staff/dashboard/tickets", params=day)
        following = re.search(r'href="([^"]+)" rel="next"', first.text)
        assert following
        rest = d.client.get("/staff/dashboard/tickets" + html.unescape(following.group(1)))
    finally:
        dashboard.PAGE_SIZE = dashboard_size
    found = re.findall(r'<span class="tracking">([A-Z0-9-]+)</span>', first.text + rest.text)
    assert found == made
    forged = d.client.get("/staff/dashboard/tickets", params={**day, "cursor": "x'"})
    assert forged.status_code == 200 and "첫 페이지를 보여 드립니다" in forged.text


def test_top_names_only_that_many_codes(d: Desk) -> None:
    d.sign_in("bob@example.com")
    page = d.client.get("/staff/dashboard", params={**RANGE, "top": "1"})
    codes_card = re.search(r'id="card-codes".*?</section>', page.text, re.S)
    assert codes_card and "배송/파손" in codes_card.group(0)
    assert "결제" not in html.unescape(codes_card.group(0))


@pytest.fixture
def real(tmp_path: Path) -> Iterator[Desk]:
    """The dashboard on the database's own figures (``store/reports.py``)."""
    with desk(tmp_path, stored=True) as opened:
        yield opened


def test_the_real_figures_link_to_lists_of_as_many_tickets(real: Desk) -> None:
    made = [receive(real, f"배송 문의 {n}") for n in range(3)]
    answered, late = made[0], made[1:]
    csrf = real.sign_in("bob@example.com")
    body = {"commands": [], "text": "확인했습니다.", "version": 0}
    reader = SqlStaffReader(real.components.store.engine, real.components.config.engineers)
    ticket = reader.ticket(answered, real.clock.now())
    assert ticket is not None
    body["version"] = ticket.version
    reply = real.client.post(
        f"/staff/api/tickets/{answered}/actions", json=body, headers={"X-CSRF-Token": csrf}
    )
    assert reply.status_code == 200, reply.text
    real.clock.advance(hours=30)  # past every first-response due time
    real.sign_in("bob@example.com")
    day = {"from": "2026-03-02", "to": "2026-03-02", "by": "day"}
    page = html.unescape(real.client.get("/staff/dashboard", params=day).text)
    new_link = "/staff/dashboard/tickets?measure=new&start=2026-03-02&end=2026-03-02"
    assert f'href="{new_link}">3<' in page
    both = {"start": "2026-03-02", "end": "2026-03-02"}
    assert listed(real, measure="new", **both) == made
    assert listed(real, measure="sla_breached", **both) == late
    ratings = [(made[0], "bad"), (made[0], "good"), (made[2], "bad")]
    with real.components.store.engine.begin() as connection:
        for tracking, value in ratings:  # the rating page is another module's; events directly
            ticket_id = connection.execute(
                select(tickets.c.id).where(tickets.c.tracking == tracking)
            ).scalar_one()
            connection.execute(
                insert(events).values(
                    ticket_id=ticket_id, type="csat", at=real.clock.now(), public=False, value=value
                )
            )
    rated = {"start": "2026-03-03", "end": "2026-03-03"}
    assert listed(real, measure="csat_good", **rated) == [made[0]]
    assert listed(real, measure="csat_bad", **rated) == [made[2]]
    figures = html.unescape(
        real.client.get("/staff/dashboard", params={"from": "2026-03-03", "to": "2026-03-03"}).text
    )
    good = "/staff/dashboard/tickets?measure=csat_good&start=2026-03-03&end=2026-03-03"
    assert f'href="{good}">1<' in figures


def test_weeks_and_months_render_and_the_previous_range_links_its_tickets(d: Desk) -> None:
    d.sign_in("bob@example.com")
    for by, label in (("week", "주별"), ("month", "2026-03")):
        page = d.client.get("/staff/dashboard", params={**RANGE, "by": by})
        assert page.status_code == 200 and label in page.text
    page = html.unescape(d.client.get("/staff/dashboard", params=RANGE).text)
    before = "/staff/dashboard/tickets?measure=new&start=2026-02-27&end=2026-02-28"
    assert f'href="{before}">1,000<' in page
