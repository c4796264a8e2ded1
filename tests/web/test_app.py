"""The status pages and API through Starlette's TestClient, with an in-memory reader."""

from __future__ import annotations

import re
import secrets
import tracemalloc
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from starlette.testclient import TestClient

from ticketd.routing.links import attachment_signature, status_token
from ticketd.routing.text import BIDI_CONTROLS
from ticketd.routing.tracking import generate
from ticketd.web.app import create_app
from ticketd.web.i18n import choose_language
from ticketd.web.ports import (
    AttachmentFile,
    PublicAttachment,
    TicketPage,
    TimelineEntry,
    WebSettings,
)

SECRET = "web-test-secret-0123456789"
REQUESTER = "kim.minsu@acme.co.kr"
NUMBER = generate("SUP", secrets.token_bytes)
T0 = datetime(2026, 11, 24, 0, 30, tzinfo=UTC)
XSS = "<script>alert(1)</script>"


def page(**overrides: object) -> TicketPage:
    values: dict[str, object] = {
        "tracking": NUMBER,
        "status": "pending",
        "subject": f"로그인 오류 {XSS}",
        "owner_name": f"Alice {XSS}",
        "created_at": T0,
        "updated_at": T0 + timedelta(hours=2),
        "first_response_hours": 24,
        "first_response_due": T0 + timedelta(hours=24),
        "language": "ko",
        "timeline": (
            TimelineEntry(T0, "created", "", "customer", f"화면이 안 열립니다 {XSS}"),
            TimelineEntry(
                T0 + timedelta(hours=2), "reply_sent", "", "support", "캐시를 지워 주세요"
            ),
            TimelineEntry(T0 + timedelta(hours=2), "status_changed", "pending", "support", None),
        ),
    }
    values.update(overrides)
    return TicketPage(**values)  # type: ignore[arg-type]


@dataclass
class FakeReader:
    pages: dict[str, TicketPage] = field(default_factory=lambda: {NUMBER: page()})
    lookups: list[str] = field(default_factory=list)
    published: dict[tuple[str, str], bytes] = field(default_factory=dict)

    def ticket_page(self, tracking: str) -> TicketPage | None:
        self.lookups.append(tracking)
        return self.pages.get(tracking)

    def published_page(self, tracking: str, language: str | None) -> bytes | None:
        self.lookups.append(tracking)
        page = self.pages.get(tracking)
        own = page.language if page else ""
        return self.published.get((tracking, language or own))


@dataclass
class FakeAttachments:
    files: dict[str, dict[int, tuple[PublicAttachment, bytes]]] = field(default_factory=dict)

    def attachments(self, tracking: str) -> tuple[PublicAttachment, ...]:
        return tuple(listed for listed, _ in self.files.get(tracking, {}).values())

    def attachment(self, tracking: str, attachment_id: int) -> AttachmentFile | None:
        found = self.files.get(tracking, {}).get(attachment_id)
        return AttachmentFile(found[0].filename, found[1]) if found else None


@dataclass
class FakeMailer:
    """Records every request handed over; the real one decides behind the port."""

    calls: list[tuple[str, str]] = field(default_factory=list)

    def resend_link(self, tracking: str, email: str) -> None:
        self.calls.append((tracking, email))


@dataclass
class Health:
    problems: tuple[str, ...] = ()

    def health(self) -> Mapping[str, object]:
        found: dict[str, object] = {"database": "ok", "outbox_backlog": 3, "mailbox": []}
        return {**found, "problems": list(self.problems)} if self.problems else found

    def counters(self) -> Mapping[str, float]:
        return {"tickets_created": 42, "outbox_backlog": 3}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def client(
    reader: FakeReader | None = None,
    mailer: FakeMailer | None = None,
    clock: Clock | None = None,
    attachments: FakeAttachments | None = None,
    raise_server_exceptions: bool = True,
    health: Health | None = None,
    **settings: object,
) -> TestClient:
    values: dict[str, object] = {
        "service_name": "Example Support",
        "language": "ko",
        "timezone": "Asia/Seoul",
        "secret_key": SECRET,
        "tracking_prefix": "SUP",
        "base_url": "http://testserver",
    }
    values.update(settings)
    app = create_app(
        WebSettings(**values),  # type: ignore[arg-type]
        reader or FakeReader(),
        attachments=attachments or FakeAttachments(),
        mailer=mailer or FakeMailer(),
        health=health or Health(),
        metrics=Health(),
        clock=clock or Clock(),
    )
    return TestClient(app, follow_redirects=False, raise_server_exceptions=raise_server_exceptions)


def form_token(c: TestClient, path: str = "/") -> str:
    """The resend form's hidden token from a page (the client keeps the cookie)."""
    found = re.search(r'name="form_token" value="([a-z2-7]+)"', c.get(path).text)
    assert found is not None
    return found.group(1)


def test_status_page_shows_status_owner_times_and_promise_in_korean() -> None:
    response = client().get(f"/t/{NUMBER}")
    assert response.status_code == 200
    html = response.text
    assert "처리 중" in html
    assert "Alice &lt;script&gt;" in html
    assert "2026-11-24 09:30" in html
    assert "24시간 이내에 첫 답변" in html
    assert "고객지원 답변" in html


def test_without_token_no_conversation_or_subject_with_token_both() -> None:
    c = client()
    plain = c.get(f"/t/{NUMBER}").text
    assert "캐시를 지워 주세요" not in plain and "로그인 오류" not in plain
    key = status_token(SECRET, NUMBER)
    full = c.get(f"/t/{NUMBER}?k={key}").text
    assert "캐시를 지워 주세요" in full and "로그인 오류" in full
    other = "a" if key[-1] != "a" else "b"
    forged = c.get(f"/t/{NUMBER}?k={key[:-1]}{other}").text
    assert "캐시를 지워 주세요" not in forged
    for hostile in ("%C3%BC" * 26, "%ED%95%8F", "%00"):
        response = c.get(f"/t/{NUMBER}?k={hostile}")
        assert response.status_code == 200 and "캐시를 지워 주세요" not in response.text
        assert c.get(f"/api/tickets/{NUMBER}?k={hostile}").status_code == 200


def test_everything_is_escaped() -> None:
    key = status_token(SECRET, NUMBER)
    html = client().get(f"/t/{NUMBER}?k={key}").text
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_requester_address_never_appears() -> None:
    c = client()
    key = status_token(SECRET, NUMBER)
    for path in (f"/t/{NUMBER}?k={key}", f"/api/tickets/{NUMBER}?k={key}", "/"):
        assert REQUESTER not in c.get(path).text


@pytest.mark.parametrize(
    "typed", [NUMBER.lower(), NUMBER.replace("-", ""), NUMBER.replace("0", "O").replace("1", "l")]
)
def test_typo_tolerant_numbers_redirect_to_the_canonical_page(typed: str) -> None:
    c = client()
    if typed == NUMBER:
        return
    response = c.get(f"/t/{typed}?k=abc")
    assert response.status_code == 301
    assert response.headers["location"] == f"/t/{NUMBER}?k=abc"
    lookup = c.get("/lookup", params={"tracking": typed})
    assert lookup.status_code == 303 and lookup.headers["location"] == f"/t/{NUMBER}"


def test_unknown_and_malformed_numbers_get_the_same_404() -> None:
    reader = FakeReader()
    c = client(reader)
    unknown = c.get(f"/t/{generate('SUP', secrets.token_bytes)}")
    unknown_work = len(reader.lookups)
    malformed = c.get("/t/not-a-number")
    assert unknown.status_code == malformed.status_code == 404
    assert unknown.text == malformed.text
    assert unknown_work == len(reader.lookups) - unknown_work > 0


def test_the_published_copy_is_served_but_never_with_the_conversation_key() -> None:
    reader = FakeReader(published={(NUMBER, "ko"): b"<p>published copy</p>"})
    c = client(reader)
    assert c.get(f"/t/{NUMBER}").text == "<p>published copy</p>"
    assert c.get(f"/t/{NUMBER}", headers={"Accept-Language": "en"}).status_code == 200
    assert "published copy" not in c.get(f"/t/{NUMBER}?lang=en").text
    keyed = c.get(f"/t/{NUMBER}?k={status_token(SECRET, NUMBER)}").text
    assert "published copy" not in keyed and "캐시를 지워 주세요" in keyed
    typed = NUMBER.lower().replace("-", "")
    assert c.get(f"/t/{typed}").status_code == 301


def test_api_json_per_contract() -> None:
    c = client()
    data = c.get(f"/api/tickets/{NUMBER}").json()
    assert set(data) >= {"tracking", "status", "owner_name", "created_at", "updated_at", "timeline"}
    assert data["created_at"] == "2026-11-24T00:30:00Z"
    assert all("text" not in entry for entry in data["timeline"])
    key = status_token(SECRET, NUMBER)
    with_key = c.get(f"/api/tickets/{NUMBER}?k={key}").json()
    assert with_key["timeline"][1]["text"] == "캐시를 지워 주세요"
    assert c.get("/api/tickets/SUP-0000-0000").status_code == 404
    assert "/api/tickets/{tracking}" in c.get("/openapi.json").json()["paths"]


def test_security_headers_on_every_response() -> None:
    c = client()
    for path in ("/", f"/t/{NUMBER}", "/t/nope", "/healthz", f"/api/tickets/{NUMBER}"):
        headers = c.get(path).headers
        assert "script-src" not in headers["content-security-policy"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-content-type-options"] == "nosniff"
    assert c.get(f"/t/{NUMBER}").headers["cache-control"] == "no-store"


def test_lookups_are_rate_limited_per_client() -> None:
    clock = Clock()
    c = client(clock=clock, rate_limit_per_minute=5)
    assert [c.get(f"/t/{NUMBER}").status_code for _ in range(5)] == [200] * 5
    blocked = c.get(f"/t/{NUMBER}")
    assert blocked.status_code == 429 and 1 <= int(blocked.headers["retry-after"]) <= 60
    assert c.get("/healthz").status_code == 200
    clock.now += 61
    assert c.get(f"/t/{NUMBER}").status_code == 200


def test_language_from_the_ticket_and_query() -> None:
    c = client()
    assert "처리 중" in c.get(f"/t/{NUMBER}", headers={"Accept-Language": "en-US,en;q=0.9"}).text
    assert "Check your request" in c.get("/", headers={"Accept-Language": "en-US,en;q=0.9"}).text
    assert "처리 중" in c.get(f"/t/{NUMBER}?lang=ko", headers={"Accept-Language": "en"}).text
    assert "In progress" in c.get(f"/t/{NUMBER}?lang=en").text


def test_show_owner_team_hides_the_person() -> None:
    html = client(show_owner="team", team_name="Support team").get(f"/t/{NUMBER}").text
    assert "Support team" in html and "Alice" not in html


def test_resend_does_the_same_for_a_matching_and_a_wrong_address() -> None:
    """Both are handed over alike (the address is checked behind the port, after the
    answer went out), so neither the answer nor its timing can tell them apart."""
    mailer = FakeMailer()
    c = client(mailer=mailer)
    token = form_token(c)
    good = c.post(
        "/resend",
        data={"tracking": NUMBER.lower(), "email": REQUESTER.upper(), "form_token": token},
    )
    bad = c.post(
        "/resend", data={"tracking": NUMBER, "email": "mallory@evil.example", "form_token": token}
    )
    assert good.status_code == bad.status_code == 200
    assert good.text == bad.text and "주소가 일치하면" in good.text
    assert mailer.calls == [(NUMBER, REQUESTER.upper()), (NUMBER, "mallory@evil.example")]
    c.post("/resend", data={"tracking": "nonsense", "email": REQUESTER, "form_token": token})
    assert len(mailer.calls) == 2


def test_resend_answers_before_the_request_is_looked_at() -> None:
    class BrokenMailer(FakeMailer):
        def resend_link(self, tracking: str, email: str) -> None:
            raise RuntimeError("database down")

    c = client(mailer=BrokenMailer(), raise_server_exceptions=False)
    form = {"tracking": NUMBER, "email": REQUESTER, "form_token": form_token(c)}
    answered = c.post("/resend", data=form)
    assert answered.status_code == 200 and "주소가 일치하면" in answered.text


def test_resend_refuses_posts_from_other_sites_and_queues_nothing() -> None:
    mailer = FakeMailer()
    c = client(mailer=mailer)
    token = form_token(c)
    form = {"tracking": NUMBER, "email": REQUESTER}
    stranger = client(mailer=mailer)
    stranger.get("/")
    refused = [
        c.post("/resend", data=form),
        c.post("/resend", data={**form, "form_token": token[:-1] + "x"}),
        c.post("/resend", data={**form, "form_token": "é" * 26}),
        stranger.post("/resend", data={**form, "form_token": token}),
        c.post(
            "/resend", data={**form, "form_token": token}, headers={"Sec-Fetch-Site": "cross-site"}
        ),
        c.post(
            "/resend", data={**form, "form_token": token}, headers={"Sec-Fetch-Site": "same-site"}
        ),
        c.post(
            "/resend",
            data={**form, "form_token": token},
            headers={"Origin": "https://evil.example"},
        ),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    assert mailer.calls == []
    assert "입력 양식이 만료되었습니다" in refused[0].text
    retry = re.search(r'name="form_token" value="([a-z2-7]+)"', refused[0].text)
    assert retry is not None and retry.group(1) == token
    browser_headers = {"Origin": "null", "Sec-Fetch-Site": "same-origin"}
    taken = c.post("/resend", data={**form, "form_token": token}, headers=browser_headers)
    assert taken.status_code == 200
    own = c.post(
        "/resend", data={**form, "form_token": token}, headers={"Origin": "http://testserver"}
    )
    assert own.status_code == 200
    assert mailer.calls == [(NUMBER, REQUESTER)] * 2


def test_the_form_cookie_is_http_only_strict_and_secure_over_https() -> None:
    plain = client().get("/").headers["set-cookie"].lower()
    assert "httponly" in plain and "samesite=strict" in plain and "secure" not in plain
    https = client(base_url="https://help.example.com").get("/").headers["set-cookie"].lower()
    assert "secure" in https
    c = client()
    c.get("/")
    assert "set-cookie" not in c.get("/").headers


def test_uncaught_errors_still_carry_the_security_headers_and_are_counted() -> None:
    class BrokenReader(FakeReader):
        def ticket_page(self, tracking: str) -> TicketPage | None:
            raise RuntimeError("database gone")

    c = client(BrokenReader(), raise_server_exceptions=False)
    failed = c.get(f"/t/{NUMBER}?k=abc")
    assert failed.status_code == 500
    assert "frame-ancestors 'none'" in failed.headers["content-security-policy"]
    assert failed.headers["x-content-type-options"] == "nosniff"
    assert failed.headers["referrer-policy"] == "no-referrer"
    metrics = c.get("/metrics").text
    assert 'ticketd_http_requests_total{route="/t/{tracking}",status="500"} 1.0' in metrics


def test_language_choice_keeps_no_hostile_header_in_memory() -> None:
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(1100):
            assert choose_language(None, f"{i}," + "x" * 60_000 + ",en", "ko") in ("en", "ko")
        retained = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert retained < 1_000_000
    assert choose_language(None, "en-US,en;q=0.9", "ko") == "en"
    assert choose_language(None, "fr, ko;q=0.2, en;q=0.1", "en") == "ko"
    assert choose_language("en", "ko", "ko") == "en"


def test_bidi_controls_in_names_subjects_and_texts_never_reach_the_page() -> None:
    rlo = "‮"
    hostile = page(
        subject=f"Invoice {rlo}fdp.exe",
        owner_name=f"Alice{rlo}⁦ Kim",
        timeline=(TimelineEntry(T0, "created", "", "customer", f"see {rlo}txt.exe⁩ file"),),
    )
    files = FakeAttachments(
        {NUMBER: {7: (PublicAttachment(7, f"photo{rlo}gpj.exe", 10, T0), b"0123456789")}}
    )
    c = client(FakeReader(pages={NUMBER: hostile}), attachments=files)
    for path in (f"/t/{NUMBER}", f"/t/{NUMBER}?k={status_token(SECRET, NUMBER)}"):
        html = c.get(path).text
        assert not BIDI_CONTROLS & set(html)
    assert "Invoice fdp.exe" in html and "see txt.exe file" in html and "photogpj.exe" in html


def test_health_is_503_while_something_keeps_ticketd_from_working() -> None:
    answer = client(health=Health(("imap worker down, restarting: OperationalError",))).get(
        "/healthz"
    )
    assert answer.status_code == 503
    assert answer.json()["status"] == "degraded" and answer.json()["database"] == "ok"


def test_health_and_metrics() -> None:
    c = client()
    assert c.get("/healthz").json() == {
        "status": "ok",
        "database": "ok",
        "outbox_backlog": 3,
        "mailbox": [],
    }
    c.get(f"/t/{NUMBER}")
    metrics = c.get("/metrics").text
    assert "ticketd_tickets_created_total 42.0" in metrics
    assert 'ticketd_http_requests_total{route="/t/{tracking}",status="200"}' in metrics


HOSTILE_NAMES = {
    11: "../../evil.html",
    12: "invoice\u202efdp.exe",
    13: "report\r\nSet-Cookie: owned=1.txt",
    14: '..\\..\\"quoted";%41.svg',
    15: "보고서 최종.pdf",
}


def downloads() -> FakeAttachments:
    other = generate("SUP", secrets.token_bytes)
    return FakeAttachments(
        {
            NUMBER: {
                i: (PublicAttachment(i, name, 5, T0), b"<svg onload=alert(1)>")
                for i, name in HOSTILE_NAMES.items()
            },
            other: {21: (PublicAttachment(21, "theirs.txt", 5, T0), b"other")},
        }
    )


def link(number: str, attachment_id: int, key_of: str | None = None) -> str:
    key = status_token(SECRET, key_of or number)
    return (
        f"/t/{number}/attachments/{attachment_id}"
        f"?k={key}&s={attachment_signature(SECRET, number, attachment_id)}"
    )


def test_the_keyed_page_lists_attachments_with_signed_links_and_the_plain_page_does_not() -> None:
    c = client(attachments=downloads())
    plain = c.get(f"/t/{NUMBER}").text
    assert "보고서 최종.pdf" not in plain and "/attachments/" not in plain
    keyed = c.get(f"/t/{NUMBER}?k={status_token(SECRET, NUMBER)}").text
    assert "첨부 파일" in keyed and "보고서 최종.pdf" in keyed and "5 B" in keyed
    assert link(NUMBER, 15).replace("&", "&amp;") in keyed
    api = c.get(f"/api/tickets/{NUMBER}?k={status_token(SECRET, NUMBER)}").json()
    assert {"name": "보고서 최종.pdf", "size": 5, "at": "2026-11-24T00:30:00Z",
            "url": link(NUMBER, 15)} in api["attachments"]  # fmt: skip
    assert "attachments" not in c.get(f"/api/tickets/{NUMBER}").json()


def test_a_download_is_an_opaque_attachment_with_the_security_headers() -> None:
    got = client(attachments=downloads()).get(link(NUMBER, 15))
    assert got.status_code == 200 and got.content == b"<svg onload=alert(1)>"
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"] == (
        'attachment; filename="___ __.pdf"; '
        "filename*=UTF-8''%EB%B3%B4%EA%B3%A0%EC%84%9C%20%EC%B5%9C%EC%A2%85.pdf"
    )
    assert "sandbox" in got.headers["content-security-policy"]
    assert got.headers["referrer-policy"] == "no-referrer"
    assert got.headers["cache-control"] == "no-store"


def test_hostile_attachment_names_are_made_plain_in_the_header() -> None:
    c = client(attachments=downloads())
    shown = {i: c.get(link(NUMBER, i)).headers["content-disposition"] for i in HOSTILE_NAMES}
    assert shown[11].startswith('attachment; filename="evil.html";')
    assert shown[12].startswith('attachment; filename="invoicefdp.exe";')
    assert shown[13].startswith('attachment; filename="reportSet-Cookie_ owned=1.txt";')
    assert shown[14].startswith('attachment; filename="_quoted___41.svg";')
    for header in shown.values():
        assert "\r" not in header and "\n" not in header and "/" not in header.split("''")[0]
        assert "%E2%80%AE" not in header and ".." not in header


def test_every_wrong_download_link_gets_the_same_404() -> None:
    files = downloads()
    c = client(attachments=files)
    [other] = [number for number in files.files if number != NUMBER]
    good = link(NUMBER, 15)
    wrong = [
        good.split("&s=")[0],  # no signature
        good.replace("?k=", "?x="),  # no key
        link(NUMBER, 15, key_of=other),  # another ticket's key
        link(NUMBER, 21),  # another ticket's attachment, signed for this one
        link(other, 15, key_of=NUMBER),
        link(NUMBER, 99),  # no such attachment
        link(NUMBER, 15).replace("/15?", "/015?"),
        link(NUMBER, 15).replace(NUMBER, NUMBER.lower()),
        f"/t/{NUMBER}/attachments/99999999999999999999999?k=a&s=b",
        f"/t/{NUMBER}/attachments/\u0663?k=a&s=b",
        "/t/nonsense/attachments/15?k=a&s=b",
    ]
    answers = [c.get(path) for path in wrong]
    assert [a.status_code for a in answers] == [404] * len(wrong)
    assert len({a.text for a in answers}) == 1
    assert c.get(link(other, 21)).status_code == 200


def test_the_openapi_schema_describes_the_json_routes_without_yaml() -> None:
    c = client()
    schema = c.get("/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    paths = {route.path for route in c.app.routes}  # type: ignore[attr-defined]
    assert set(schema["paths"]) == {"/api/tickets/{tracking}", "/healthz"} <= paths
    ticket = schema["components"]["schemas"]["Ticket"]
    assert set(ticket["required"]) == {
        "tracking", "status", "owner_name", "created_at", "updated_at", "timeline"
    }  # fmt: skip
