"""An engineer's command report, owner notice and ``ticket show`` speak the service's
language: Korean mail holds no English words but the engineer's own command lines,
addresses and tracking numbers; English mail no Korean ones. Through ``ticketd import``
and ``run --once`` to a real SMTP sink."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.support import text_of
from tests.e2e.test_conversation import Desk, configured, mail
from tests.fixtures.smtp_sink import SmtpSink

Capsys = pytest.CaptureFixture[str]
KIM = "kim@acme.co.kr"
ALICE = "Alice <alice@example.com>"
ADDRESS = re.compile(r"[\w.+-]+@[\w.-]+")
URL = re.compile(r"https?://\S+")
TRACKING = re.compile(r"SUP-[0-9A-Z]{4}-[0-9A-Z]{4}")
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def desk_in(language: str, tmp_path: Path, sink: SmtpSink, capsys: Capsys) -> Desk:
    ws = configured(tmp_path, sink)
    ws.config.write_text(
        ws.config.read_text().replace('language = "ko"', f'language = "{language}"', 1)
    )
    return Desk(ws, sink, capsys)


def open_claim(desk: Desk, subject: str) -> tuple[str, str]:
    """A customer's claim, owned by Alice; its number and a second ticket's."""
    desk.feed(mail(f"Kim <{KIM}>", subject, "로그인이 안 됩니다."))
    desk.feed(mail("lee@acme.co.kr", "Another claim", "Please help."))
    numbers = {t["owner"]: t["tracking"] for t in desk.ws.cli_json(desk.capsys, "ticket", "list")}
    return numbers["alice@example.com"], numbers["bob@example.com"]


def commands(other: str) -> list[str]:
    return [
        "#assign bob@example.com",
        f"#merge {other}",
        "#frobnicate now",
        "#priority high",
        "#help",
    ]


def report(desk: Desk, number: str, other: str) -> tuple[list[str], str]:
    """Alice (an agent) hands the ticket to Bob, tries a merge and an unknown command, asks
    for the command list and answers the customer; the lines of the report she gets back
    and the command list."""
    body = "\n".join([*commands(other), "", "확인 후 다시 연락드리겠습니다."])
    sent = len(desk.sent_to("alice@example.com"))
    desk.feed(mail(ALICE, f"Re: [{number}]", body, authenticated=True))
    new = [r.message for r in desk.sent_to("alice@example.com")[sent:]]
    [result] = [m for m in new if "#assign bob@example.com" in text_of(m)]
    [listed] = [m for m in new if m is not result]
    return text_of(result).replace("\r\n", "\n").split("\n"), text_of(listed)


def last_to(desk: Desk, address: str) -> str:
    """The text of the last mail to ``address``."""
    return text_of(desk.last_to(address)).replace("\r\n", "\n")


def show(desk: Desk, number: str) -> str:
    """``ticketd ticket show`` of the ticket, as the terminal shows it."""
    return str(desk.ws.cli(desk.capsys, "ticket", "show", number)[1])


def ours(lines: list[str], other: str) -> str:
    """The report without what is not ours to translate: the engineer's own command lines,
    the engineer's name, addresses, tracking numbers and links."""
    text = "\n".join(lines)
    for line in sorted(commands(other), key=len, reverse=True):
        text = text.replace(line, " ")
    for pattern in (URL, ADDRESS, TRACKING):
        text = pattern.sub(" ", text)
    return text.replace("Alice", " ")


def test_a_korean_report_has_no_english_words_but_the_engineers_lines(
    tmp_path: Path, smtp_sink: SmtpSink, capsys: Capsys
) -> None:
    desk = desk_in("ko", tmp_path, smtp_sink, capsys)
    number, other = open_claim(desk, "로그인 오류")
    lines, listed = report(desk, number, other)
    assert "#assign bob@example.com" in lines and "#priority high" in lines
    assert "#help  -- 명령 목록을 보냈습니다" in lines
    assert "#take                        담당이 없는 티켓을 직접 맡습니다" in listed
    assert f"#merge {other}  -- 거부: 티켓 병합은 매니저만 할 수 있습니다" in lines
    assert "#frobnicate now  -- 거부: 알 수 없는 명령입니다" in lines
    assert "(고객에게 답장을 보냈습니다)" in lines
    assert re.findall(r"[A-Za-z]{2,}", ours(lines, other)) == []
    assert "배정 사유: alice@example.com이 배정\n" in last_to(desk, "bob@example.com")
    shown = show(desk, number)
    assert "alice@example.com: 근무 중인 엔지니어 가운데 맡은 티켓이 가장 적음" in shown
    assert "bob@example.com: alice@example.com이 배정" in shown


def test_an_english_report_has_no_korean_words_but_the_customers(
    tmp_path: Path, smtp_sink: SmtpSink, capsys: Capsys
) -> None:
    desk = desk_in("en", tmp_path, smtp_sink, capsys)
    number, other = open_claim(desk, "Cannot sign in")
    lines, listed = report(desk, number, other)
    assert "#help  -- command list sent" in lines
    assert "#take                        take the ticket if nobody owns it" in listed
    assert f"#merge {other}  -- refused: only a manager may merge tickets" in lines
    assert "#frobnicate now  -- refused: unknown command #frobnicate" in lines
    assert "(reply sent to the customer)" in lines
    assert not HANGUL.search(ours(lines, other))
    assert "Why: assigned by alice@example.com\n" in last_to(desk, "bob@example.com")
    assert "alice@example.com: least-loaded engineer on duty" in show(desk, number)


def test_a_rejected_command_mail_says_why_in_the_readers_language(
    tmp_path: Path, smtp_sink: SmtpSink, capsys: Capsys
) -> None:
    desk = desk_in("ko", tmp_path, smtp_sink, capsys)
    number, _ = open_claim(desk, "로그인 오류")
    desk.feed(mail(ALICE, f"Re: [{number}] 닫아 주세요", "#close"))
    rejected = last_to(desk, "alice@example.com")
    why = (
        "인증 결과 헤더(Authentication-Results)가 없습니다; 서명된 회신 주소로 보낸 메일이 아닙니다"
    )
    assert f"사유: {why}\n메일 제목: Re: [{number}] 닫아 주세요\n" in rejected
    assert why in show(desk, number)
