"""The workspace's queue, search and ticket-list JSON for a signed-in engineer, over an
in-memory ``StaffReader`` and ``Searcher`` (the real ones are tested in the store)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.web.staff_support import Desk, desk, row
from ticketd.routing.model import Priority, Status
from ticketd.routing.workspace import SlaState, Sort, Tab

HOSTILE = '<script>alert("x")</script>'


@pytest.fixture
def d(tmp_path: Path) -> Iterator[Desk]:
    with desk(tmp_path) as opened:
        opened.sign_in()
        yield opened


def test_the_queue_shows_tabs_with_counts_rows_links_and_sla_badges(d: Desk) -> None:
    d.memory.rows = [
        row("SUP-0000-0001", sla_state=SlaState.BREACHED, subject="결제 오류"),
        row("SUP-0000-0002", sla_state=SlaState.SOON, owner=None),
        row("SUP-0000-0003"),
    ]
    page = d.client.get("/staff/?tab=open")
    assert page.status_code == 200
    assert 'href="/staff/t/SUP-0000-0001"' in page.text
    assert '<strong class="badge breached">기한 초과</strong>' in page.text
    assert '<strong class="badge soon">기한 임박</strong>' in page.text
    assert '진행 중 전체 <span class="count">3</span>' in page.text
    assert "미배정" in page.text
    viewer, query = d.memory.queries[-1]
    assert viewer.email == "alice@example.com" and query.tab == Tab.OPEN


def test_filters_reach_the_reader_as_a_queue_query(d: Desk) -> None:
    d.client.get(
        "/staff/?tab=waiting&status=open&status=pending,waiting&owner=Bob@Example.com"
        "&priority=urgent&type=bug&requester=@customer.kr&since=2026-03-01&until=2026-03-02"
        "&sort=sla&cursor=abc"
    )
    _, query = d.memory.queries[-1]
    assert query.tab == Tab.WAITING
    assert query.status == (Status.OPEN, Status.PENDING, Status.WAITING)
    assert query.owner == "bob@example.com"
    assert query.priority == Priority.URGENT and query.type == "bug"
    assert query.requester == "@customer.kr"
    assert query.since == datetime(2026, 2, 28, 15, 0, tzinfo=UTC)
    assert query.until == datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    assert query.sort == Sort.SLA and query.cursor == "abc"


def test_bad_filter_values_give_the_page_with_a_message_never_a_500(d: Desk) -> None:
    page = d.client.get(
        "/staff/?tab=nope&status=lost&priority=9&type=x&owner=%3Cb%3E&requester=a%20b"
        "&since=2026-13-01&until=yesterday&sort=up&cursor=%00%01"
    )
    assert page.status_code == 200
    for message in (
        "알 수 없는 탭입니다",
        "알 수 없는 상태는",
        "알 수 없는 우선순위는",
        "알 수 없는 유형은",
        "담당자는 이메일 주소로",
        "문의자는 이메일 주소나",
        "시작일은 YYYY-MM-DD",
        "종료일은 YYYY-MM-DD",
        "알 수 없는 정렬",
        "더 이상 쓸 수 없는 페이지 링크",
    ):
        assert message in page.text
    _, query = d.memory.queries[-1]
    assert query.tab == Tab.MINE and query.status == () and query.owner is None
    assert query.since is None and query.until is None and query.cursor is None
    period = d.client.get("/staff/?since=2026-03-05&until=2026-03-01")
    assert "시작일이 종료일보다 늦어서" in period.text


def test_filter_params_are_escaped(d: Desk) -> None:
    page = d.client.get(f"/staff/?requester=@{HOSTILE}&owner={HOSTILE}&q={HOSTILE}")
    assert "<script>" not in page.text
    search = d.client.get(f"/staff/search?q={HOSTILE}")
    assert "<script>" not in search.text
    assert "&lt;script&gt;" in search.text


def test_every_shown_field_is_escaped(d: Desk) -> None:
    d.memory.rows = [
        row(subject=HOSTILE, requester_name=HOSTILE, requester=f"{HOSTILE}@x.kr", type=HOSTILE)
    ]
    page = d.client.get("/staff/")
    assert "<script>" not in page.text and "&lt;script&gt;" in page.text


def test_paging_by_cursor_keeps_the_filters(d: Desk) -> None:
    d.memory.rows = [row(f"SUP-0000-{n:04d}") for n in range(120)]
    first = d.client.get("/staff/?tab=open&sort=age")
    assert 'href="/staff/?tab=open&amp;sort=age&amp;cursor=50"' in first.text
    second = d.client.get("/staff/?tab=open&sort=age&cursor=50")
    assert "SUP-0000-0050" in second.text and "SUP-0000-0049" not in second.text
    assert 'href="/staff/?tab=open&amp;sort=age"' in second.text


def test_search_shows_hits_with_excerpt_and_where_they_matched(d: Desk) -> None:
    empty = d.client.get("/staff/search")
    assert empty.status_code == 200 and 'name="q"' in empty.text
    assert d.memory.searched == []
    found = d.client.get("/staff/search?q=로그인")
    assert d.memory.searched == ["로그인"]
    assert "…로그인이 안 됩니다…" in found.text and "제목에서" in found.text
    assert 'href="/staff/t/SUP-0000-0001"' in found.text
    none = d.client.get("/staff/search?q=nothing&lang=en")
    assert "Nothing found." in none.text


def test_language_from_the_query_is_kept_in_a_cookie(d: Desk) -> None:
    assert "처리 목록" in d.client.get("/staff/").text
    english = d.client.get("/staff/?lang=en")
    assert "Queue" in english.text and 'lang="en"' in english.text
    assert "Queue" in d.client.get("/staff/").text
    assert "처리 목록" in d.client.get("/staff/?lang=ko").text


def test_the_shell_names_the_engineer_and_shows_the_dashboard_to_managers_only(
    tmp_path: Path,
) -> None:
    with desk(tmp_path) as other:
        other.sign_in("alice@example.com")
        agent = other.client.get("/staff/")
        assert "/staff/dashboard" not in agent.text and "상담원" in agent.text
        assert 'action="/staff/logout"' in agent.text
        other.sign_in("bob@example.com")
        manager = other.client.get("/staff/")
        assert 'href="/staff/dashboard"' in manager.text and "관리자" in manager.text


def test_an_engineer_name_is_escaped(tmp_path: Path) -> None:
    extra = f"""
[[engineers]]
email = "eve@example.com"
name = '{HOSTILE}'
role = "agent"
"""
    with desk(tmp_path, extra=extra) as hostile:
        hostile.sign_in("eve@example.com")
        page = hostile.client.get("/staff/")
        assert "<script>" not in page.text and "&lt;script&gt;" in page.text


def test_the_ticket_list_json(d: Desk) -> None:
    d.memory.rows = [row(sla_state=SlaState.SOON, sla_due=datetime(2026, 3, 3, tzinfo=UTC))]
    body = d.client.get("/staff/api/tickets?status=open&owner=alice@example.com").json()
    assert body["next"] is None
    [ticket] = body["tickets"]
    assert ticket == {
        "tracking": "SUP-0000-0001",
        "status": "open",
        "subject": "로그인이 안 됩니다",
        "requester": "kim@customer.kr",
        "requester_name": "김고객",
        "owner": "alice@example.com",
        "priority": "normal",
        "type": "bug",
        "created_at": "2026-03-02T01:00:00Z",
        "updated_at": "2026-03-02T01:00:00Z",
        "duplicate_count": 0,
        "sla_due": "2026-03-03T00:00:00Z",
        "sla_state": "soon",
        "code": None,
    }
    _, query = d.memory.queries[-1]
    assert query.tab == Tab.OPEN and query.status == (Status.OPEN,)


def test_the_json_api_searches_with_q_and_narrows_by_the_filters(d: Desk) -> None:
    d.memory.rows = [
        row("SUP-0000-0001"),
        row("SUP-0000-0002", status=Status.WAITING, code="A/b/c"),
        row("SUP-0000-0003", status=Status.WAITING, code="a/bc"),
    ]
    body = d.client.get("/staff/api/tickets?q=로그인&status=waiting&code=a/b").json()
    assert [t["tracking"] for t in body["tickets"]] == ["SUP-0000-0002"]
    assert d.memory.searched == ["로그인"]


def test_the_json_api_names_bad_parameters(d: Desk) -> None:
    answer = d.client.get("/staff/api/tickets?status=lost&since=tomorrow")
    assert answer.status_code == 400
    assert answer.json() == {"error": "bad parameters", "problems": ["bad_since", "bad_status"]}
