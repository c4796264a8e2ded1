"""The staff ticket page says every event of ours in the viewer's language: a Korean page's
events list holds no English words besides addresses, tracking numbers, the time zone
and the system's own name, and the English page says the same events in English."""

from __future__ import annotations

import html as markup
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.builders import claim
from tests.web.staff_support import Desk, desk
from tests.web.test_staff_ticket import receive, work
from ticketd.mail.message import Address
from ticketd.routing.effects import (
    AddFollower,
    AddTime,
    MergeInto,
    RemoveFollower,
    SetBillable,
    SetCode,
    SetPriority,
    SetType,
)
from ticketd.routing.model import Priority
from ticketd.routing.particles import with_particle

BOB = "bob@example.com"
KIM = "김민수 <kim@acme.co.kr>"


@pytest.fixture
def d(tmp_path: Path) -> Iterator[Desk]:
    with desk(tmp_path, stored=True) as opened:
        yield opened


def worked(d: Desk) -> tuple[str, str]:
    """A ticket with code, billable, time, type, priority, follower and merge events, and
    the ticket merged into it."""
    number = receive(d, claim(subject="배송 문의", body="상자가 찌그러졌습니다.", sender=KIM))
    other = receive(d, claim(subject="환불 문의", body="환불해 주세요.", sender=KIM))
    with d.components.store.write() as writer:
        assert writer.add_code("배송/파손", "", "", BOB) is None
        target = writer.ticket(number)
        assert target is not None
    work(
        d,
        number,
        lambda r: SetCode(r, "배송/파손", BOB),
        lambda r: SetCode(r, "", BOB),
        lambda r: SetBillable(r, True, BOB),
        lambda r: AddTime(r, 45, BOB),
        lambda r: SetType(r, "bug", BOB),
        lambda r: SetPriority(r, Priority.HIGH, BOB),
        lambda r: AddFollower(r, Address("cfo@acme.co.kr", "재무 이사"), BOB),
        lambda r: RemoveFollower(r, "cfo@acme.co.kr", BOB),
    )
    work(d, other, lambda r: MergeInto(r, target.ref, BOB))
    return number, other


def events_text(d: Desk, number: str, language: str) -> str:
    page = d.client.get(f"/staff/t/{number}", params={"lang": language})
    assert page.status_code == 200, page.text
    found = re.search(r'<ol class="events">(.*?)</ol>', page.text, re.S)
    assert found is not None
    return markup.unescape(re.sub(r"<[^>]+>", " ", found.group(1)))


def english_words(text: str) -> set[str]:
    for allowed in (r"[\w.+-]+@[\w.-]+", r"SUP-\w{4}-\w{4}", r"\d\S*", "KST", "ticketd"):
        text = re.sub(allowed, " ", text)
    return set(re.findall(r"[A-Za-z]{2,}", text))


def test_a_korean_page_says_every_event_of_ours_in_korean(d: Desk) -> None:
    number, other = worked(d)
    d.sign_in(BOB)
    korean = events_text(d, number, "ko")
    assert english_words(korean) == set()
    for said in (
        "코드를 배송/파손으로 정했습니다", "코드를 지웠습니다", "과금 여부: 예",
        "45분을 기록했습니다", "유형: 버그", "우선순위: 높음",
        f"{with_particle(other, '를')} 이 티켓으로 병합했습니다",
    ):  # fmt: skip
        assert said in korean, said
    merged = events_text(d, other, "ko")
    assert english_words(merged) == set() and f"{number}의 중복 티켓입니다" in merged


def test_an_english_page_says_the_same_events_in_english(d: Desk) -> None:
    number, other = worked(d)
    d.sign_in(BOB)
    english = events_text(d, number, "en")
    for said in (
        "code: 배송/파손", "code cleared", "billable: yes", "45 min", "type: bug",
        "priority: High", f"{other} merged into this ticket",
    ):  # fmt: skip
        assert said in english, said
    assert "정했습니다" not in english and "기록했습니다" not in english
    assert f"duplicate of {number}" in events_text(d, other, "en")
