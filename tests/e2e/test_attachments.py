"""Customers' attachments on the signed status page, end to end: a real import into SQLite,
the page and its downloads through the daemon's web app."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from tests.builders import claim
from tests.e2e.support import Workspace, write_config, write_mbox
from ticketd.daemon.config import load_config
from ticketd.daemon.web_server import build_web_app
from ticketd.daemon.wiring import build
from ticketd.routing.links import attachment_signature, status_token
from ticketd.store.db import make_engine
from ticketd.store.schema import attachments

Capsys = pytest.CaptureFixture[str]
SECRET = "test-secret-key-0123456789"
PDF = b"%PDF-1.4 quarterly figures"
PAGE = b"<html><script>alert(document.cookie)</script></html>"


@pytest.fixture
def ws(tmp_path: Path, capsys: Capsys) -> Workspace:
    ws = write_config(tmp_path)
    first = claim(
        message_id="<c1@acme.co.kr>",
        attachments=[
            ("report.pdf", "application/pdf", PDF),
            ("../../evil.html", "text/html", PAGE),
            ("invoice\u202efdp.exe", "application/octet-stream", b"MZ"),
        ],
    )
    theirs = claim(
        subject="Broken invoice",
        sender="lee@shop.example",
        attachments=[("theirs.txt", "text/plain", b"another customer's file")],
    )
    code, _, err = ws.cli(capsys, "import", str(write_mbox(tmp_path / "a.mbox", [first, theirs])))
    assert code == 0, err
    return ws


@pytest.fixture
def tickets(ws: Workspace, capsys: Capsys) -> dict[str, str]:
    """Tracking numbers by requester."""
    listed = ws.cli_json(capsys, "ticket", "list")
    return {t["requester"]: t["tracking"] for t in listed}


@pytest.fixture
def web(ws: Workspace) -> Iterator[TestClient]:
    components = build(load_config(ws.config))
    try:
        with TestClient(build_web_app(components)) as client:  # type: ignore[arg-type]
            yield client
    finally:
        components.close()


def listed(html: str) -> dict[str, str]:
    """Attachment names shown on a page, with their links."""
    return {
        name: href.replace("&amp;", "&")
        for href, name in re.findall(r'<a href="([^"]+)" download><bdi>([^<]+)</bdi>', html)
    }


def test_the_signed_page_lists_the_attachments_and_they_download(
    web: TestClient, tickets: dict[str, str]
) -> None:
    number = tickets["kim@acme.co.kr"]
    assert "report.pdf" not in web.get(f"/t/{number}").text
    files = listed(web.get(f"/t/{number}?k={status_token(SECRET, number)}").text)
    assert set(files) == {"report.pdf", "evil.html", "invoicefdp.exe"}
    pdf = web.get(files["report.pdf"])
    assert pdf.status_code == 200 and pdf.content == PDF
    assert pdf.headers["content-type"] == "application/octet-stream"
    assert pdf.headers["x-content-type-options"] == "nosniff"
    assert pdf.headers["content-disposition"].startswith('attachment; filename="report.pdf"')
    page = web.get(files["evil.html"])
    assert page.content == PAGE and page.headers["content-type"] == "application/octet-stream"
    assert page.headers["content-disposition"].startswith('attachment; filename="evil.html"')
    assert "\u202e" not in web.get(files["invoicefdp.exe"]).headers["content-disposition"]


def test_a_download_needs_the_signature_and_this_tickets_key(
    web: TestClient, tickets: dict[str, str]
) -> None:
    number, other = tickets["kim@acme.co.kr"], tickets["lee@shop.example"]
    pdf = listed(web.get(f"/t/{number}?k={status_token(SECRET, number)}").text)["report.pdf"]
    theirs = listed(web.get(f"/t/{other}?k={status_token(SECRET, other)}").text)["theirs.txt"]
    assert web.get(theirs).content == b"another customer's file"
    their_id = int(theirs.split("/attachments/")[1].split("?")[0])
    for wrong in (
        pdf.split("&s=")[0],
        pdf.replace(status_token(SECRET, number), status_token(SECRET, other)),
        f"/t/{number}/attachments/{their_id}?k={status_token(SECRET, number)}"
        f"&s={attachment_signature(SECRET, number, their_id)}",
    ):
        assert web.get(wrong).status_code == 404


def test_attachments_of_internal_mail_are_never_listed_or_served(
    ws: Workspace, web: TestClient, tickets: dict[str, str], capsys: Capsys
) -> None:
    number = tickets["kim@acme.co.kr"]
    auto_reply = claim(
        subject=f"Automatic reply: [{number}]",
        headers={"Auto-Submitted": "auto-replied"},
        attachments=[("internal-only.txt", "text/plain", b"not for the page")],
    )
    code, _, err = ws.cli(capsys, "import", str(write_mbox(ws.root / "b.mbox", [auto_reply])))
    assert code == 0, err
    events = ws.cli_json(capsys, "ticket", "show", number)["events"]
    assert [e["public"] for e in events if e["type"] == "automatic_message"] == [False]
    engine = make_engine(ws.database_url)
    with engine.connect() as connection:
        stored = dict(connection.execute(select(attachments.c.filename, attachments.c.id)).all())
    engine.dispose()
    key = status_token(SECRET, number)
    files = listed(web.get(f"/t/{number}?k={key}").text)
    assert "internal-only.txt" not in files and len(files) == 3
    internal = stored["internal-only.txt"]
    signed = f"/t/{number}/attachments/{internal}?k={key}"
    signed += f"&s={attachment_signature(SECRET, number, internal)}"
    assert web.get(signed).status_code == 404
