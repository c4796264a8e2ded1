"""Automatic mail through ``ticketd import``: never a ticket, never answered, held or recorded."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from email.utils import format_datetime
from pathlib import Path

import pytest

from tests.builders import claim
from tests.e2e.support import Workspace, write_config, write_mbox
from tests.fixtures.automail import AUTOMAIL, EXPECTED, NEGATIVES

Capsys = pytest.CaptureFixture[str]
DSN_FIXTURES = {"postfix-dsn.eml", "exim-dsn.eml", "exchange-ndr.eml"}


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return write_config(tmp_path)


def fresh(data: bytes) -> bytes:
    """The fixture dated now, so that nothing is skipped for being old."""
    head, sep, body = data.partition(b"\n\n")
    now = format_datetime(datetime.now(UTC)).encode()
    return re.sub(rb"(?mi)^Date:.*$", b"Date: " + now, head, count=1) + sep + body


def replying_to(data: bytes, message_id: str) -> bytes:
    """The fixture with In-Reply-To and References pointing at ``message_id``."""
    head, sep, body = data.partition(b"\n\n")
    head = re.sub(
        rb"(?mi)^(In-Reply-To|References):.*$", rb"\1: <" + message_id.encode() + b">", head
    )
    return fresh(head + sep + body)


def headers_of(data: bytes) -> EmailMessage:
    return BytesParser(policy=default).parsebytes(data, headersonly=True)  # type: ignore[return-value]


def sender_of(data: bytes) -> str:
    return str(headers_of(data)["From"].addresses[0].addr_spec).lower()


def recipients(mail: EmailMessage) -> set[str]:
    return {
        a.addr_spec.lower() for name in ("To", "Cc") if mail[name] for a in mail[name].addresses
    }


def test_automatic_mail_opens_no_ticket_and_gets_no_mail(ws: Workspace, capsys: Capsys) -> None:
    automatic = {name: (AUTOMAIL / name).read_bytes() for name in sorted(EXPECTED)}
    negatives = [path.read_bytes() for path in NEGATIVES]
    mbox = write_mbox(ws.root / "in.mbox", [fresh(d) for d in [*automatic.values(), *negatives]])
    code, out, err = ws.cli(capsys, "import", str(mbox))
    assert code == 0, err
    assert f"imported {len(automatic) + len(negatives)} messages" in out
    assert ws.cli(capsys, "run", "--once")[0] == 0

    tickets = ws.cli_json(capsys, "ticket", "list")
    customers = sorted(sender_of(d) for d in negatives)
    assert sorted(t["requester"] for t in tickets) == customers

    mails = ws.sent_mail()
    machines = {sender_of(d) for d in automatic.values()}
    assert not [m["Subject"] for m in mails if recipients(m) & machines]
    for customer in customers:
        acks = [m for m in mails if customer in recipients(m)]
        assert len(acks) == 1 and re.search(r"\[SUP-[0-9A-Z-]{9}\]", acks[0]["Subject"])

    held = {row["message_id"]: row["reason"] for row in ws.cli_json(capsys, "quarantine", "list")}
    assert len(held) == len(automatic)
    for name, data in automatic.items():
        reason = held[str(headers_of(data)["Message-ID"]).strip("<>")]
        if name in DSN_FIXTURES:
            assert reason == "delivery report for an unknown message", name
        else:
            assert reason.startswith("automatic mail not about a ticket"), name
            assert all(f"{rule}:" in reason for rule in EXPECTED[name]), (name, reason)


@pytest.mark.parametrize("name", ["webmail-ooo-en.eml", "exchange-oof-ko.eml"])
def test_out_of_office_answer_to_our_acknowledgement_is_recorded_on_the_ticket(
    ws: Workspace, capsys: Capsys, name: str
) -> None:
    ooo = (AUTOMAIL / name).read_bytes()
    customer = sender_of(ooo)
    first = claim(subject="Password reset link expired", sender=customer)
    assert ws.cli(capsys, "import", str(write_mbox(ws.root / "a.mbox", [first])))[0] == 0
    assert ws.cli(capsys, "run", "--once")[0] == 0
    sent = ws.sent_mail()
    ack = next(m for m in sent if customer in recipients(m))

    answer = replying_to(ooo, str(ack["Message-ID"]).strip("<>"))
    assert ws.cli(capsys, "import", str(write_mbox(ws.root / "b.mbox", [answer])))[0] == 0
    assert ws.cli(capsys, "run", "--once")[0] == 0

    tickets = ws.cli_json(capsys, "ticket", "list")
    assert len(tickets) == 1
    shown = ws.cli_json(capsys, "ticket", "show", tickets[0]["tracking"])
    types = [e["type"] for e in shown["events"]]
    assert types.count("automatic_message") == 1
    assert types.count("customer_message") == 1
    assert len(ws.sent_mail()) == len(sent)
    assert ws.cli_json(capsys, "quarantine", "list") == []
