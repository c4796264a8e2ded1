"""The staff ticket page on the real store: tickets made by the real pipeline and worked
through the Writer; every event kind with its text, notes marked internal, files (internal
ones too) downloadable from their own ticket only, the customer's history, the action
forms with CSRF and version, who may act, hostile text escaped, and the ticket JSON."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import formataddr
from pathlib import Path

import pytest

from tests.builders import claim
from tests.web.staff_support import Desk, desk
from ticketd.mail.message import Address, Attachment, RawMessage, Source
from ticketd.routing.effects import (
    AddFollower,
    AddNote,
    AddTime,
    AssignOwner,
    ChangeStatus,
    Decision,
    Disposition,
    Effect,
    PublicReply,
    RecordBounce,
    RejectCommand,
)
from ticketd.routing.model import Status, TicketRef

XSS = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
LINK = "javascript:alert(3)"


@pytest.fixture
def d(tmp_path: Path) -> Iterator[Desk]:
    with desk(tmp_path, stored=True) as opened:
        opened.clock.at = datetime.now(UTC)  # the pipeline's resend window reads the wall clock
        yield opened


def receive(d: Desk, data: bytes) -> str:
    """Mail ``data`` in through the pipeline; the tracking number of the ticket it opened
    (or of the last updated one when it opened none)."""
    with d.components.store.read() as reader:
        before = {t["tracking"] for t in reader.tickets()}
    d.components.ingestor.enqueue(RawMessage(data, Source.SMTP, d.clock.now()))
    d.components.ingestor.process_pending()
    d.clock.advance(minutes=1)
    with d.components.store.read() as reader:
        after = reader.tickets()
    new = [t["tracking"] for t in after if t["tracking"] not in before]
    return str(new[0] if new else max(after, key=lambda t: t["updated_at"])["tracking"])


def work(d: Desk, number: str, *makes: Callable[[TicketRef], Effect]) -> None:
    with d.components.store.write() as writer:
        for make in makes:
            view = writer.ticket(number)
            assert view is not None
            writer.apply(Decision(Disposition.COMMAND, (), (make(view.ref),)))


def open_ticket(d: Desk, subject: str = "로그인이 안 됩니다", **kw: object) -> str:
    body = kw.pop("body", "첫 줄입니다.\n둘째 줄: 관리자 페이지가 500 오류를 냅니다.")
    return receive(d, claim(subject=subject, body=str(body), **kw))  # type: ignore[arg-type]


def worked_ticket(d: Desk) -> str:
    """A ticket with every kind of event: messages, a duplicate, a note with an internal
    file, a reply with a file, owner, status, time, follower, bounce, rejected command."""
    mail = dict(
        subject="로그인이 안 됩니다",
        body="첫 줄입니다.\n둘째 줄: 관리자 페이지가 500 오류를 냅니다.",
        attachments=[("screen.png", "image/png", b"\x89PNG-1")],
    )
    number = receive(d, claim(**mail))  # type: ignore[arg-type]
    receive(d, claim(**{**mail, "attachments": [("again.html", "text/html", b"<b>x</b>")]}))  # type: ignore[arg-type]
    reply_file = Attachment("fixed.pdf", "application/pdf", b"%PDF-3", "ab" * 32)
    bob = "bob@example.com"
    work(
        d,
        number,
        lambda r: AssignOwner(r, bob, "test", actor=bob),
        lambda r: AddNote(r, "내부 확인 필요: 결제 모듈", bob),
        lambda r: PublicReply(r, "해결했습니다.\n다시 시도해 주세요.", bob, (reply_file,)),
        lambda r: ChangeStatus(r, Status.PENDING, "test", actor=bob),
        lambda r: AddTime(r, 25, bob),
        lambda r: AddFollower(r, Address("cfo@acme.co.kr", "재무 이사"), bob),
        lambda r: RecordBounce(r, "Delivery to kim@acme.co.kr failed: 550 mailbox full"),
        lambda r: RejectCommand(r, "#priority whenever: unknown priority", bob),
    )
    return number


def test_the_page_shows_every_event_with_texts_and_notes_marked_internal(d: Desk) -> None:
    number = worked_ticket(d)
    d.sign_in("bob@example.com")
    page = d.client.get(f"/staff/t/{number}", params={"lang": "ko"})
    assert page.status_code == 200
    html = page.text
    for label in (
        "문의 접수", "고객 메시지", "중복 접수", "담당자 변경", "내부 메모", "답변", "상태 변경",
        "작업 시간 기록", "참조인 추가", "반송", "거부된 명령",
    ):  # fmt: skip
        assert label in html, label
    assert "첫 줄입니다.\n둘째 줄: 관리자 페이지가 500 오류를 냅니다." in html
    assert "해결했습니다.\n다시 시도해 주세요." in html
    assert "550 mailbox full" in html and "unknown priority" in html
    note = re.search(r'<li class="event ev-note internal".*?</li>', html, re.S)
    assert note and "내부 메모" in note.group(0)
    assert "내부 확인 필요: 결제 모듈" in note.group(0) and "m-internal" in note.group(0)
    reply = re.search(r'<li class="event ev-reply_sent public".*?</li>', html, re.S)
    assert reply and "m-public" in reply.group(0)
    assert "재무 이사 &lt;cfo@acme.co.kr&gt;" in html and "25 분" in html
    assert 'id="requester">Kim Minsu &lt;kim@acme.co.kr&gt;' in html
    times = re.findall(r'<time datetime="([^"]+)">', html)
    assert times == sorted(times) and len(times) >= 11
    english = d.client.get(f"/staff/t/{number}", params={"lang": "en"}).text
    assert "Internal note" in english and "Customer message" in english


def test_every_file_downloads_internal_too_but_not_through_another_ticket(d: Desk) -> None:
    number = worked_ticket(d)
    other = open_ticket(d, "Another", sender="park@other.kr")
    d.sign_in("bob@example.com")
    html = d.client.get(f"/staff/t/{number}").text
    links = dict(re.findall(r'<a href="(/staff/t/[^"]+/files/\d+)" download>([^<]+)</a>', html))
    assert sorted(links.values()) == ["again.html", "fixed.pdf", "screen.png"]
    for url, name in links.items():
        answer = d.client.get(url)
        assert answer.status_code == 200, name
        assert answer.headers["content-type"] == "application/octet-stream"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["content-disposition"].startswith("attachment;")
        assert f"filename*=UTF-8''{name}" in answer.headers["content-disposition"]
        assert answer.headers["x-robots-tag"] == "noindex"
    internal = next(url for url, name in links.items() if name == "again.html")
    assert d.client.get(internal).content == b"<b>x</b>"
    file_id = internal.rsplit("/", 1)[1]
    assert d.client.get(f"/staff/t/{other}/files/{file_id}").status_code == 404
    assert d.client.get(f"/staff/t/{number}/files/99999").status_code == 404
    d.client.cookies.clear()
    assert d.client.get(internal).status_code == 303


def test_history_lists_the_requesters_and_the_domains_other_tickets(d: Desk) -> None:
    first = open_ticket(d, "결제 오류", sender="Kim <kim@acme.co.kr>")
    colleague = open_ticket(d, "배송 문의", sender="Lee <lee@acme.co.kr>")
    stranger = open_ticket(d, "다른 회사", sender="Choi <choi@elsewhere.kr>")
    webmail = open_ticket(d, "지메일 문의", sender="Park <park@gmail.com>")
    webmail_again = open_ticket(d, "지메일 두 번째", sender="Park <park@gmail.com>")
    other_webmail = open_ticket(d, "다른 지메일", sender="Han <han@gmail.com>")
    d.sign_in()
    html = d.client.get(f"/staff/t/{first}").text
    assert f'href="/staff/t/{colleague}"' in html and "@acme.co.kr" in html
    assert f'href="/staff/t/{stranger}"' not in html
    html = d.client.get(f"/staff/t/{webmail}").text
    assert f'href="/staff/t/{webmail_again}"' in html
    assert f'href="/staff/t/{other_webmail}"' not in html


def forms(html: str) -> list[str]:
    return re.findall(r'<form method="post" action="/staff/t/[^"]+/act".*?</form>', html, re.S)


def test_every_form_carries_csrf_and_version_and_the_commands(d: Desk) -> None:
    number = worked_ticket(d)
    csrf = d.sign_in("bob@example.com")
    version = d.client.get(f"/staff/api/tickets/{number}").json()["version"]
    html = d.client.get(f"/staff/t/{number}").text
    found = forms(html)
    assert len(found) >= 9
    for form in found:
        assert f'name="csrf_token" value="{csrf}"' in form
        assert f'name="version" value="{version}"' in form
    joined = "".join(found)
    for line in (
        'name="mode" value="reply"', 'name="mode" value="note"', 'type="file"',
        'value="#assign alice@example.com"', 'value="#status resolved"',
        'value="#priority high"', 'value="#type question"', 'value="#time 30m"',
        'value="#cc add "', 'value="#cc remove cfo@acme.co.kr"', 'value="#merge "',
    ):  # fmt: skip
        assert line in joined, line
    assert 'enctype="multipart/form-data"' in joined
    assert 'value="#take"' not in joined
    unowned = open_ticket(d, "Unowned one", sender="park@other.kr")
    work(d, unowned, lambda r: AssignOwner(r, None, "test", actor="bob@example.com"))
    assert 'value="#take"' in d.client.get(f"/staff/t/{unowned}").text


def test_an_agent_is_told_when_the_ticket_is_someone_elses(d: Desk) -> None:
    number = worked_ticket(d)
    d.sign_in("alice@example.com")
    html = d.client.get(f"/staff/t/{number}", params={"lang": "en"}).text
    assert "This ticket belongs to bob@example.com" in html
    assert forms(html) == []
    d.sign_in("bob@example.com")
    html = d.client.get(f"/staff/t/{number}", params={"lang": "en"}).text
    assert "belongs to" not in html and len(forms(html)) >= 9


def test_hostile_text_is_escaped_in_every_field(d: Desk) -> None:
    number = receive(
        d,
        claim(
            subject=XSS,
            body=f'{XSS}\n<a href="{LINK}">click</a>',
            sender=formataddr((XSS, "evil@acme.co.kr")),
            attachments=[(f"{XSS}.html", "text/html", b"<script>alert(4)</script>")],
        ),
    )
    open_ticket(d, XSS, sender="evil@acme.co.kr")
    work(
        d,
        number,
        lambda r: AddNote(r, f"{XSS} [x]({LINK})", "bob@example.com"),
        lambda r: AddFollower(r, Address("cc@acme.co.kr", XSS), "bob@example.com"),
    )
    d.sign_in("bob@example.com")
    page = d.client.get(f"/staff/t/{number}")
    assert page.status_code == 200
    html = page.text
    assert "<script>alert" not in html and "<img src=x" not in html
    assert 'href="javascript:' not in html and "&lt;script&gt;alert(1)" in html
    assert html.count("&lt;script&gt;alert(1)") >= 6
    assert page.headers["x-robots-tag"] == "noindex"
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert '<meta name="robots" content="noindex">' in html


def test_a_number_typed_loosely_is_redirected_and_an_unknown_one_is_a_404(d: Desk) -> None:
    number = open_ticket(d)
    d.sign_in()
    loose = number.lower().replace("-", "").replace("0", "o").replace("1", "l")
    answer = d.client.get(f"/staff/t/{loose}")
    assert answer.status_code == 301 and answer.headers["location"] == f"/staff/t/{number}"
    missing = d.client.get("/staff/t/SUP-0000-0000", params={"lang": "ko"})
    assert missing.status_code == 404 and "없는 문의입니다" in missing.text
    assert 'href="/staff/logout"' in missing.text or "/staff/logout" in missing.text
    assert d.client.get("/staff/t/nonsense").status_code == 404
    d.client.cookies.clear()
    away = d.client.get(f"/staff/t/{number}")
    assert away.status_code == 303 and away.headers["location"].startswith("/staff/login?next=")


def test_the_result_banner_shows_done_and_refused_escaped(d: Desk) -> None:
    number = open_ticket(d)
    d.sign_in()
    html = d.client.get(
        f"/staff/t/{number}", params=[("done", "#priority high"), ("refused", XSS)]
    ).text
    assert '<ul class="done"><li>#priority high</li>' in html
    assert "&lt;script&gt;alert(1)" in html and "<script>alert" not in html


def test_the_ticket_json_has_events_texts_followers_code_type_version(d: Desk) -> None:
    number = worked_ticket(d)
    d.sign_in()
    data = d.client.get(f"/staff/api/tickets/{number.lower()}").json()
    assert data["tracking"] == number and data["code"] is None and data["type"] is None
    assert data["followers"] == [{"email": "cfo@acme.co.kr", "name": "재무 이사"}]
    assert data["version"] == data["events"][-1]["id"]
    texts = {e["type"]: e["text"] for e in data["events"]}
    assert texts["note"] == "내부 확인 필요: 결제 모듈" and texts["created"] is None
    assert texts["customer_message"].startswith("첫 줄입니다.\n")
    assert d.client.get("/staff/api/tickets/SUP-0000-0000").status_code == 404
    d.client.cookies.clear()
    assert d.client.get(f"/staff/api/tickets/{number}").status_code == 401
