"""Every notice renders in Korean and English; customer subjects carry the tracking number."""

from __future__ import annotations

from pathlib import Path

import pytest

from ticketd.notifications.render import Renderer, paragraphs
from ticketd.routing.effects import ENGINEER_NOTICES, NoticeKind
from ticketd.routing.text import BIDI_CONTROLS

CONTEXT = {
    "service_name": "Example 고객지원",
    "tracking": "SUP-7K2M-9QXA",
    "subject": "똠햏뷁 로그인 오류",
    "status": "resolved",
    "status_url": "http://127.0.0.1:8080/t/SUP-7K2M-9QXA?k=abc",
    "rate_good_url": "http://127.0.0.1:8080/t/SUP-7K2M-9QXA/rate?k=abc&r=good",
    "rate_bad_url": "http://127.0.0.1:8080/t/SUP-7K2M-9QXA/rate?k=abc&r=bad",
    "first_response_hours": 24,
    "requester_name": "김민수",
    "requester": "김민수 <kim@acme.co.kr>",
    "owner": "alice@example.com",
    "owner_name": "Alice",
    "recipient_name": "Alice",
    "customer_text": "결제가 안 됩니다\n두 번째 줄",
    "reason": "least-loaded engineer on duty",
    "reasons": "no Authentication-Results header",
    "text": "답변 본문",
    "new_status": "",
    "workspace_url": "http://127.0.0.1:8080/staff/t/SUP-7K2M-9QXA",
    "staff_url": "http://127.0.0.1:8080/staff/",
    "sign_in_url": "http://127.0.0.1:8080/staff/login/abc",
    "minutes": 15,
    "original_text": "처음 문의: 로그인이 안 됩니다",
    "notes": ["내부 메모 하나"],
    "sender": "김민수 <kim@acme.co.kr>",
    "attachments": [("화면.png", "12 KB", True), ("log.zip", "30.0 MB", False)],
    "tickets": [("SUP-7K2M-9QXA", "똠햏뷁 로그인 오류"), ("SUP-0000-0000", "결제 오류")],
}


@pytest.mark.parametrize("language", ["ko", "en"])
@pytest.mark.parametrize("kind", list(NoticeKind))
def test_every_notice_renders(kind: NoticeKind, language: str) -> None:
    mail = Renderer.default().render(kind.value, language, CONTEXT)
    assert mail.subject and "\n" not in mail.subject
    assert mail.text.strip()
    if kind not in ENGINEER_NOTICES or kind == NoticeKind.OWNER_ASSIGNED:
        assert "SUP-7K2M-9QXA" in mail.subject


OWNER_NOTICES = (
    NoticeKind.OWNER_ASSIGNED,
    NoticeKind.UNOWNED,
    NoticeKind.CUSTOMER_WROTE,
    NoticeKind.THIRD_PARTY_WROTE,
    NoticeKind.SLA_REMINDER,
    NoticeKind.SLA_BREACHED,
    NoticeKind.COMMAND_RESULT,
)


@pytest.mark.parametrize("language", ["ko", "en"])
@pytest.mark.parametrize("kind", OWNER_NOTICES)
def test_owner_notices_link_the_ticket_in_the_workspace(kind: NoticeKind, language: str) -> None:
    text = Renderer.default().render(kind.value, language, CONTEXT).text
    assert "http://127.0.0.1:8080/staff/t/SUP-7K2M-9QXA" in text


@pytest.mark.parametrize("language", ["ko", "en"])
def test_folded_new_tickets_link_each_ticket_in_the_workspace(language: str) -> None:
    text = Renderer.default().render("new_tickets", language, CONTEXT).text
    assert "http://127.0.0.1:8080/staff/t/SUP-0000-0000" in text
    assert "http://127.0.0.1:8080/staff/t/SUP-7K2M-9QXA" in text


def test_the_sign_in_mail_carries_the_link_and_its_limits() -> None:
    ko = Renderer.default().render("sign_in_link", "ko", CONTEXT)
    assert ko.subject == "Example 고객지원 업무 화면 로그인 링크"
    assert "http://127.0.0.1:8080/staff/login/abc" in ko.text and "15분 동안" in ko.text
    en = Renderer.default().render("sign_in_link", "en", CONTEXT)
    assert "within 15 minutes" in en.text and "/staff/login/abc" in en.text


def test_acknowledgement_has_number_link_and_promise() -> None:
    ko = Renderer.default().render("acknowledgement", "ko", CONTEXT)
    assert ko.subject == "[SUP-7K2M-9QXA] 문의가 접수되었습니다: 똠햏뷁 로그인 오류"
    assert CONTEXT["status_url"] in ko.text and "24시간 이내" in ko.text
    en = Renderer.default().render("acknowledgement", "en", CONTEXT)
    assert "within 24 hours" in en.text and "SUP-7K2M-9QXA" in en.text


def test_owner_notice_carries_the_story_and_lists_commands() -> None:
    text = Renderer.default().render("owner_assigned", "en", CONTEXT).text
    assert "Why: least-loaded engineer on duty" in text
    assert "The original claim:\n\n> 처음 문의: 로그인이 안 됩니다" in text
    assert "The customer's latest message:\n\n> 결제가 안 됩니다\n> 두 번째 줄" in text
    assert "| 내부 메모 하나" in text
    assert "화면.png (12 KB, attached)" in text and "log.zip (30.0 MB, too large to attach)" in text
    assert "#assign" in text and "#note" in text and "#take" in text and "#cc add" in text
    ko = Renderer.default().render("owner_assigned", "ko", CONTEXT).text
    assert "처음 문의 내용:" in ko and "고객의 최근 메시지:" in ko and "내부 메모:" in ko


def test_operators_can_override_templates(tmp_path: Path) -> None:
    (tmp_path / "ko").mkdir()
    (tmp_path / "ko" / "acknowledgement.txt").write_text(
        "Subject: [{{ tracking }}] 우리 회사 접수\n\n맞춤 본문 {{ status_url }}\n", encoding="utf-8"
    )
    mail = Renderer.default(tmp_path).render("acknowledgement", "ko", CONTEXT)
    assert mail.subject == "[SUP-7K2M-9QXA] 우리 회사 접수"
    assert (
        Renderer.default(tmp_path)
        .render("acknowledgement", "en", CONTEXT)
        .subject.startswith("[SUP-7K2M-9QXA] We received")
    )


def test_the_html_alternative_escapes_everything_and_links_only_web_addresses() -> None:
    hostile = {**CONTEXT, "text": '<script>alert(1)</script> javascript:alert(2) "quoted"'}
    renderer = Renderer.default()
    html = renderer.html("public_reply", "ko", hostile)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="javascript' not in html
    assert 'href="http://127.0.0.1:8080/t/SUP-7K2M-9QXA?k=abc"' in html
    assert "진행 상황 보기" in html and "SUP-7K2M-9QXA" in html


def test_paragraphs_keep_the_text_and_its_line_breaks() -> None:
    text = "Line one\nsee https://example.com/a?b=1&c=2.\n\n\n  SUP-7K2M-9QXA\n"
    assert paragraphs(text) == (
        "<p>Line one<br>\n"
        'see <a href="https://example.com/a?b=1&amp;c=2">https://example.com/a?b=1&amp;c=2</a>.'
        "</p>\n<p>  SUP-7K2M-9QXA</p>"
    )


def test_paragraphs_escape_around_links_and_in_lines_without_links() -> None:
    text = "<http://a.test/x?q='1'> &amp; 'it'\nplain <b>&</b>"
    assert paragraphs(text) == (
        '<p>&lt;<a href="http://a.test/x?q=">http://a.test/x?q=</a>&#39;1&#39;&gt; '
        "&amp;amp; &#39;it&#39;<br>\nplain &lt;b&gt;&amp;&lt;/b&gt;</p>"
    )


@pytest.mark.parametrize("language", ["ko", "en"])
@pytest.mark.parametrize("kind", list(NoticeKind))
def test_bidi_controls_from_names_subjects_and_texts_never_reach_a_notice(
    kind: NoticeKind, language: str
) -> None:
    rlo = "\u202e"
    hostile = {
        **CONTEXT,
        "subject": f"invoice {rlo}fdp.exe",
        "requester_name": f"김민수{rlo}",
        "requester": "\u2067Kim\u2069 <kim@acme.co.kr>",
        "owner_name": f"Alice{rlo}",
        "recipient_name": f"Alice{rlo}",
        "customer_text": f"see {rlo}txt.exe",
        "text": f"reply {rlo}gpj.exe",
        "reason": f"rule {rlo}x",
    }
    renderer = Renderer.default()
    mail = renderer.render(kind.value, language, hostile)
    html = renderer.html(kind.value, language, hostile)
    for shown in (mail.subject, mail.text, html):
        assert not BIDI_CONTROLS & set(shown)
    if kind == NoticeKind.ACKNOWLEDGEMENT:
        assert "invoice fdp.exe" in mail.subject
