"""Internationalised mail end to end: UTF-8 (RFC 6532) and overlong Message-IDs through the
import and the SMTP listener, and a UTF-8 address (RFC 6531) answered through a relay that
speaks SMTPUTF8, or recorded as undeliverable through one that does not."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.support import Workspace, write_config, write_mbox
from tests.fixtures.smtp_sink import SmtpSink
from tests.netutil import free_port
from ticketd.daemon.config import load_config
from ticketd.daemon.wiring import build
from ticketd.mail.listener import InboundSMTPHandler, make_controller
from ticketd.mail.smtp_guard import ListenerSettings

Capsys = pytest.CaptureFixture[str]
KIM = "김민수@outside.test"
UTF8_ID = "메시지.1@acme.co.kr"
LONG_ID = "x" * 10_000 + "@acme.co.kr"


def mail(
    message_id: str,
    subject: str,
    sender: str = "Kim Minsu <kim@acme.co.kr>",
    extra: str = "",
) -> bytes:
    return (
        f"From: {sender}\r\nTo: support@example.com\r\nSubject: {subject}\r\n"
        f"Message-ID: <{message_id}>\r\n{extra}Date: Tue, 2 Jan 2024 10:00:00 +0900\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"{subject}: please help\r\n"
    ).encode()


def odd_ids() -> list[bytes]:
    return [
        mail(UTF8_ID, "UTF-8 id"),
        mail(LONG_ID, "Long id", sender="lee@acme.co.kr"),
        mail("RAW@cp949.bytes", "Undecodable id", "park@acme.co.kr").replace(b"RAW", b"\xb1\xe8"),
    ]


def replies() -> list[bytes]:
    return [
        mail("r1@acme.co.kr", "Re: UTF-8 id", extra=f"In-Reply-To: <{UTF8_ID}>\r\n"),
        mail("r2@acme.co.kr", "Re: long", "lee@acme.co.kr", f"References: <{LONG_ID}>\r\n"),
    ]


def header(data: bytes, name: str) -> str:
    """A header of a mail as UTF-8 text (the stdlib parser leaves raw UTF-8 undecoded)."""
    head = data.split(b"\r\n\r\n", 1)[0].decode("utf-8")
    return next(
        line.split(": ", 1)[1] for line in head.split("\r\n") if line.startswith(name + ":")
    )


def subjects(ws: Workspace, capsys: Capsys) -> list[str]:
    return sorted(t["subject"] for t in ws.cli_json(capsys, "ticket", "list"))


@contextmanager
def listener(ws: Workspace) -> Iterator[int]:
    """ticketd's SMTP listener storing into the workspace's database, on a free port."""
    components = build(load_config(ws.config))
    handler = InboundSMTPHandler(
        "support@example.com",
        components.ingestor.enqueue,
        settings=ListenerSettings(max_message_size=10_000_000),
        clock=lambda: datetime.now(UTC),
    )
    port = free_port()
    controller = make_controller(handler, "127.0.0.1", port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()
        components.close()


def submit(port: int, sender: str, data: bytes, **options: Any) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.sendmail(sender, ["support@example.com"], data, **options)


def test_odd_message_ids_become_tickets_and_thread_through_the_import(
    tmp_path: Path, capsys: Capsys
) -> None:
    ws = write_config(tmp_path)
    mbox = write_mbox(tmp_path / "in.mbox", [*odd_ids(), *replies()])
    code, _, err = ws.cli(capsys, "import", str(mbox))
    assert code == 0, err
    assert subjects(ws, capsys) == ["Long id", "UTF-8 id", "Undecodable id"]
    assert ws.cli_json(capsys, "quarantine", "list") == []


def test_odd_message_ids_and_a_utf8_sender_become_tickets_through_the_listener(
    tmp_path: Path, capsys: Capsys
) -> None:
    ws = write_config(tmp_path)
    with listener(ws) as port:
        for data in odd_ids():
            submit(port, "kim@acme.co.kr", data)
        submit(
            port,
            KIM,
            mail("k1@outside.test", "국제 주소", f"김민수 <{KIM}>"),
            mail_options=["SMTPUTF8"],
        )
        for data in replies():
            submit(port, "kim@acme.co.kr", data)
    code, _, err = ws.cli(capsys, "run", "--once")
    assert code == 0, err
    assert subjects(ws, capsys) == ["Long id", "UTF-8 id", "Undecodable id", "국제 주소"]
    assert ws.cli_json(capsys, "quarantine", "list") == []
    [ticket] = [t for t in ws.cli_json(capsys, "ticket", "list") if t["requester"] == KIM]
    [ack] = [
        p.read_bytes() for p in (ws.outbox / "new").iterdir() if KIM.encode() in p.read_bytes()
    ]
    assert header(ack, "To") == f"=?utf-8?b?6rmA66+87IiY?= <{KIM}>"  # 김민수, RFC 6532
    assert ticket["tracking"] in header(ack, "X-Ticketd-Tracking")


@pytest.fixture
def kim_claim(tmp_path: Path, request: pytest.FixtureRequest) -> tuple[Workspace, SmtpSink]:
    """A claim from a UTF-8 address, received and processed, its mail sent to the relay."""
    sink: SmtpSink = request.getfixturevalue(request.param)
    ws = write_config(tmp_path, relay_port=sink.port)
    with listener(ws) as port:
        submit(
            port,
            KIM,
            mail("k1@outside.test", "국제 주소", f"김민수 <{KIM}>"),
            mail_options=["SMTPUTF8"],
        )
    return ws, sink


@pytest.mark.parametrize("kim_claim", ["smtputf8_sink"], indirect=True)
def test_utf8_address_is_answered_with_smtputf8_when_the_relay_offers_it(
    kim_claim: tuple[Workspace, SmtpSink], capsys: Capsys
) -> None:
    ws, sink = kim_claim
    code, out, err = ws.cli(capsys, "run", "--once")
    assert code == 0, err
    assert "mail sent=2" in out and "failed=0" in out
    [ack] = [r for r in sink.received if r.rcpt_tos == (KIM,)]
    assert ack.mail_from == "support@example.com" and header(ack.data, "To").endswith(f" <{KIM}>")
    [ticket] = ws.cli_json(capsys, "ticket", "list")
    assert header(ack.data, "X-Ticketd-Tracking") == ticket["tracking"]


@pytest.mark.parametrize("kim_claim", ["smtp_sink"], indirect=True)
def test_utf8_address_is_recorded_undeliverable_when_the_relay_lacks_smtputf8(
    kim_claim: tuple[Workspace, SmtpSink], capsys: Capsys
) -> None:
    ws, sink = kim_claim
    code, out, err = ws.cli(capsys, "run", "--once")
    assert code == 0, err
    assert "mail sent=1" in out and "failed=1" in out
    [ticket] = ws.cli_json(capsys, "ticket", "list")
    [notice] = sink.received
    assert notice.rcpt_tos == (ticket["owner"],)
    shown = ws.cli_json(capsys, "ticket", "show", ticket["tracking"])
    [failure] = [e for e in shown["events"] if e["type"] == "delivery_failed"]
    assert failure["summary"].startswith("발송 실패: ")
    assert "relay does not support SMTPUTF8" in failure["summary"]
