"""Satisfaction ratings end to end: the resolution mail's one-click links (followed from
the mail the Maildir transport wrote), the confirmation page that never records, the
post that records one ``csat`` event per change until the ticket is closed, and the
owner's mail about a bad rating."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from starlette.testclient import TestClient

from tests.builders import claim
from tests.e2e.support import Workspace, text_of, write_config, write_mbox
from ticketd.daemon.actions import StoreActions
from ticketd.daemon.config import load_config
from ticketd.daemon.web_server import build_web_app
from ticketd.daemon.wiring import Components, build
from ticketd.routing.actions import ActionRequest
from ticketd.routing.links import status_token
from ticketd.routing.model import Role
from ticketd.routing.workspace import StaffUser

Capsys = pytest.CaptureFixture[str]
ALICE = StaffUser("alice@example.com", "Alice", Role.AGENT)
SECRET = "test-secret-key-0123456789"
KOREAN_CLAIM = claim("로그인이 안 됩니다", "어제부터 관리자 페이지에 로그인할 수 없습니다.")


class Desk:
    """One installation: a ticket opened by import, worked through the staff action."""

    def __init__(self, ws: Workspace, capsys: Capsys, components: Components) -> None:
        self.ws, self.capsys, self.components = ws, capsys, components
        [ticket] = ws.cli_json(capsys, "ticket", "list")
        self.tracking = str(ticket["tracking"])

    def act(self, *commands: str) -> None:
        with self.components.store.write() as writer:
            ref = writer.lookup.ticket_to_act_on(self.tracking)
            assert ref is not None
            version = writer.lookup.version(ref.id)
        result = StoreActions(self.components).act(
            ALICE, self.tracking, version, ActionRequest(commands, "")
        )
        assert not result.refused, result
        code, _, err = self.ws.cli(self.capsys, "run", "--once")
        assert code == 0, err

    def csat(self) -> list[tuple[str, str]]:
        shown = self.ws.cli_json(self.capsys, "ticket", "show", self.tracking)
        return [(e["summary"], e["actor"]) for e in shown["events"] if e["type"] == "csat"]

    def mail_to(self, address: str) -> list[str]:
        return [text_of(m) for m in self.ws.sent_mail() if address in str(m["To"])]


@pytest.fixture
def desk(tmp_path: Path, capsys: Capsys) -> Iterator[Desk]:
    ws = write_config(tmp_path)
    code, _, err = ws.cli(capsys, "import", str(write_mbox(tmp_path / "a.mbox", [KOREAN_CLAIM])))
    assert code == 0, err
    components = build(load_config(ws.config))
    try:
        yield Desk(ws, capsys, components)
    finally:
        components.close()


@pytest.fixture
def web(desk: Desk) -> Iterator[TestClient]:
    with TestClient(build_web_app(desk.components)) as client:  # type: ignore[arg-type]
        yield client


def form_of(page: str) -> dict[str, str]:
    """The hidden fields of the rating form."""
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))


def post(web: TestClient, desk: Desk, key: str, rating: str, comment: str = "") -> str:
    page = web.get(f"/t/{desk.tracking}/rate?k={key}&r={rating}")
    assert page.status_code == 200, page.text
    fields = {**form_of(page.text), "r": rating, "comment": comment}
    answer = web.post(f"/t/{desk.tracking}/rate", data=fields)
    return f"{answer.status_code} {answer.text}"


def rate_links(mail: str) -> dict[str, str]:
    found = re.findall(r"(http://127\.0\.0\.1:8080/t/\S+/rate\?k=\w+&r=(good|bad))", mail)
    return {rating: url for url, rating in found}


def test_the_resolution_mail_links_rate_through_a_confirmation(desk: Desk, web: TestClient) -> None:
    desk.act("#resolve")
    [resolved] = [m for m in desk.mail_to("kim@acme.co.kr") if "/rate?" in m]
    links = rate_links(resolved)
    assert set(links) == {"good", "bad"}
    assert "만족해요" in resolved and "아쉬워요" in resolved
    [html] = [
        m.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
        for m in desk.ws.sent_mail()
        if "/rate?" in text_of(m)
    ]
    assert html.count("/rate?k=") >= 2
    url = urlsplit(links["good"])
    page = web.get(f"{url.path}?{url.query}")
    assert page.status_code == 200
    assert 'value="good" checked' in page.text and "<textarea" in page.text
    assert web.get(f"{url.path}?{url.query}").status_code == 200
    assert desk.csat() == []
    fields = {**form_of(page.text), "r": "good", "comment": "빠른 처리 감사합니다"}
    answer = web.post(url.path, data=fields)
    assert answer.status_code == 200 and "감사합니다" in answer.text
    assert desk.csat() == [("빠른 처리 감사합니다", "kim@acme.co.kr")]


def test_a_key_of_another_ticket_or_none_is_refused(desk: Desk, web: TestClient) -> None:
    desk.act("#resolve")
    other = status_token(SECRET, "SUP-0000-001Y")
    for query in (f"k={other}&r=good", "r=good"):
        page = web.get(f"/t/{desk.tracking}/rate?{query}")
        assert page.status_code == 403
        assert "<form" not in page.text
    key = status_token(SECRET, desk.tracking)
    fields = {**form_of(web.get(f"/t/{desk.tracking}/rate?k={key}").text), "r": "bad"}
    refused = web.post(f"/t/{desk.tracking}/rate", data={**fields, "k": other})
    assert refused.status_code == 403
    assert web.get(f"/t/SUP-0000-001Y/rate?k={other}&r=good").status_code == 404
    assert desk.csat() == []


def test_a_post_without_the_form_token_records_nothing(desk: Desk, web: TestClient) -> None:
    desk.act("#resolve")
    key = status_token(SECRET, desk.tracking)
    answer = web.post(f"/t/{desk.tracking}/rate", data={"k": key, "r": "good"})
    assert answer.status_code == 403
    assert desk.csat() == []


def test_one_rating_per_change_the_latest_wins_until_closed(desk: Desk, web: TestClient) -> None:
    key = status_token(SECRET, desk.tracking)
    assert "resolved" not in web.get(f"/t/{desk.tracking}/rate?k={key}&r=good").text
    assert "처리가 완료된 뒤에" in web.get(f"/t/{desk.tracking}/rate?k={key}&r=good").text
    desk.act("#resolve")
    assert post(web, desk, key, "good").startswith("200")
    assert post(web, desk, key, "good").startswith("200")
    assert [v for v, _ in desk.csat()] == [""]
    assert post(web, desk, key, "bad", "답이 늦었습니다").startswith("200")
    assert post(web, desk, key, "bad", "답이 늦었습니다").startswith("200")
    status = web.get(f"/t/{desk.tracking}?k={key}").text
    assert "아쉬워요" in status and f"/t/{desk.tracking}/rate?k={key}&amp;r=good" in status
    code, _, err = desk.ws.cli(desk.capsys, "run", "--once")
    assert code == 0, err
    shown = desk.ws.cli_json(desk.capsys, "ticket", "show", desk.tracking)
    owner = [m for m in desk.mail_to(str(shown["owner"])) if "답이 늦었습니다" in m]
    assert len(owner) == 1 and f"/staff/t/{desk.tracking}" in owner[0]
    assert [m for m in desk.mail_to("kim@acme.co.kr") if "답이 늦었습니다" in m] == []
    assert [e["summary"] for e in shown["events"] if e["type"] == "csat"] == ["", "답이 늦었습니다"]
    ratings = [e for e in shown["events"] if e["type"] == "csat"]
    assert not any(e["public"] for e in ratings)
    public = web.get(f"/api/tickets/{desk.tracking}?k={key}").json()
    assert all(entry["kind"] != "csat" for entry in public["timeline"])
    fields = form_of(web.get(f"/t/{desk.tracking}/rate?k={key}").text)
    desk.act("#close")
    closed = post_closed(web, desk, key, fields)
    assert "평가를 남기거나 바꾸실 수 없습니다" in closed
    assert len(desk.csat()) == 2


def post_closed(web: TestClient, desk: Desk, key: str, fields: dict[str, str]) -> str:
    page = web.get(f"/t/{desk.tracking}/rate?k={key}&r=good")
    assert page.status_code == 409 and "<textarea" not in page.text
    answer = web.post(f"/t/{desk.tracking}/rate", data={**fields, "r": "good"})
    assert answer.status_code == 409
    return answer.text
