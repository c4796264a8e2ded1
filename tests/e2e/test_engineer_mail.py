"""Engineers work by mail, through a real Dovecot and a real SMTP sink; forgeries fail."""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.builders import claim
from tests.e2e.support import Workspace, text_of, write_config
from tests.fixtures.dovecot import DovecotServer
from tests.fixtures.smtp_sink import SmtpSink
from ticketd.daemon.config import load_config
from ticketd.daemon.web_server import build_web_app
from ticketd.daemon.wiring import build
from ticketd.routing.macros import Macro

pytestmark = pytest.mark.dovecot
Capsys = pytest.CaptureFixture[str]
TRUSTED = "mx.example.com"


class Desk:
    """A ticketd installation reading Dovecot and sending to the sink."""

    def __init__(
        self, ws: Workspace, dovecot: DovecotServer, sink: SmtpSink, capsys: Capsys
    ) -> None:
        self.ws, self.dovecot, self.sink, self.capsys = ws, dovecot, sink, capsys

    def cycle(self) -> None:
        code, _, err = self.ws.cli(self.capsys, "run", "--once")
        assert code == 0, err

    def mail_to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.sink.messages() if address in str(m["To"])]

    def ticket(self, tracking: str) -> dict[str, object]:
        return self.ws.cli_json(self.capsys, "ticket", "show", tracking)  # type: ignore[no-any-return]

    def open_claim(self) -> tuple[str, EmailMessage]:
        self.dovecot.deliver(claim(subject="결제 페이지 오류", body="결제가 되지 않습니다."))
        self.cycle()
        [ack] = self.mail_to("kim@acme.co.kr")
        tracking = re.search(r"\[(SUP-[^\]]+)\]", ack["Subject"]).group(1)  # type: ignore[union-attr]
        [notice] = self.mail_to("alice@example.com")
        return tracking, notice


@pytest.fixture
def desk(tmp_path: Path, dovecot: DovecotServer, smtp_sink: SmtpSink, capsys: Capsys) -> Desk:
    mailbox = f"""
[mailbox]
address = "support@example.com"
host = "{dovecot.host}"
port = {dovecot.port}
security = "none"
username = "{dovecot.user}"
password = "{dovecot.password}"
"""
    ws = write_config(tmp_path, mailbox_section=mailbox)
    text = ws.config.read_text().replace(
        'transport = "maildir"\nmaildir = "var/outbox"',
        f'transport = "smtp"\nhost = "127.0.0.1"\nport = {smtp_sink.port}\nsecurity = "none"',
    )
    text += '\n[[engineers]]\nemail = "carol@example.com"\nname = "Carol"\nrole = "agent"\n'
    text = text.replace('from_domain = "bigcorp.co.kr"', 'from_domain = "nobody.invalid"')
    ws.config.write_text(text)
    return Desk(ws, dovecot, smtp_sink, capsys)


def engineer_mail(
    tracking: str,
    body: str,
    *,
    sender: str = "alice@example.com",
    to: str = "support@example.com",
    auth: list[str] | None = None,
    in_reply_to: str | None = None,
) -> bytes:
    msg = EmailMessage()
    for header in auth or []:
        msg["Authentication-Results"] = header
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = f"Re: [{tracking}] 결제 페이지 오류"
    msg["Message-ID"] = make_msgid(domain="example.com")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    msg.set_content(body)
    return msg.as_bytes()


def signed(domain: str = "example.com", result: str = "pass", server: str = TRUSTED) -> str:
    return f"{server}; dkim={result} header.d={domain} header.s=sel; spf=pass"


def test_reply_to_the_owner_notice_answers_the_customer_and_reports_back(desk: Desk) -> None:
    tracking, notice = desk.open_claim()
    reply_address = notice["Reply-To"].addresses[0].addr_spec
    assert reply_address.startswith("support+")
    desk.dovecot.deliver(engineer_mail(
        tracking, "#status pending\n#priority high\n#type bug\n#time 1h30m\n\n"
        "카드사 점검 때문입니다. 30분 뒤 다시 시도해 주십시오.",
        to=reply_address, in_reply_to=notice["Message-ID"],
    ))  # fmt: skip
    desk.cycle()
    replies = [m for m in desk.mail_to("kim@acme.co.kr") if "카드사" in text_of(m)]
    [reply] = replies
    assert reply["From"].addresses[0].addr_spec == "support@example.com"
    assert "alice@example.com" not in reply.as_string()
    assert f"[{tracking}]" in reply["Subject"] and reply["Subject"].startswith("Re:")
    assert reply["In-Reply-To"] and reply["References"]
    assert reply["Auto-Submitted"] is None
    [result] = [m for m in desk.mail_to("alice@example.com") if "명령" in m["Subject"]]
    assert "#status pending" in result.get_content()
    shown = desk.ticket(tracking)
    assert (shown["status"], shown["priority"], shown["type"]) == ("pending", "high", "bug")
    assert shown["minutes_worked"] == 90
    assert [e["type"] for e in shown["events"]].count("reply_sent") == 1  # type: ignore[union-attr]


def test_a_manager_merges_a_claim_into_another_and_its_page_says_so(desk: Desk) -> None:
    first, _ = desk.open_claim()
    desk.dovecot.deliver(claim(subject="환불 요청", body="지난달 결제를 환불해 주십시오."))
    desk.cycle()
    listed = desk.ws.cli_json(desk.capsys, "ticket", "list")
    [second] = [t["tracking"] for t in listed if t["tracking"] != first]
    desk.dovecot.deliver(
        engineer_mail(second, f"#merge {first}", sender="bob@example.com", auth=[signed()])
    )
    desk.cycle()
    assert desk.ticket(second)["status"] == "closed"
    assert desk.ticket(first)["duplicate_count"] == 1
    [notice] = [m for m in desk.mail_to("kim@acme.co.kr") if "통합" in m["Subject"]]
    assert first in notice["Subject"] and second in notice["Subject"]
    components = build(load_config(desk.ws.config))
    try:
        with TestClient(build_web_app(components)) as web:  # type: ignore[arg-type]
            page = web.get(f"/t/{second}").text
    finally:
        components.close()
    assert "다른 문의와 통합" in page and "종료" in page
    assert first not in page


def test_note_never_reaches_the_customer(desk: Desk) -> None:
    tracking, _ = desk.open_claim()
    before = len(desk.mail_to("kim@acme.co.kr"))
    desk.dovecot.deliver(
        engineer_mail(tracking, "#note\n내부 메모: 환불 약속 금지", auth=[signed()])
    )
    desk.cycle()
    assert len(desk.mail_to("kim@acme.co.kr")) == before
    notes = [e for e in desk.ticket(tracking)["events"] if e["type"] == "note"]  # type: ignore[union-attr]
    assert len(notes) == 1 and not notes[0]["public"]
    api = desk.ws.cli_json(desk.capsys, "ticket", "show", tracking)
    assert "환불" not in str([e for e in api["events"] if e["public"]])


def test_assign_notifies_the_new_owner_and_agents_are_limited(desk: Desk) -> None:
    tracking, _ = desk.open_claim()
    desk.dovecot.deliver(
        engineer_mail(tracking, "#resolve", sender="carol@example.com", auth=[signed()])
    )
    desk.cycle()
    [refusal] = [m for m in desk.mail_to("carol@example.com")]
    assert "#resolve  -- 거부: 이 티켓의 담당은 alice@example.com입니다" in refusal.get_content()
    assert desk.ticket(tracking)["status"] == "open"
    desk.dovecot.deliver(engineer_mail(tracking, "#assign Bob", auth=[signed()]))
    desk.cycle()
    assert desk.ticket(tracking)["owner"] == "bob@example.com"
    assert any("[" + tracking + "]" in m["Subject"] for m in desk.mail_to("bob@example.com"))
    desk.dovecot.deliver(
        engineer_mail(tracking, "#close", sender="bob@example.com", auth=[signed()])
    )
    desk.cycle()
    assert desk.ticket(tracking)["status"] == "closed"
    closed = [m for m in desk.mail_to("kim@acme.co.kr") if "종료" in m["Subject"]]
    assert len(closed) == 1


FORGERIES = {
    "no header": [],
    "untrusted authserv-id": [signed(server="mx.evil.example")],
    "dkim=fail": [signed(result="fail")],
    "dkim=pass for another domain": [signed(domain="evil.example")],
    "forged trusted header below an untrusted one": [
        signed(server="mx.evil.example", result="none"),
        signed(),
    ],
    "forged pass below a genuine fail": [signed(result="fail"), signed()],
}


@pytest.mark.parametrize("case", list(FORGERIES))
def test_forged_commands_are_refused_and_the_real_engineer_is_told(desk: Desk, case: str) -> None:
    tracking, _ = desk.open_claim()
    before = len(desk.mail_to("kim@acme.co.kr"))
    desk.dovecot.deliver(
        engineer_mail(tracking, "#close\n고객님 문제는 해결되었습니다.", auth=FORGERIES[case])
    )
    desk.cycle()
    shown = desk.ticket(tracking)
    assert shown["status"] == "open"
    assert [e["type"] for e in shown["events"]].count("command_rejected") == 1  # type: ignore[union-attr]
    assert len(desk.mail_to("kim@acme.co.kr")) == before
    told = [m for m in desk.mail_to("alice@example.com") if "거부" in m["Subject"]]
    assert len(told) == 1 and told[0]["To"].addresses[0].addr_spec == "alice@example.com"


@pytest.mark.parametrize("tamper", ["expired", "altered", "other engineer", "other ticket"])
def test_bad_signed_reply_addresses_are_refused(desk: Desk, tamper: str) -> None:
    from ticketd.routing.links import reply_token

    tracking, notice = desk.open_claim()
    good = notice["Reply-To"].addresses[0].addr_spec
    token = good.split("+", 1)[1].split("@")[0]
    secret = "test-secret-key-0123456789"
    forged = {
        "expired": reply_token(secret, "alice@example.com", tracking, 20000),
        "altered": token[:-1] + ("a" if token[-1] != "a" else "b"),
        "other engineer": reply_token(secret, "bob@example.com", tracking, 99999),
        "other ticket": reply_token(secret, "alice@example.com", "SUP-0000-001Y", 99999),
    }[tamper]
    desk.dovecot.deliver(engineer_mail(tracking, "#close", to=f"support+{forged}@example.com"))
    desk.cycle()
    assert desk.ticket(tracking)["status"] == "open"


def test_trusted_dkim_pass_works_without_the_reply_address(desk: Desk) -> None:
    tracking, _ = desk.open_claim()
    desk.dovecot.deliver(engineer_mail(tracking, "#resolve\n해결되었습니다.", auth=[signed()]))
    desk.cycle()
    assert desk.ticket(tracking)["status"] == "resolved"
    [told] = [m for m in desk.mail_to("kim@acme.co.kr") if m["Subject"].startswith("Re:")]
    assert "해결되었습니다." in text_of(told) and "'해결됨'으로 바뀌었습니다" in text_of(told)


def test_a_saved_reply_by_mail_reaches_the_customer_filled_in(desk: Desk) -> None:
    tracking, notice = desk.open_claim()
    components = build(load_config(desk.ws.config))
    try:
        with components.store.write() as writer:
            writer.save_macro(
                Macro(
                    "pay-fixed", "{tracking} 결제 오류를 고쳤습니다. {status_link}", "", "#resolve"
                ),
                "bob@example.com",
            )
    finally:
        components.close()
    reply_address = notice["Reply-To"].addresses[0].addr_spec
    desk.dovecot.deliver(engineer_mail(tracking, "#macro pay-fixed", to=reply_address))
    desk.cycle()
    [reply] = [m for m in desk.mail_to("kim@acme.co.kr") if "고쳤습니다" in text_of(m)]
    assert f"{tracking} 결제 오류를 고쳤습니다. http://127.0.0.1:8080/t/{tracking}?k=" in (
        text_of(reply)
    )
    assert desk.ticket(tracking)["status"] == "resolved"


def test_customer_reply_reopens_a_resolved_ticket(desk: Desk) -> None:
    tracking, _ = desk.open_claim()
    desk.dovecot.deliver(engineer_mail(tracking, "#resolve", auth=[signed()]))
    desk.cycle()
    desk.dovecot.deliver(claim(subject=f"Re: [{tracking}] 결제 페이지 오류", body="아직 안 됩니다"))
    desk.cycle()
    assert desk.ticket(tracking)["status"] == "open"


def test_a_reply_to_a_notice_older_than_the_customers_new_mail_is_held(desk: Desk) -> None:
    tracking, notice = desk.open_claim()

    def answer_notice(body: str) -> None:
        to = notice["Reply-To"].addresses[0].addr_spec
        desk.dovecot.deliver(engineer_mail(tracking, body, to=to, in_reply_to=notice["Message-ID"]))

    again = claim(subject=f"Re: [{tracking}] 결제 페이지 오류", body="카드를 바꿔도 안 됩니다.")
    desk.dovecot.deliver(again)
    desk.cycle()
    answer = "#priority high\n\n곧 확인하겠습니다."
    answer_notice(answer)
    desk.cycle()
    assert not [m for m in desk.mail_to("kim@acme.co.kr") if "곧 확인" in text_of(m)]
    shown = desk.ticket(tracking)
    assert shown["priority"] == "normal"
    types = [e["type"] for e in shown["events"]]  # type: ignore[union-attr]
    assert "reply_held" in types and "reply_sent" not in types
    [held] = [m for m in desk.mail_to("alice@example.com") if "보류" in m["Subject"]]
    assert "카드를 바꿔도 안 됩니다." in held.get_content() and "#send" in held.get_content()
    answer_notice("#note\n고객에게 전화함")
    answer_notice(f"#send\n{answer}")
    desk.cycle()
    [sent] = [m for m in desk.mail_to("kim@acme.co.kr") if "곧 확인" in text_of(m)]
    assert "#send" not in text_of(sent)
    shown = desk.ticket(tracking)
    assert shown["priority"] == "high"
    types = [e["type"] for e in shown["events"]]  # type: ignore[union-attr]
    assert types.count("reply_held") == 1 and "note" in types and "reply_sent" in types
