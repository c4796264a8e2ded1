"""Published status pages on a real SQLite database: written with the ticket's changes,
identical to a live render, never served stale, refreshed after a change of settings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from starlette.testclient import TestClient

from tests.builders import claim
from tests.e2e.support import Workspace, write_config, write_mbox
from tests.web.test_app import form_token
from ticketd.daemon.config import load_config
from ticketd.daemon.web_server import build_web_app
from ticketd.daemon.wiring import Components, build
from ticketd.store.db import make_engine
from ticketd.store.pages import SqlTicketReader
from ticketd.store.schema import public_pages, tickets
from ticketd.web.pages import PageRenderer

Capsys = pytest.CaptureFixture[str]


@pytest.fixture
def ws(tmp_path: Path, capsys: Capsys) -> Workspace:
    ws = write_config(tmp_path)
    code, _, err = ws.cli(capsys, "import", str(write_mbox(tmp_path / "a.mbox", [claim()])))
    assert code == 0, err
    return ws


@pytest.fixture
def desk(ws: Workspace) -> Iterator[Components]:
    components = build(load_config(ws.config))
    yield components
    components.close()


@contextmanager
def reader_for(components: Components) -> Iterator[SqlTicketReader]:
    """The web's page reader on the components' database, its connections closed after."""
    pages = components.pages
    reader = SqlTicketReader(components.engine, pages.facts, pages.generation)
    try:
        yield reader
    finally:
        reader.close()


def number_of(ws: Workspace, capsys: Capsys) -> str:
    [ticket] = ws.cli_json(capsys, "ticket", "list")
    return str(ticket["tracking"])


def edit(ws: Workspace, **values: object) -> None:
    """Change the ticket behind ticketd's back (no page is published)."""
    engine = make_engine(ws.database_url)
    with engine.begin() as connection:
        connection.execute(update(tickets).values(**values))
    engine.dispose()


def test_a_new_ticket_is_published_exactly_as_the_web_would_render_it(
    ws: Workspace, desk: Components, capsys: Capsys
) -> None:
    number = number_of(ws, capsys)
    with reader_for(desk) as reader:
        page = reader.ticket_page(number)
        assert page is not None
        live = desk.page_renderer.ticket(page, "ko", conversation=False)
        assert reader.published_page(number, "ko") == live.encode()
    assert "Cannot log in" not in live
    with TestClient(build_web_app(desk)) as web:  # type: ignore[arg-type]
        assert web.get(f"/t/{number}?lang=ko").text == live


def test_the_published_page_follows_every_change_of_the_ticket(
    ws: Workspace, capsys: Capsys
) -> None:
    number = number_of(ws, capsys)
    code, _, err = ws.cli(capsys, "run", "--once")
    assert code == 0, err
    week_ago = datetime.now(UTC) - timedelta(days=8)
    edit(ws, status="resolved", resolved_at=week_ago, last_customer_at=week_ago,
         first_response_at=week_ago)  # fmt: skip
    code, _, err = ws.cli(capsys, "run", "--once")
    assert code == 0, err
    components = build(load_config(ws.config))
    try:
        with reader_for(components) as reader:
            published = reader.published_page(number, "ko")
        with TestClient(build_web_app(components)) as web:  # type: ignore[arg-type]
            served = web.get(f"/t/{number}?lang=ko").text
    finally:
        components.close()
    assert published is not None and published.decode() == served
    assert 'class="done current">종료</li>' in served


def test_copies_from_other_settings_are_never_served_and_are_republished(
    ws: Workspace, capsys: Capsys
) -> None:
    number = number_of(ws, capsys)
    text = ws.config.read_text(encoding="utf-8")
    team = '[web]\nshow_owner = "team"\nteam_name = "Example Care Team"\n'
    ws.config.write_text(text.replace("[web]\n", team), encoding="utf-8")
    components = build(load_config(ws.config))
    try:
        with reader_for(components) as reader:
            assert reader.published_page(number, "ko") is None
            with TestClient(build_web_app(components)) as web:  # type: ignore[arg-type]
                assert "Example Care Team" in web.get(f"/t/{number}").text
            code, out, err = ws.cli(capsys, "run", "--once")
            assert code == 0, err
            assert "pages=1" in out + err
            refreshed = reader.published_page(number, "ko")
    finally:
        components.close()
    assert refreshed is not None and "Example Care Team" in refreshed.decode()


def test_a_page_that_cannot_be_rendered_never_holds_up_the_mail(
    ws: Workspace, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = number_of(ws, capsys)
    before = len(ws.cli_json(capsys, "ticket", "show", number)["events"])

    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("template bug")

    monkeypatch.setattr(PageRenderer, "ticket", broken)
    reply = claim(subject=f"Re: Cannot log in [{number}]", body="Any news?")
    other = claim(subject="Invoice is wrong", sender="lee@shop.example")
    code, _, err = ws.cli(capsys, "import", str(write_mbox(ws.root / "b.mbox", [reply, other])))
    assert code == 0, err
    assert len(ws.cli_json(capsys, "ticket", "list")) == 2
    after = ws.cli_json(capsys, "ticket", "show", number)["events"]
    assert [e["type"] for e in after[before:]] == ["customer_message"]
    engine = make_engine(ws.database_url)
    with engine.connect() as connection:
        stored = connection.execute(select(func.count()).select_from(public_pages)).scalar()
    engine.dispose()
    assert stored == 0
    monkeypatch.undo()
    components = build(load_config(ws.config))
    try:
        with TestClient(build_web_app(components)) as web:  # type: ignore[arg-type]
            assert "고객님 메시지" in web.get(f"/t/{number}?lang=ko").text
    finally:
        components.close()


def test_link_resends_stop_at_the_hourly_cap_and_each_refusal_is_recorded(
    ws: Workspace, desk: Components, capsys: Capsys
) -> None:
    number = number_of(ws, capsys)
    with TestClient(build_web_app(desk)) as web:
        token = form_token(web)
        for email in ["kim@acme.co.kr"] * 6 + ["mallory@evil.example", "KIM@acme.co.kr.evil"]:
            form = {"tracking": number, "email": email, "form_token": token}
            assert web.post("/resend", data=form).status_code == 200
        unprotected = {"tracking": number, "email": "kim@acme.co.kr"}
        assert web.post("/resend", data=unprotected).status_code == 403
    code, _, err = ws.cli(capsys, "run", "--once")
    assert code == 0, err
    recipients = [m["To"].addresses[0].addr_spec for m in ws.sent_mail()]
    assert recipients.count("kim@acme.co.kr") == 5  # the acknowledgement and four links
    assert not any("evil" in r for r in recipients)
    events = ws.cli_json(capsys, "ticket", "show", number)["events"]
    suppressed = [e for e in events if e["type"] == "suppressed"]
    assert len(suppressed) == 2
    assert all("한 시간에 자동 메일 5통을 넘었습니다" in e["summary"] for e in suppressed)
