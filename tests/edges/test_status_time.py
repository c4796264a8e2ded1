"""The status page tells the truth about time, read from the real store: before the first
answer when it is due (business time, the zone named in the ticket's language); after it
no promise but when the last answer was; a step back always says why."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from tests.builders import claim
from tests.edges.test_sla_clocks import Desk, kst
from tests.unit.fakes import FrozenClock
from ticketd.routing.effects import ChangeStatus, PublicReply
from ticketd.routing.model import Status
from ticketd.routing.page_time import moment, zone_name
from ticketd.routing.views import TicketPage
from ticketd.store.pages import PageFacts, SqlTicketReader
from ticketd.web.pages import PageRenderer
from ticketd.web.ports import WebSettings

SETTINGS = WebSettings(
    service_name="Example",
    language="ko",
    timezone="Asia/Seoul",
    secret_key="k" * 32,
    tracking_prefix="SUP",
    base_url="http://127.0.0.1:8080",
)


@pytest.fixture
def desk(lane_engine: Engine) -> Desk:
    return Desk(lane_engine, FrozenClock(kst(2027, 1, 8, 17)))


def page(desk: Desk) -> TicketPage:
    found = SqlTicketReader(desk.engine, PageFacts({}, 8), "test").ticket_page(
        str(desk.ticket()["tracking"])
    )
    assert found is not None
    return found


def html(desk: Desk, language: str) -> str:
    return PageRenderer(SETTINGS).ticket(page(desk), language, conversation=False)


def test_zones_are_named_in_the_readers_language_else_by_iana_name() -> None:
    assert zone_name("Asia/Seoul", "ko") == "한국 표준시"
    assert zone_name("Asia/Seoul", "en") == "Korea Standard Time"
    assert zone_name("Africa/Abidjan", "ko") == "Africa/Abidjan"
    due = kst(2027, 1, 11, 16)
    assert moment(due, "Asia/Seoul", "ko") == "1월 11일(월) 16:00 (한국 표준시)"
    assert moment(due, "Asia/Seoul", "en") == "Mon, Jan 11 16:00 (Korea Standard Time)"


def test_before_the_first_answer_the_page_shows_when_it_is_due(desk: Desk) -> None:
    desk.mail(claim())
    korean = html(desk, "ko")
    assert '<dd id="due">1월 11일(월) 16:00 (한국 표준시)</dd>' in korean
    assert "답변 예정" in korean and 'id="last-answer"' not in korean
    english = html(desk, "en")
    assert '<dd id="due">Mon, Jan 11 16:00 (Korea Standard Time)</dd>' in english


def test_after_the_first_answer_the_promise_is_gone_and_the_last_answer_shown(
    desk: Desk,
) -> None:
    desk.mail(claim())
    desk.apply(kst(2027, 1, 11, 9, 30), PublicReply(desk.ref(), "Fixed?", "bob@example.com"))  # type: ignore[arg-type]
    korean = html(desk, "ko")
    assert 'id="due"' not in korean and 'class="promise"' not in korean
    assert '<dd id="last-answer">1월 11일(월) 09:30 (한국 표준시)</dd>' in korean
    assert page(desk).first_response_due is None


def test_a_ticket_reopened_by_the_customer_says_so(desk: Desk) -> None:
    desk.mail(claim())
    ref = desk.ref()
    desk.apply(
        kst(2027, 1, 11, 9),
        PublicReply(ref, "Done", "bob@example.com"),  # type: ignore[arg-type]
        ChangeStatus(ref, Status.RESOLVED, "fixed", "bob@example.com"),  # type: ignore[arg-type]
    )
    assert "다시 열었습니다" not in html(desk, "ko")
    desk.clock.at = kst(2027, 1, 12, 10)
    tracking = desk.ticket()["tracking"]
    desk.mail(claim(subject=f"Re: [{tracking}] Cannot log in", body="Still broken"))
    shown = page(desk)
    assert shown.status == "open" and shown.reason == "customer_wrote"
    korean = html(desk, "ko")
    assert "(고객님이 다시 문의하셔서 다시 열었습니다)" in korean
    assert "— 고객님이 다시 문의하셔서 다시 열었습니다" in korean
    assert "reopened because you wrote again" in html(desk, "en")
    desk.apply(
        kst(2027, 1, 12, 11), ChangeStatus(desk.ref(), Status.PENDING, "on it", "bob@example.com")
    )  # type: ignore[arg-type]
    desk.apply(
        kst(2027, 1, 12, 12), ChangeStatus(desk.ref(), Status.OPEN, "again", "bob@example.com")
    )  # type: ignore[arg-type]
    assert page(desk).reason == "reopened" and "담당자가 다시 열었습니다" in html(desk, "ko")
