"""Signing in to the workspace end to end: the real app on a real store, the link caught
in the outbox's Maildir after a flush, cookies, CSRF, sign-out, API tokens."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from tests.e2e.support import text_of
from tests.web.staff_support import Desk, desk
from ticketd.daemon.web_server import staff_site
from ticketd.web.app import StatusApp
from ticketd.web.metrics import build_registry
from ticketd.web.staff.app import staff_mount
from ticketd.web.staff.auth import Viewer


class NoCounters:
    def counters(self) -> Mapping[str, float]:
        return {}


@pytest.fixture
def d(tmp_path: Path) -> Iterator[Desk]:
    with desk(tmp_path) as opened:
        yield opened


def session_cookie(answer: Any) -> str:
    return next(
        v for k, v in answer.headers.multi_items() if k == "set-cookie" and "ticketd_staff=" in v
    )


def test_the_mailed_link_opens_a_session_with_safe_cookie_flags(d: Desk) -> None:
    answer = d.client.post(
        "/staff/login", data={"email": "Alice@Example.com", "form_token": d.form_token()}
    )
    assert answer.status_code == 200
    assert "로그인 링크를 보냈습니다" in answer.text
    d.flush()
    [mail] = [m for m in d.ws.sent_mail() if "alice@example.com" in str(m["To"])]
    assert mail["Subject"] == "Example Support 업무 화면 로그인 링크"
    assert "15분 동안 한 번만" in text_of(mail)
    assert "http://127.0.0.1:8080/staff/login/" in text_of(mail)
    [token] = d.links("alice@example.com")
    opened = d.client.get(f"/staff/login/{token}")
    assert opened.status_code == 303
    assert opened.headers["location"] == "/staff/"
    cookie = session_cookie(opened)
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/staff" in cookie
    assert "Secure" not in cookie
    assert "Max-Age=43200" in cookie
    assert token not in cookie
    queue = d.client.get("/staff/")
    assert queue.status_code == 200
    assert "Alice" in queue.text and "상담원" in queue.text


def test_the_cookie_is_secure_when_base_url_is_https(tmp_path: Path) -> None:
    with desk(tmp_path, base_url="https://desk.example.com") as https:
        https.ask_link("alice@example.com")
        [token] = https.links("alice@example.com")
        assert "https://desk.example.com/staff/login/" in text_of(https.ws.sent_mail()[-1])
        opened = https.client.get(f"/staff/login/{token}")
        assert "Secure" in session_cookie(opened)
        assert https.client.get("/staff/").status_code == 200


def test_any_address_gets_the_same_answer_and_only_engineers_get_mail(d: Desk) -> None:
    known = d.client.post(
        "/staff/login", data={"email": "alice@example.com", "form_token": d.form_token()}
    )
    unknown = d.client.post(
        "/staff/login", data={"email": "mallory@evil.test", "form_token": d.form_token()}
    )
    assert known.status_code == unknown.status_code == 200
    assert known.text == unknown.text
    d.flush()
    assert [str(m["To"]) for m in d.ws.sent_mail()] == ["Alice <alice@example.com>"]


def test_a_link_works_once_and_for_fifteen_minutes(d: Desk) -> None:
    d.ask_link("alice@example.com")
    d.ask_link("alice@example.com")
    first, second = d.links("alice@example.com")
    assert d.client.get(f"/staff/login/{first}").status_code == 303
    reused = d.client.get(f"/staff/login/{first}")
    assert reused.status_code == 410
    assert "만료된 로그인 링크" in reused.text and 'action="/staff/login"' in reused.text
    d.clock.advance(minutes=15, seconds=1)
    expired = d.client.get(f"/staff/login/{second}?lang=en")
    assert expired.status_code == 410
    assert "This sign-in link has expired" in expired.text
    unknown = d.client.get("/staff/login/" + "a" * 52 + "?lang=ko")
    assert unknown.status_code == 400
    assert "사용할 수 없는 로그인 링크" in unknown.text


def test_each_sign_in_gets_a_new_session_id_and_ends_the_one_before(d: Desk) -> None:
    d.sign_in()
    first = d.client.cookies["ticketd_staff"]
    d.sign_in()
    second = d.client.cookies["ticketd_staff"]
    assert second != first
    d.client.cookies.clear()
    d.client.cookies.set("ticketd_staff", first, path="/staff")
    assert d.client.get("/staff/").status_code == 303
    d.client.cookies.clear()
    d.client.cookies.set("ticketd_staff", second, path="/staff")
    assert d.client.get("/staff/").status_code == 200


def test_sign_in_links_are_rate_limited_per_address_and_per_client(d: Desk) -> None:
    for _ in range(6):
        assert d.ask_link("alice@example.com") == 200
    assert len(d.links("alice@example.com")) == 5
    for _ in range(4):
        assert d.ask_link("bob@example.com") == 200
    assert d.ask_link("bob@example.com") == 429
    assert len(d.links("bob@example.com")) == 4


def test_a_sign_in_post_without_our_form_token_is_refused(d: Desk) -> None:
    d.client.get("/staff/login")
    missing = d.client.post("/staff/login", data={"email": "alice@example.com"})
    wrong = d.client.post(
        "/staff/login", data={"email": "alice@example.com", "form_token": "x" * 26}
    )
    foreign = d.client.post(
        "/staff/login",
        data={"email": "alice@example.com", "form_token": d.form_token()},
        headers={"Origin": "https://evil.test"},
    )
    assert missing.status_code == wrong.status_code == foreign.status_code == 403
    assert d.links("alice@example.com") == []


def test_sign_out_needs_the_csrf_token_and_ends_the_session_server_side(d: Desk) -> None:
    csrf = d.sign_in()
    cookie = d.client.cookies["ticketd_staff"]
    assert d.client.post("/staff/logout").status_code == 403
    assert d.client.post("/staff/logout", data={"csrf_token": "wrong"}).status_code == 403
    assert d.client.get("/staff/").status_code == 200
    out = d.client.post("/staff/logout", data={"csrf_token": csrf})
    assert out.status_code == 303 and out.headers["location"] == "/staff/login"
    d.client.cookies.set("ticketd_staff", cookie, path="/staff")
    again = d.client.get("/staff/")
    assert again.status_code == 303


def test_a_session_expires_after_staff_session_hours(tmp_path: Path) -> None:
    with desk(tmp_path, extra="") as short:
        text = short.ws.config.read_text(encoding="utf-8")
        assert "staff_session_hours" not in text
        short.sign_in()
        short.clock.advance(hours=11, minutes=59)
        assert short.client.get("/staff/").status_code == 200
        short.clock.advance(minutes=2)
        assert short.client.get("/staff/").status_code == 303


def test_pages_without_a_session_redirect_to_sign_in_and_come_back(d: Desk) -> None:
    answer = d.client.get("/staff/search?q=%EB%A1%9C%EA%B7%B8%EC%9D%B8")
    assert answer.status_code == 303
    target = answer.headers["location"]
    assert (
        target
        == "/staff/login?next=%2Fstaff%2Fsearch%3Fq%3D%25EB%25A1%259C%25EA%25B7%25B8%25EC%259D%25B8"
    )
    page = d.client.get(target)
    assert 'name="next" value="/staff/search?q=%EB%A1%9C%EA%B7%B8%EC%9D%B8"' in page.text
    d.ask_link("alice@example.com", "/staff/search?q=%EB%A1%9C%EA%B7%B8%EC%9D%B8")
    [token] = d.links("alice@example.com")
    opened = d.client.get(f"/staff/login/{token}")
    assert opened.headers["location"] == "/staff/search?q=%EB%A1%9C%EA%B7%B8%EC%9D%B8"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.test/",
        "//evil.test/staff/",
        "/staff//evil.test",
        "/\\evil.test",
        "/staff/../../evil",
        "/staff/\r\nLocation: https://evil.test",
        "javascript:alert(1)",
        "/other",
    ],
)
def test_next_never_leads_off_the_workspace(d: Desk, target: str) -> None:
    d.ask_link("alice@example.com", target)
    [token] = d.links("alice@example.com")
    assert d.client.get(f"/staff/login/{token}").headers["location"] == "/staff/"


def test_staff_responses_carry_noindex_no_store_and_the_security_headers(d: Desk) -> None:
    for path in ("/staff/login", "/staff/", "/staff/api/tickets", "/staff/login/nothing"):
        answer = d.client.get(path)
        assert answer.headers["x-robots-tag"] == "noindex"
        assert answer.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["x-content-type-options"] == "nosniff"
    assert "x-robots-tag" not in d.client.get("/").headers


def test_the_json_api_answers_401_without_a_session_or_token(d: Desk) -> None:
    answer = d.client.get("/staff/api/tickets")
    assert answer.status_code == 401
    assert answer.json() == {"error": "authentication required"}
    bad = d.client.get("/staff/api/tickets", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401


def test_api_tokens_from_the_cli(d: Desk, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = d.ws.cli(capsys, "token", "create", "nobody@example.com")
    assert code == 1 and "not a configured engineer" in err
    code, out, _ = d.ws.cli(capsys, "token", "create", "bob@example.com")
    assert code == 0
    token = out.strip().splitlines()[-1]
    assert len(token) == 52
    bearer = {"Authorization": f"Bearer {token}"}
    answer = d.client.get("/staff/api/tickets", headers=bearer)
    assert answer.status_code == 200
    assert answer.json()["tickets"][0]["tracking"] == "SUP-0000-0001"
    assert d.memory.queries[-1][0].email == "bob@example.com"
    [listed] = d.ws.cli_json(capsys, "token", "list")
    assert listed["engineer"] == "bob@example.com" and listed["last_used_at"]
    assert listed["revoked_at"] is None
    code, out, _ = d.ws.cli(capsys, "token", "list")
    assert token not in out and "bob@example.com" in out
    assert d.ws.cli(capsys, "token", "revoke", str(listed["id"]))[0] == 0
    assert d.client.get("/staff/api/tickets", headers=bearer).status_code == 401
    assert d.ws.cli(capsys, "token", "revoke", str(listed["id"]))[0] == 1
    assert d.ws.cli_json(capsys, "token", "list")[0]["revoked_at"]


def test_an_engineer_removed_from_the_config_loses_access_at_once(
    d: Desk, capsys: pytest.CaptureFixture[str]
) -> None:
    d.sign_in("alice@example.com")
    token = d.ws.cli(capsys, "token", "create", "alice@example.com")[1].strip().splitlines()[-1]
    config = d.components.config
    d.components.config = dataclasses.replace(
        config, engineers=tuple(e for e in config.engineers if e.email != "alice@example.com")
    )
    assert d.client.get("/staff/").status_code == 303
    bearer = {"Authorization": f"Bearer {token}"}
    assert d.client.get("/staff/api/tickets", headers=bearer).status_code == 401


def test_with_the_cookie_a_post_to_the_api_needs_x_csrf_token(d: Desk) -> None:
    """The seam the action endpoint uses: ``auth.api`` on a POST route under /staff."""
    site = staff_site(d.components, d.memory, d.memory)
    calls: list[str] = []

    async def act(request: Request, viewer: Viewer) -> Response:
        calls.append(viewer.user.email)
        return JSONResponse({"done": True})

    extra = [Route("/api/echo", site.auth.api(act), methods=["POST"])]
    _, counter = build_registry(NoCounters())
    app = StatusApp([staff_mount([site.routes(), extra])], counter, lambda: None)
    with TestClient(app, follow_redirects=False) as client:
        csrf = d.sign_in()
        client.cookies = d.client.cookies
        assert client.post("/staff/api/echo").status_code == 403
        assert client.post("/staff/api/echo", headers={"X-CSRF-Token": "bad"}).status_code == 403
        assert calls == []
        done = client.post("/staff/api/echo", headers={"X-CSRF-Token": csrf})
        assert done.status_code == 200 and calls == ["alice@example.com"]
