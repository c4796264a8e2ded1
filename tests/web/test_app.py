"""The status pages and API through Starlette's TestClient, with an in-memory reader."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from starlette.testclient import TestClient

from ticketd.routing.links import status_token
from ticketd.routing.tracking import generate
from ticketd.web.app import create_app
from ticketd.web.ports import TicketPage, TimelineEntry, WebSettings

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

    def published_page(self, tracking: str, language: str) -> bytes | None:
        self.lookups.append(tracking)
        return self.published.get((tracking, language))

    def requester_matches(self, tracking: str, email: str) -> bool:
        return tracking in self.pages and email.strip().lower() == REQUESTER


@dataclass
class FakeMailer:
    sent: list[str] = field(default_factory=list)

    def resend_link(self, tracking: str) -> None:
        self.sent.append(tracking)


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
        mailer=mailer or FakeMailer(),
        health=health or Health(),
        metrics=Health(),
        clock=clock or Clock(),
    )
    return TestClient(app, follow_redirects=False)


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


def test_language_from_accept_language_and_query() -> None:
    c = client()
    assert (
        "In progress" in c.get(f"/t/{NUMBER}", headers={"Accept-Language": "en-US,en;q=0.9"}).text
    )
    assert "처리 중" in c.get(f"/t/{NUMBER}?lang=ko", headers={"Accept-Language": "en"}).text
    assert "In progress" in c.get(f"/t/{NUMBER}?lang=en").text


def test_show_owner_team_hides_the_person() -> None:
    html = client(show_owner="team", team_name="Support team").get(f"/t/{NUMBER}").text
    assert "Support team" in html and "Alice" not in html


def test_resend_answers_the_same_whether_or_not_the_address_matches() -> None:
    mailer = FakeMailer()
    c = client(mailer=mailer)
    good = c.post("/resend", data={"tracking": NUMBER.lower(), "email": REQUESTER.upper()})
    bad = c.post("/resend", data={"tracking": NUMBER, "email": "mallory@evil.example"})
    assert good.status_code == bad.status_code == 200
    assert good.text == bad.text
    assert mailer.sent == [NUMBER]


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
    assert "ticketd_tickets_created 42.0" in metrics
    assert 'ticketd_http_requests_total{route="/t/{tracking}",status="200"}' in metrics
