"""``ticketd import`` and ``run --once`` end to end: SQLite, the real pipeline, Maildir out."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from tests.builders import SUPPORT, claim
from tests.e2e.support import Workspace, text_of, write_config, write_mbox

Capsys = pytest.CaptureFixture[str]


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return write_config(tmp_path)


def dsn_for(original_message_id: str) -> bytes:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.acme.co.kr>\r\n"
        f"To: {SUPPORT}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <dsn-1@mx.acme.co.kr>\r\nAuto-Submitted: auto-replied\r\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=B\r\n\r\n"
        "--B\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        "Final-Recipient: rfc822; kim@acme.co.kr\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: <{original_message_id}>\r\nSubject: x\r\n\r\n--B--\r\n"
    ).encode()


def test_a_mailbox_becomes_exactly_one_ticket_per_claim(ws: Workspace, capsys: Capsys) -> None:
    first = claim(message_id="<c1@acme.co.kr>")
    resend = claim(subject="RE: Cannot log in", message_id="<c1-resent@acme.co.kr>")
    reply = claim(
        subject="more details",
        body="Here is a screenshot.",
        message_id="<c1-reply@acme.co.kr>",
        headers={"References": "<c1@acme.co.kr>"},
    )
    out_of_office = claim(
        subject="Out of office",
        message_id="<ooo@acme.co.kr>",
        headers={"Auto-Submitted": "auto-replied"},
    )
    other = claim(
        subject="Invoice question",
        body="Where is my invoice?",
        sender="lee@bigcorp.co.kr",
        message_id="<c2@bigcorp.co.kr>",
    )
    mbox = write_mbox(ws.root / "in.mbox", [first, first, resend, reply, out_of_office, other])

    code, out, err = ws.cli(capsys, "import", str(mbox))
    assert code == 0, err
    assert "imported 6 messages" in out

    tickets = ws.cli_json(capsys, "ticket", "list")
    assert len(tickets) == 2
    by_requester = {t["requester"]: t for t in tickets}
    kim = by_requester["kim@acme.co.kr"]
    assert re.fullmatch(r"SUP-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", kim["tracking"])
    assert kim["duplicate_count"] == 1
    assert kim["owner"] in {"alice@example.com", "bob@example.com"}
    assert by_requester["lee@bigcorp.co.kr"]["owner"] == "bob@example.com"

    shown = ws.cli_json(capsys, "ticket", "show", kim["tracking"].lower().replace("-", ""))
    types = [e["type"] for e in shown["events"]]
    assert types.count("created") == 1
    assert types.count("duplicate") == 1
    assert types.count("customer_message") == 2
    assert "assigned" in types
    assert "automatic_message" not in types

    held = ws.cli(capsys, "quarantine", "list")[1]
    assert "ooo@acme.co.kr" in held and "automatic mail" in held


def test_run_once_delivers_one_acknowledgement_per_claim(ws: Workspace, capsys: Capsys) -> None:
    mbox = write_mbox(ws.root / "in.mbox", [claim(), claim(subject="Second", body="Other")])
    assert ws.cli(capsys, "import", str(mbox))[0] == 0
    code, _out, err = ws.cli(capsys, "run", "--once")
    assert code == 0, err
    mails = ws.sent_mail()
    acks = [m for m in mails if m["To"].addresses[0].addr_spec == "kim@acme.co.kr"]
    assert len(acks) == 2
    tickets = {t["tracking"] for t in ws.cli_json(capsys, "ticket", "list")}
    for ack in acks:
        number = re.search(r"\[(SUP-[^\]]+)\]", ack["Subject"]).group(1)  # type: ignore[union-attr]
        assert number in tickets
        body = text_of(ack)
        assert number in body
        assert re.search(rf"http://127\.0\.0\.1:8080/t/{number}\?k=[a-z2-7]{{26}}", body)
        assert ack["Auto-Submitted"] == "auto-replied"
        assert ack["In-Reply-To"]
        html = ack.get_body(preferencelist=("html",))
        assert html is not None and number in html.get_content()
        assert f'href="http://127.0.0.1:8080/t/{number}?k=' in html.get_content()
    owner_notices = [m for m in mails if m not in acks]
    assert len(owner_notices) == 2
    assert all(m.get_content_type() == "text/plain" for m in owner_notices)
    assert ws.cli(capsys, "run", "--once")[0] == 0
    assert len(ws.sent_mail()) == 4


def test_no_notify_stores_without_mailing(ws: Workspace, capsys: Capsys) -> None:
    mbox = write_mbox(ws.root / "in.mbox", [claim()])
    assert ws.cli(capsys, "import", "--no-notify", str(mbox))[0] == 0
    assert ws.cli(capsys, "run", "--once")[0] == 0
    assert ws.sent_mail() == []
    assert len(ws.cli_json(capsys, "ticket", "list")) == 1


def test_reimport_is_idempotent(ws: Workspace, capsys: Capsys) -> None:
    mbox = write_mbox(ws.root / "in.mbox", [claim(), claim(subject="Two", body="Second")])
    ws.cli(capsys, "import", str(mbox))
    ws.cli(capsys, "import", str(mbox))
    assert len(ws.cli_json(capsys, "ticket", "list")) == 2


def test_bounce_of_our_acknowledgement_is_recorded_not_opened(
    ws: Workspace, capsys: Capsys
) -> None:
    ws.cli(capsys, "import", str(write_mbox(ws.root / "a.mbox", [claim()])))
    ws.cli(capsys, "run", "--once")
    ack = next(m for m in ws.sent_mail() if m["To"].addresses[0].addr_spec == "kim@acme.co.kr")
    ack_id = ack["Message-ID"].strip("<>")
    ws.cli(capsys, "import", str(write_mbox(ws.root / "b.mbox", [dsn_for(ack_id)])))
    tickets = ws.cli_json(capsys, "ticket", "list")
    assert len(tickets) == 1
    shown = ws.cli_json(capsys, "ticket", "show", tickets[0]["tracking"])
    assert any(e["type"] == "bounce" and "5.1.1" in e["summary"] for e in shown["events"])
    ws.cli(capsys, "run", "--once")
    assert len(ws.sent_mail()) == 2


def test_korean_outlook_subject_keeps_cp949_syllables(ws: Workspace, capsys: Capsys) -> None:
    subject = "똠햏뷁 관리자 로그인 오류"
    encoded = base64.b64encode(subject.encode("cp949")).decode()
    body = base64.b64encode("로그인이 되지 않습니다. 똠".encode("cp949")).decode()
    raw = (
        "From: kim@acme.co.kr\r\nTo: support@example.com\r\n"
        f"Subject: =?ks_c_5601-1987?B?{encoded}?=\r\nMessage-ID: <k1@acme.co.kr>\r\n"
        "Content-Type: text/plain; charset=ks_c_5601-1987\r\n"
        f"Content-Transfer-Encoding: base64\r\n\r\n{body}\r\n"
    ).encode()
    ws.cli(capsys, "import", str(write_mbox(ws.root / "k.mbox", [raw])))
    [ticket] = ws.cli_json(capsys, "ticket", "list")
    assert ticket["subject"] == subject
    assert ticket["language"] == "ko"
    ws.cli(capsys, "run", "--once")
    ack = next(m for m in ws.sent_mail() if m["To"].addresses[0].addr_spec == "kim@acme.co.kr")
    assert subject in ack["Subject"]
    assert "접수" in text_of(ack)


def test_mail_without_sender_is_quarantined_and_can_be_dropped(
    ws: Workspace, capsys: Capsys
) -> None:
    broken = b"To: support@example.com\r\nSubject: ???\r\nMessage-ID: <nofrom@x>\r\n\r\nhello\r\n"
    ws.cli(capsys, "import", str(write_mbox(ws.root / "n.mbox", [broken])))
    assert ws.cli_json(capsys, "ticket", "list") == []
    held = ws.cli_json(capsys, "quarantine", "list")
    assert [h["reason"] for h in held] == ["no usable From address: no From header"]
    code, out, _ = ws.cli(capsys, "quarantine", "show", str(held[0]["id"]))
    assert code == 0 and "hello" in out
    assert ws.cli(capsys, "quarantine", "drop", str(held[0]["id"]))[0] == 0
    assert ws.cli_json(capsys, "quarantine", "list") == []


def test_released_automatic_mail_opens_a_ticket_without_acknowledgement(
    ws: Workspace, capsys: Capsys
) -> None:
    auto = claim(subject="Order form", headers={"Auto-Submitted": "auto-generated"})
    ws.cli(capsys, "import", str(write_mbox(ws.root / "a.mbox", [auto])))
    [held] = ws.cli_json(capsys, "quarantine", "list")
    code, _out, err = ws.cli(capsys, "quarantine", "release", str(held["id"]))
    assert code == 0, err
    assert len(ws.cli_json(capsys, "ticket", "list")) == 1
    ws.cli(capsys, "run", "--once")
    assert all(m["To"].addresses[0].addr_spec != "kim@acme.co.kr" for m in ws.sent_mail())


def test_unknown_ticket_and_missing_config_are_one_line_errors(
    ws: Workspace, capsys: Capsys
) -> None:
    code, _, err = ws.cli(capsys, "ticket", "show", "SUP-0000-0000")
    assert code != 0 and err.startswith("error: ")
    result = ws.subprocess("ticket", "list")
    assert result.returncode == 0
    missing = Workspace(ws.root, ws.root / "nope.toml").subprocess("init")
    assert missing.returncode != 0
    assert missing.stderr.startswith("error: ") and "nope.toml" in missing.stderr


LOOP_CASES = {
    "auto-submitted": ({"Auto-Submitted": "auto-replied"}, None),
    "auto-generated": ({"Auto-Submitted": "auto-generated"}, None),
    "precedence bulk": ({"Precedence": "bulk"}, None),
    "precedence junk": ({"Precedence": "junk"}, None),
    "precedence list": ({"Precedence": "list"}, None),
    "list-id": ({"List-Id": "<news.acme.co.kr>"}, None),
    "mailer-daemon": ({}, "MAILER-DAEMON@acme.co.kr"),
    "postmaster": ({}, "postmaster@acme.co.kr"),
    "noreply": ({}, "noreply@shop.example"),
    "no-reply": ({}, "no-reply@shop.example"),
    "our own address": ({}, SUPPORT),
    "x-loop": ({"X-Loop": SUPPORT}, None),
}


@pytest.mark.parametrize("case", list(LOOP_CASES))
def test_loop_cases_send_nothing_and_open_nothing(ws: Workspace, capsys: Capsys, case: str) -> None:
    headers, sender = LOOP_CASES[case]
    first = claim(message_id="<c1@acme.co.kr>")
    sender = sender or "kim@acme.co.kr"
    on_ticket = claim(
        subject="Re: Cannot log in",
        body="auto text",
        sender=sender,
        message_id="<loop1@acme.co.kr>",
        headers={**headers, "In-Reply-To": "<c1@acme.co.kr>"},
    )
    fresh = claim(
        subject="Something else",
        body="auto text 2",
        sender=sender,
        message_id="<loop2@acme.co.kr>",
        headers=headers,
    )
    ws.cli(capsys, "import", str(write_mbox(ws.root / "l.mbox", [first, on_ticket, fresh])))
    ws.cli(capsys, "run", "--once")
    assert len(ws.cli_json(capsys, "ticket", "list")) == 1
    assert len(ws.sent_mail()) == 2
    held = ws.cli_json(capsys, "quarantine", "list")
    assert [h["message_id"] for h in held] == ["loop2@acme.co.kr"]


def test_at_most_five_automatic_mails_per_requester_per_hour(ws: Workspace, capsys: Capsys) -> None:
    claims = [claim(subject=f"Problem {i}", body=f"Different problem {i}") for i in range(7)]
    ws.cli(capsys, "import", str(write_mbox(ws.root / "many.mbox", claims)))
    ws.cli(capsys, "run", "--once")
    assert len(ws.cli_json(capsys, "ticket", "list")) == 7
    acks = [m for m in ws.sent_mail() if m["To"].addresses[0].addr_spec == "kim@acme.co.kr"]
    assert len(acks) == 5
    suppressed = 0
    for ticket in ws.cli_json(capsys, "ticket", "list"):
        events = ws.cli_json(capsys, "ticket", "show", ticket["tracking"])["events"]
        suppressed += sum(e["type"] == "suppressed" for e in events)
    assert suppressed == 2
