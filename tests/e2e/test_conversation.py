"""Nobody left uninformed, nobody let in: followers, owner notices, hand-offs, threading,
files, strangers, forged commands, nobody on duty, history and floods — through ``ticketd
import`` and ``run --once`` to a real SMTP sink."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest

from tests.builders import SUPPORT
from tests.e2e.support import ImportDesk, Workspace, text_of, write_config
from tests.fixtures.smtp_sink import SmtpSink

Capsys = pytest.CaptureFixture[str]
DKIM_PASS = "mx.example.com; dkim=pass header.d=example.com"
KIM = "kim@acme.co.kr"
LEE = "lee@acme.co.kr"


def mail(
    sender: str,
    subject: str,
    body: str,
    *,
    cc: str = "",
    reply_to_id: str = "",
    files: tuple[tuple[str, bytes], ...] = (),
    authenticated: bool = False,
    date: datetime | None = None,
    received: datetime | None = None,
) -> bytes:
    msg = EmailMessage()
    if received is not None:
        msg["Received"] = f"from mx.acme.co.kr by mx.example.com; {format_datetime(received)}"
    msg["From"] = sender
    msg["To"] = SUPPORT
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="acme.co.kr")
    if date is not None:
        msg["Date"] = format_datetime(date)
    if reply_to_id:
        msg["In-Reply-To"] = reply_to_id
        msg["References"] = reply_to_id
    if authenticated:
        msg["Authentication-Results"] = DKIM_PASS
    msg.set_content(body)
    for name, data in files:
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return bytes(msg)


class Desk(ImportDesk):
    """The shared import desk, with this file's reads."""

    def last_to(self, address: str) -> EmailMessage:
        return self.sent_to(address)[-1].message

    def ticket(self, tracking: str) -> dict[str, object]:
        return self.ws.cli_json(self.capsys, "ticket", "show", tracking)  # type: ignore[no-any-return]

    def events(self, tracking: str) -> list[dict[str, object]]:
        return self.ticket(tracking)["events"]  # type: ignore[return-value]

    def open(self, *, cc: str = "", files: tuple[tuple[str, bytes], ...] = ()) -> str:
        self.feed(mail(f"Kim <{KIM}>", "로그인 오류", "로그인이 안 됩니다.", cc=cc, files=files))
        ack = self.last_to(KIM)
        found = re.search(r"\[(SUP-[^\]]+)\]", str(ack["Subject"]))
        assert found
        return found.group(1)


def configured(tmp_path: Path, sink: SmtpSink, extra: str = "") -> Workspace:
    ws = write_config(tmp_path, extra=extra)
    ws.config.write_text(
        ws.config.read_text().replace(
            'transport = "maildir"\nmaildir = "var/outbox"',
            f'transport = "smtp"\nhost = "127.0.0.1"\nport = {sink.port}\nsecurity = "none"',
        )
    )
    return ws


def away(ws: Workspace, *teams: str) -> None:
    """Mark the engineers of these teams unavailable in the configuration."""
    text = ws.config.read_text()
    for team in teams:
        text = text.replace(f'teams = ["{team}"]', f'teams = ["{team}"]\navailable = false')
    ws.config.write_text(text)


@pytest.fixture
def desk(tmp_path: Path, smtp_sink: SmtpSink, capsys: Capsys) -> Desk:
    return Desk(configured(tmp_path, smtp_sink), smtp_sink, capsys)


def test_cc_colleagues_follow_the_ticket_and_get_replies_and_status_mail(desk: Desk) -> None:
    number = desk.open(cc=f"Lee <{LEE}>, {SUPPORT}, bob@example.com")
    assert desk.sent_to(LEE) == []  # the acknowledgement is the requester's receipt
    assert [e["summary"] for e in desk.events(number) if e["type"] == "follower_added"] == [LEE]
    desk.feed(
        mail(
            "Alice <alice@example.com>",
            f"Re: [{number}]",
            "#resolve\n로그 확인 후 해결했습니다.",
            authenticated=True,
        )
    )
    [reply] = [r for r in desk.sent_to(KIM) if "해결했습니다" in text_of(r.message)]
    assert set(reply.rcpt_tos) == {KIM, LEE}
    assert LEE in str(reply.message["Cc"]) and KIM in str(reply.message["To"])
    desk.feed(mail(f"Lee <{LEE}>", f"Re: [{number}]", "저도 같은 문제가 다시 생겼습니다."))
    shown = desk.ticket(number)
    assert shown["status"] == "open"  # a follower's mail is a customer message: it reopens
    assert shown["followers"] == [{"email": LEE, "name": "Lee"}]
    assert shown["version"] == shown["events"][-1]["id"] and shown["code"] is None
    texts = [e["text"] for e in shown["events"] if e["type"] == "reply_sent"]
    assert texts == ["로그 확인 후 해결했습니다."]
    assert any(e["type"] == "customer_message" and e["public"] for e in desk.events(number)[-3:])


def test_cc_commands_add_and_remove_followers(desk: Desk) -> None:
    number = desk.open()
    desk.feed(
        mail(
            "Alice <alice@example.com>",
            f"Re: [{number}]",
            f"#cc add Park <park@acme.co.kr>\n#cc add bob@example.com\n#cc remove {LEE}\n"
            "확인 중입니다.",
            authenticated=True,
        )
    )
    result = text_of(desk.last_to("alice@example.com"))
    assert "#cc add bob@example.com  -- 거부: bob@example.com은 엔지니어입니다" in result
    [reply] = [r for r in desk.sent_to(KIM) if "확인 중입니다" in text_of(r.message)]
    assert set(reply.rcpt_tos) == {KIM, "park@acme.co.kr"}
    desk.feed(
        mail(
            "Alice <alice@example.com>",
            f"Re: [{number}]",
            "#cc remove park@acme.co.kr\n#resolve",
            authenticated=True,
        )
    )
    assert "park@acme.co.kr" not in desk.last_to(KIM).get("Cc", "")
    kinds = [e["type"] for e in desk.events(number)]
    assert kinds.count("follower_added") == 1 and kinds.count("follower_removed") == 1


def test_every_customer_message_reaches_the_owner_with_text_and_files(desk: Desk) -> None:
    number = desk.open()
    ack = desk.last_to(KIM)
    before = len(desk.sent_to("alice@example.com"))
    follow_up = mail(
        f"Kim <{KIM}>",
        "Re: 로그인 오류",
        "오늘도 안 됩니다. 화면을 첨부합니다.\n\n> 예전 인용문",
        reply_to_id=str(ack["Message-ID"]),
        files=(("화면.png", b"\x89PNG" + b"x" * 2000),),
    )
    desk.feed(follow_up)
    assert len(desk.sent_to("alice@example.com")) == before + 1
    notice = desk.last_to("alice@example.com")
    assert str(notice["Subject"]).startswith(f"[{number}] 고객 회신")
    text = text_of(notice).replace("\r\n", "\n")
    assert "> 오늘도 안 됩니다. 화면을 첨부합니다." in text and "예전 인용문" not in text
    assert "화면.png (2 KB, 이 메일에 첨부)" in text
    [attached] = list(notice.iter_attachments())
    assert attached.get_filename() == "화면.png"
    assert "+" in str(notice["Reply-To"])  # the signed reply address


def test_a_handoff_carries_the_claim_the_latest_message_and_the_notes(desk: Desk) -> None:
    number = desk.open()
    desk.feed(
        mail(
            "Alice <alice@example.com>",
            f"Re: [{number}]",
            "#note\n고객사 방화벽 설정 문제로 보입니다.",
            authenticated=True,
        ),
        mail(f"Kim <{KIM}>", f"Re: [{number}]", "추가로 오류 코드 E42가 나옵니다."),
    )
    desk.feed(
        mail(
            "Alice <alice@example.com>",
            f"Re: [{number}]",
            "#assign bob@example.com\n이 분 담당 고객사입니다.",
            authenticated=True,
        )
    )
    notice = desk.last_to("bob@example.com")
    text = text_of(notice).replace("\r\n", "\n")
    assert str(notice["Subject"]).startswith(f"[{number}] 담당 배정")
    assert "배정 사유: alice@example.com이 배정\n" in text
    assert "처음 문의 내용:\n\n> 로그인이 안 됩니다." in text
    assert "고객의 최근 메시지:\n\n> 추가로 오류 코드 E42가 나옵니다." in text
    assert "| 고객사 방화벽 설정 문제로 보입니다." in text
    assert "#assign bob@example.com" not in text.split("배정 사유")[1]


def test_an_engineer_reply_threads_to_the_customer_never_to_the_engineers_mail(
    desk: Desk,
) -> None:
    number = desk.open()
    ack_id = str(desk.last_to(KIM)["Message-ID"])
    engineer = mail(
        "Alice <alice@example.com>",
        f"Re: [{number}]",
        "확인했습니다. 로그를 첨부합니다.",
        authenticated=True,
        files=(("trace.log", b"line\n" * 100),),
    )
    private_id = re.search(rb"Message-ID: (<[^>]+>)", engineer)
    assert private_id
    desk.feed(engineer)
    reply = desk.last_to(KIM)
    assert "확인했습니다" in text_of(reply)
    threading = f"{reply['In-Reply-To']} {reply['References']}"
    assert private_id.group(1).decode() not in threading
    assert str(reply["In-Reply-To"]) == ack_id
    [relayed] = list(reply.iter_attachments())
    assert relayed.get_filename() == "trace.log"
    assert relayed.get_content() == b"line\n" * 100


def test_strangers_cannot_write_into_someone_elses_ticket(desk: Desk) -> None:
    number = desk.open()
    to_kim = len(desk.sent_to(KIM))
    desk.feed(mail("Mallory <mallory@evil.test>", f"Re: [{number}]", "환불해 주세요. 계좌는 ..."))
    assert desk.sent_to("mallory@evil.test") == []
    assert len(desk.sent_to(KIM)) == to_kim
    [event] = [e for e in desk.events(number) if e["type"] == "third_party_message"]
    assert event["public"] is False and event["actor"] == "mallory@evil.test"
    notice = desk.last_to("alice@example.com")
    assert "외부인 메일" in str(notice["Subject"]) and "mallory@evil.test" in text_of(notice)
    page = desk.ticket(number)
    assert page["status"] == "open"


def test_a_rejected_engineer_mail_stays_internal(desk: Desk) -> None:
    number = desk.open()
    desk.feed(mail("Alice <alice@example.com>", f"Re: [{number}]", "#close\n닫습니다."))
    events = desk.events(number)
    assert any(e["type"] == "command_rejected" for e in events)
    assert not any(e["public"] for e in events if e["actor"] == "alice@example.com")
    assert desk.ticket(number)["status"] == "open"


def test_nobody_on_duty_leaves_the_ticket_unowned_and_the_first_taker_wins(
    tmp_path: Path, smtp_sink: SmtpSink, capsys: Capsys
) -> None:
    ws = configured(tmp_path, smtp_sink)
    ws.config.write_text(
        ws.config.read_text()
        .replace('teams = ["general"]', 'teams = ["general"]\navailable = false')
        .replace('teams = ["billing"]', 'teams = ["billing"]\navailable = false')
    )
    desk = Desk(ws, smtp_sink, capsys)
    number = desk.open()
    assert desk.ticket(number)["owner"] is None
    [to_manager] = desk.sent_to("bob@example.com")
    assert "담당자 없는 새 문의" in str(to_manager.message["Subject"])
    assert desk.sent_to("alice@example.com") == []
    desk.feed(
        mail("Alice <alice@example.com>", f"Re: [{number}]", "#take", authenticated=True),
        mail("Bob <bob@example.com>", f"Re: [{number}]", "#take", authenticated=True),
    )
    assert desk.ticket(number)["owner"] == "alice@example.com"
    loser = text_of(desk.last_to("bob@example.com"))
    assert "#take  -- 거부: 이미 alice@example.com이 맡고 있습니다" in loser


def test_history_opens_tickets_without_acknowledgements(desk: Desk) -> None:
    old = datetime.now(UTC) - timedelta(days=30)
    desk.feed(
        mail(f"Kim <{KIM}>", "예전 문의", "한 달 전 메일", received=old, date=old),
        mail("choi@acme.co.kr", "Old claim by date", "no Received header", date=old),
        mail("new@acme.co.kr", "Fresh", "today", received=datetime.now(UTC)),
    )
    tickets = desk.ws.cli_json(desk.capsys, "ticket", "list")
    assert len(tickets) == 3
    assert desk.sent_to(KIM) == [] and desk.sent_to("choi@acme.co.kr") == []
    assert len(desk.sent_to("new@acme.co.kr")) == 1
    old_ticket = next(t for t in tickets if t["requester"] == KIM)
    [why] = [e for e in desk.events(old_ticket["tracking"]) if e["type"] == "suppressed"]
    assert "메일이 처리되기" in str(why["summary"])


def test_a_flood_of_claims_folds_the_owner_notices(
    tmp_path: Path, smtp_sink: SmtpSink, capsys: Capsys
) -> None:
    ws = configured(tmp_path, smtp_sink)
    ws.config.write_text(
        ws.config.read_text().replace(
            'teams = ["billing"]', 'teams = ["billing"]\navailable = false'
        )
    )
    desk = Desk(ws, smtp_sink, capsys)
    desk.feed(*(mail(f"c{i}@acme.co.kr", f"문의 {i}", f"본문 {i}") for i in range(12)))
    notices = [r.message for r in desk.sent_to("alice@example.com")]
    assert len(notices) == 6
    summary = notices[-1]
    assert str(summary["Subject"]) == "새 티켓 7건이 더 배정되었습니다"
    assert text_of(summary).count("] 문의 ") == 7
