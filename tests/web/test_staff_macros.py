"""Saved replies and availability in the workspace, on the real app and the real store:
managers keep the macros, ``#macro NAME`` by mail sends them through the real pipeline,
and availability set on the page steers the next automatic assignment at once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest

from tests.builders import claim
from tests.e2e.support import text_of
from tests.web.staff_support import START, Desk, desk
from ticketd.mail.message import RawMessage, Source
from ticketd.routing.links import status_token

MANAGER, AGENT = "bob@example.com", "alice@example.com"
SOLVED = {
    "name": "solved",
    "commands": "#status resolved\n#priority low",
    "text_ko": "{customer_name}님, {tracking} 문의를 해결했습니다. "
    "담당 {owner_name}. {status_link}",
    "text_en": "Dear {customer_name}, {tracking} is solved. {owner_name}. {status_link}",
}


@pytest.fixture
def d(tmp_path: Path) -> Iterator[Desk]:
    with desk(tmp_path, stored=True) as opened:
        opened.components.ingestor.clock = opened.clock
        yield opened


def receive(d: Desk, data: bytes) -> None:
    d.components.ingestor.ingest([RawMessage(data, Source.IMAP, d.clock.now())])


def new_claim(d: Desk, subject: str = "로그인이 안 됩니다") -> tuple[str, str | None]:
    """A claim through the pipeline: its tracking number and owner."""
    receive(
        d,
        claim(
            subject=subject, body="비밀번호를 바꿔도 같습니다.", sender="김민수 <kim@acme.co.kr>"
        ),
    )
    with d.components.store.read() as reader:
        [made] = [t for t in reader.tickets() if t["subject"] == subject]
    return made["tracking"], made["owner"]


def ticket(d: Desk, tracking: str) -> dict[str, object]:
    with d.components.store.read() as reader:
        shown = reader.ticket(tracking, d.clock.now())
    assert shown is not None
    return shown


def engineer_mail(tracking: str, body: str, sender: str = AGENT) -> bytes:
    msg = EmailMessage()
    msg["Authentication-Results"] = "mx.example.com; dkim=pass header.d=example.com; spf=pass"
    msg["From"] = sender
    msg["To"] = "support@example.com"
    msg["Subject"] = f"Re: [{tracking}] 로그인이 안 됩니다"
    msg["Message-ID"] = make_msgid(domain="example.com")
    msg.set_content(body)
    return msg.as_bytes()


def sent_ids(d: Desk) -> set[str]:
    """The Message-IDs of the mail sent so far (after flushing the outbox)."""
    d.flush()
    return {str(m["Message-ID"]) for m in d.ws.sent_mail()}


def post(d: Desk, path: str, csrf: str, **fields: str) -> int:
    return d.client.post(path, data={"csrf_token": csrf, **fields}).status_code


def test_a_manager_keeps_saved_replies_in_korean_and_english(d: Desk) -> None:
    csrf = d.sign_in(MANAGER)
    assert d.client.get("/staff/macros/new").status_code == 200
    assert post(d, "/staff/macros/new", csrf, **SOLVED) == 303
    listing = d.client.get("/staff/macros").text
    assert (
        "#macro solved" in listing and "문의를 해결했습니다" in listing and "is solved" in listing
    )
    assert post(d, "/staff/macros/new", csrf, **SOLVED) == 400  # the name is taken
    changed = {**SOLVED, "text_en": "<script>alert(1)</script> {tracking}"}
    assert post(d, "/staff/macros/solved/edit", csrf, **changed) == 303
    listing = d.client.get("/staff/macros").text
    assert "<script>alert(1)" not in listing and "&lt;script&gt;" in listing
    bad = {**SOLVED, "name": "loop", "commands": "#macro loop"}
    answer = d.client.post("/staff/macros/new", data={"csrf_token": csrf, **bad})
    assert answer.status_code == 400
    assert "명령 &#39;#macro loop&#39;: 저장된 답장에는 쓸 수 없는 명령입니다" in answer.text
    assert post(d, "/staff/macros/solved/retire", csrf) == 303
    assert "사용 중지됨" in d.client.get("/staff/macros").text


def test_agents_see_saved_replies_but_may_not_change_them(d: Desk) -> None:
    csrf = d.sign_in(MANAGER)
    assert post(d, "/staff/macros/new", csrf, **SOLVED) == 303
    d.client.post("/staff/logout", data={"csrf_token": csrf})
    csrf = d.sign_in(AGENT)
    assert "#macro solved" in d.client.get("/staff/macros").text
    refused = d.client.get("/staff/macros/new")
    assert refused.status_code == 403 and "저장된 답장은 관리자만 바꿀 수 있습니다" in refused.text
    edited = {**SOLVED, "text_ko": "바뀐 본문"}
    assert post(d, "/staff/macros/new", csrf, **{**SOLVED, "name": "mine"}) == 403
    assert post(d, "/staff/macros/solved/edit", csrf, **edited) == 403
    assert post(d, "/staff/macros/solved/retire", csrf) == 403
    listing = d.client.get("/staff/macros").text
    assert "바뀐 본문" not in listing and "#macro mine" not in listing
    assert "사용 중지됨" not in listing


def test_macro_forms_need_the_csrf_token(d: Desk) -> None:
    d.sign_in(MANAGER)
    assert post(d, "/staff/macros/new", "wrong", **SOLVED) == 403
    assert "#macro solved" not in d.client.get("/staff/macros").text


def test_macro_by_mail_sends_the_filled_text_and_runs_its_commands(d: Desk) -> None:
    csrf = d.sign_in(MANAGER)
    assert post(d, "/staff/macros/new", csrf, **SOLVED) == 303
    tracking, owner = new_claim(d)
    assert owner == AGENT
    receive(d, engineer_mail(tracking, "#macro Solved\n\n캐시를 지우니 해결되었습니다."))
    d.flush()
    [reply] = [
        m for m in d.ws.sent_mail() if "kim@acme.co.kr" in str(m["To"]) and "캐시" in text_of(m)
    ]
    body = text_of(reply)
    key = status_token("test-secret-key-0123456789", tracking)
    expected = f"김민수님, {tracking} 문의를 해결했습니다. 담당 Alice. http://127.0.0.1:8080/t/{tracking}?k={key}"
    assert body.index("캐시를 지우니") < body.index(expected)
    shown = ticket(d, tracking)
    assert (shown["status"], shown["priority"]) == ("resolved", "low")


def test_a_saved_reply_is_sent_from_the_ticket_page_filled_in(d: Desk) -> None:
    csrf = d.sign_in(MANAGER)
    assert post(d, "/staff/macros/new", csrf, **SOLVED) == 303
    tracking, _ = new_claim(d)
    page = d.client.get(f"/staff/t/{tracking}").text
    assert 'value="#macro solved"' in page and "문의를 해결했습니다" in page
    version = re.search(r'name="version" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
    fields = {"version": version, "mode": "reply", "commands": "#macro solved", "text": ""}
    answer = d.client.post(f"/staff/t/{tracking}/act", data={"csrf_token": csrf, **fields})
    assert answer.status_code == 303
    d.flush()
    [reply] = [m for m in d.ws.sent_mail() if "문의를 해결했습니다" in text_of(m)]
    key = status_token("test-secret-key-0123456789", tracking)
    assert f"http://127.0.0.1:8080/t/{tracking}?k={key}" in text_of(reply)
    assert ticket(d, tracking)["status"] == "resolved"


def test_an_unknown_macro_by_mail_changes_nothing_and_lists_the_saved_ones(d: Desk) -> None:
    csrf = d.sign_in(MANAGER)
    assert post(d, "/staff/macros/new", csrf, **SOLVED) == 303
    tracking, _ = new_claim(d)
    before = sent_ids(d)
    receive(d, engineer_mail(tracking, "#priority high\n#macro nope\n\n답변입니다."))
    d.flush()
    new = [m for m in d.ws.sent_mail() if m["Message-ID"] not in before]
    assert [str(m["To"]) for m in new] == ["Alice <alice@example.com>"]
    assert "저장된 답장 'nope'가 없습니다(있는 답장: solved)" in text_of(new[0])
    assert ticket(d, tracking)["priority"] == "normal"


def test_away_on_the_page_moves_the_next_assignment_at_once(d: Desk) -> None:
    _, first = new_claim(d, "first")
    assert first == AGENT  # round-robin: alice, then bob
    csrf = d.sign_in(AGENT)
    assert post(d, "/staff/availability", csrf, state="away") == 303
    assert 'class="badge away">부재중' in d.client.get("/staff/availability").text
    assert [new_claim(d, f"claim {n}")[1] for n in range(3)] == [MANAGER] * 3
    assert post(d, "/staff/availability", csrf, state="available") == 303
    assert new_claim(d, "back")[1] == AGENT


def test_away_until_a_day_ends_at_the_next_midnight_in_the_service_timezone(d: Desk) -> None:
    csrf = d.sign_in(AGENT)
    today = START.astimezone().date().isoformat()  # 2026-03-02 (10:00 in Seoul)
    assert post(d, "/staff/availability", csrf, state="away", until=today) == 303
    page = d.client.get("/staff/availability").text
    assert f"부재 종료일 {today}" in page
    assert new_claim(d, "before")[1] == MANAGER
    d.clock.advance(hours=13, minutes=59)  # 23:59 in Seoul
    assert new_claim(d, "late")[1] == MANAGER
    d.clock.advance(minutes=2)  # 00:01 the next day in Seoul
    assert new_claim(d, "next day")[1] == AGENT
    csrf = d.sign_in(AGENT)  # the session of the day before has expired
    page = d.client.get("/staff/availability").text
    assert "근무 중" in page and "부재 종료일" not in page
    assert post(d, "/staff/availability", csrf, state="away", until="2026-03-01") == 400


def test_when_everyone_is_away_the_ticket_is_unowned_and_the_managers_told(d: Desk) -> None:
    csrf = d.sign_in(MANAGER)
    for email in (AGENT, MANAGER):
        assert post(d, "/staff/availability", csrf, email=email, state="away") == 303
    page = d.client.get("/staff/availability").text
    assert page.count('class="badge away"') == 2
    tracking, owner = new_claim(d)
    assert owner is None
    d.flush()
    told = [str(m["To"]) for m in d.ws.sent_mail() if tracking in str(m["Subject"])]
    assert any(MANAGER in to for to in told) and not any(AGENT in to for to in told)


def test_only_managers_set_someone_elses_availability(d: Desk) -> None:
    csrf = d.sign_in(AGENT)
    refused = d.client.post(
        "/staff/availability", data={"csrf_token": csrf, "email": MANAGER, "state": "away"}
    )
    assert refused.status_code == 403 and "근무 상태는 관리자만 정할 수 있습니다" in refused.text
    assert post(d, "/staff/availability", "wrong", state="away") == 403
    assert new_claim(d, "one")[1] == AGENT
    assert new_claim(d, "two")[1] == MANAGER
    page = d.client.get("/staff/availability").text
    assert 'class="badge away"' not in page
    assert "bob@example.com" not in page  # agents see only their own


def test_a_missing_saved_reply_is_said_in_the_viewers_language(d: Desk) -> None:
    csrf = d.sign_in(MANAGER)
    missing = d.client.get("/staff/macros/nothing/edit", params={"lang": "ko"})
    assert missing.status_code == 404 and missing.text == "그런 저장된 답장이 없습니다."
    retired = d.client.post("/staff/macros/nothing/retire", data={"csrf_token": csrf})
    assert retired.status_code == 404 and retired.text == "그런 저장된 답장이 없습니다."
    english = d.client.get("/staff/macros/nothing/edit", params={"lang": "en"})
    assert english.status_code == 404 and english.text == "No such saved reply."
