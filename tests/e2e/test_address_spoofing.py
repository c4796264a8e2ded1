"""A display name never changes who ticketd mails: ``ticketd import`` and ``run --once``
with SQLite, outbound mail to a real SMTP sink (envelope recipients checked)."""

from __future__ import annotations

import base64
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest

from tests.builders import SUPPORT
from tests.e2e.support import ImportDesk, text_of, write_config
from tests.fixtures.smtp_sink import SmtpSink

Capsys = pytest.CaptureFixture[str]
VICTIM = "victim@evil.test"
ATTACKER = "attacker@x.test"
ALICE = "alice@example.com"
KIM = "kim@acme.co.kr"


class Desk(ImportDesk):
    """The shared import desk, with this file's reads."""

    def json(self, *args: str) -> list[dict[str, object]]:
        return self.ws.cli_json(self.capsys, *args)  # type: ignore[no-any-return]


@pytest.fixture
def desk(tmp_path: Path, smtp_sink: SmtpSink, capsys: Capsys) -> Desk:
    ws = write_config(tmp_path)
    ws.config.write_text(
        ws.config.read_text().replace(
            'transport = "maildir"\nmaildir = "var/outbox"',
            f'transport = "smtp"\nhost = "127.0.0.1"\nport = {smtp_sink.port}\nsecurity = "none"',
        )
    )
    return Desk(ws, smtp_sink, capsys)


def raw_mail(sender: str, subject: str, body: str = "Please help.", to: str = SUPPORT) -> bytes:
    """A mail whose From header is exactly ``sender`` (no re-encoding by a library)."""
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Message-ID: {make_msgid(domain='x.test')}\r\nContent-Type: text/plain; charset=utf-8"
        f"\r\n\r\n{body}\r\n"
    ).encode()


def b_word(text: str) -> str:
    return f"=?utf-8?B?{base64.b64encode(text.encode()).decode()}?="


def ack_for(desk: Desk, address: str) -> EmailMessage:
    [received] = desk.sent_to(address)
    assert received.rcpt_tos == (address,)
    ack = received.message
    assert [a.addr_spec for a in ack["To"].addresses] == [address]
    assert ack["Cc"] is None and ack["Bcc"] is None
    return ack


def test_encoded_name_holding_an_address_gets_the_sender_a_ticket(desk: Desk) -> None:
    desk.feed(raw_mail(f"{b_word(f'Kim <{VICTIM}>')} <{ATTACKER}>", "Spoofed"))
    [ticket] = desk.json("ticket", "list")
    assert ticket["requester"] == ATTACKER
    ack = ack_for(desk, ATTACKER)
    assert ack["To"].addresses[0].display_name == f"Kim <{VICTIM}>"
    assert all(VICTIM not in r.rcpt_tos for r in desk.sink.received)
    assert desk.sent_to(VICTIM) == []


def test_encoded_line_break_in_a_name_mails_nobody_else(desk: Desk) -> None:
    name = b_word(f"Kim\r\nBcc: {VICTIM}\r\n")
    desk.feed(raw_mail(f"{name} <{ATTACKER}>", "Line break"))
    [ticket] = desk.json("ticket", "list")
    assert ticket["requester"] == ATTACKER
    ack = ack_for(desk, ATTACKER)
    assert ack["To"].addresses[0].display_name == f"Kim Bcc: {VICTIM}"
    assert all(set(r.rcpt_tos) <= {ATTACKER, ALICE} for r in desk.sink.received)


@pytest.mark.parametrize(
    ("sender", "problem"),
    [
        ("kim@acme.co.kr, lee@acme.co.kr", "From has 2 addresses"),
        ("staff: kim@acme.co.kr;", "From is a group"),
        ("undisclosed-recipients:;", "From is a group"),
    ],
)
def test_from_without_exactly_one_address_is_held_with_its_reason(
    desk: Desk, sender: str, problem: str
) -> None:
    desk.feed(raw_mail(sender, "Who am I"))
    assert desk.json("ticket", "list") == []
    [held] = desk.json("quarantine", "list")
    assert held["state"] == "held"
    assert held["reason"] == f"no usable From address: {problem}"
    assert desk.sink.received == []


def test_encoded_name_with_a_comma_survives_to_the_acknowledgement(desk: Desk) -> None:
    desk.feed(raw_mail("=?utf-8?q?M=C3=BCller=2C_Bernd?= <b@x.test>", "Umlaut"))
    [ticket] = desk.json("ticket", "list")
    shown = desk.ws.cli_json(desk.capsys, "ticket", "show", str(ticket["tracking"]))
    assert shown["requester"] == "b@x.test"
    ack = ack_for(desk, "b@x.test")
    assert ack["To"].addresses[0].display_name == "Müller, Bernd"


def test_malformed_from_with_one_address_becomes_a_ticket(desk: Desk) -> None:
    stray = b"This line should not be here\r\n" + raw_mail("lee@acme.co.kr", "Stray line")
    desk.feed(raw_mail("Test test@example.com", "No brackets"), stray)
    requesters = sorted(str(t["requester"]) for t in desk.json("ticket", "list"))
    assert requesters == ["lee@acme.co.kr", "test@example.com"]
    assert desk.json("quarantine", "list") == []
    ack_for(desk, "test@example.com")
    ack_for(desk, "lee@acme.co.kr")


@pytest.mark.parametrize(
    "name", ['"<alice@example.com>"', "=?utf-8?q?=3Calice=40example=2Ecom=3E?="]
)
def test_engineer_address_as_display_name_is_not_the_engineer(desk: Desk, name: str) -> None:
    desk.feed(raw_mail("Kim Minsu <kim@acme.co.kr>", "Cannot log in"))
    [ticket] = desk.json("ticket", "list")
    tracking = str(ticket["tracking"])
    assert ticket["owner"] == ALICE
    [notice] = [r.message for r in desk.sent_to(ALICE)]
    reply_address = notice["Reply-To"].addresses[0].addr_spec
    assert reply_address.startswith("support+")

    subject = f"Re: [{tracking}] Cannot log in"
    desk.feed(raw_mail(f"{name} <{ATTACKER}>", subject, "#close\nForged close.", reply_address))
    shown = desk.ws.cli_json(desk.capsys, "ticket", "show", tracking)
    assert shown["status"] == "open"
    assert [e["actor"] for e in shown["events"] if e["actor"] not in ("ticketd", KIM)] == [ATTACKER]
    assert not any("Forged close" in text_of(r.message) for r in desk.sent_to(KIM))
    assert not any("명령" in str(r.message["Subject"]) for r in desk.sink.received)
