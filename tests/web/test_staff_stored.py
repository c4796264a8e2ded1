"""The queue, search and the ticket-list JSON on the real store: tickets opened by the
real pipeline, found by Korean substrings, paged with cursors the reader handed out."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.builders import claim
from tests.web.staff_support import Desk, desk
from ticketd.mail.message import RawMessage, Source


@pytest.fixture
def d(tmp_path: Path) -> Iterator[Desk]:
    with desk(tmp_path, stored=True) as opened:
        yield opened


def receive(d: Desk, *claims: tuple[str, str]) -> None:
    for subject, body in claims:
        data = claim(subject=subject, body=body, sender="kim@acme.co.kr")
        d.components.ingestor.enqueue(RawMessage(data, Source.SMTP, datetime.now(UTC)))
    d.components.ingestor.process_pending()


def test_tickets_from_the_pipeline_are_in_the_queue_and_found_in_korean(d: Desk) -> None:
    receive(
        d,
        ("로그인 문제", "로그인이 안 됩니다. 비밀번호를 바꿔도 같습니다."),
        ("배송 문의", "주문한 상품의 배송이 늦어요."),
    )
    d.sign_in()
    queue = d.client.get("/staff/", params={"tab": "open"})
    assert queue.status_code == 200
    assert "로그인 문제" in queue.text and "배송 문의" in queue.text
    found = d.client.get("/staff/search", params={"q": "로그인"})
    assert "로그인 문제" in found.text and "배송 문의" not in found.text
    short = d.client.get("/staff/search", params={"q": "배송"})
    assert "배송 문의" in short.text and "로그인 문제" not in short.text
    api = d.client.get("/staff/api/tickets", params={"q": "비밀번호"}).json()
    assert [t["subject"] for t in api["tickets"]] == ["로그인 문제"]


def test_paging_follows_the_readers_cursor_and_a_forged_one_starts_over(d: Desk) -> None:
    receive(d, *((f"Claim {n}", f"Order {n} is late.") for n in range(3)))
    d.sign_in()
    first = d.client.get("/staff/api/tickets", params={"tab": "open", "limit": "2"}).json()
    assert len(first["tickets"]) == 2 and first["next"]
    rest = d.client.get(
        "/staff/api/tickets", params={"tab": "open", "limit": "2", "cursor": first["next"]}
    ).json()
    seen = [t["subject"] for t in first["tickets"] + rest["tickets"]]
    assert sorted(seen) == ["Claim 0", "Claim 1", "Claim 2"] and rest["next"] is None
    forged = {"tab": "open", "cursor": "a:b"}
    answer = d.client.get("/staff/api/tickets", params=forged)
    assert answer.status_code == 400 and answer.json()["problems"] == ["bad_cursor"]
    page = d.client.get("/staff/", params=forged)
    assert page.status_code == 200 and "Claim 2" in page.text
    assert "첫 페이지를 보여 드립니다" in page.text
    search = d.client.get("/staff/search", params={"q": "Order", "cursor": "a:b"})
    assert search.status_code == 200 and "Claim 1" in search.text
