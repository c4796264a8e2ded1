"""Parsing hostile and broken mail: never raises, keeps what can be read, names defects."""

from __future__ import annotations

import base64
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.builders import claim
from tests.fixtures.charsets import CHARSETS
from tests.fixtures.charsets import EXPECTED as CHARSET_EXPECTED
from ticketd.mail.message import InboundMessage
from ticketd.mail.parse import ParseLimits, parse
from ticketd.mail.quotes import strip_quoted
from ticketd.mail.subject import normalize_subject

HANGUL = "똠햏뷁 로그인 문의"


def cp949_b64(text: str) -> str:
    return base64.b64encode(text.encode("cp949")).decode()


def test_outlook_korean_subject_body_and_name() -> None:
    raw = (
        f"From: =?ks_c_5601-1987?B?{cp949_b64('김철수')}?= <Kim@ACME.co.kr>\r\n"
        f"Subject: =?ks_c_5601-1987?B?{cp949_b64(HANGUL)}?=\r\nMessage-ID: <a@acme>\r\n"
        "Content-Type: text/plain; charset=ks_c_5601-1987\r\nContent-Transfer-Encoding: base64"
        f"\r\n\r\n{cp949_b64('본문 똠')}\r\n"
    ).encode()
    msg = parse(raw)
    assert msg.subject == HANGUL
    assert msg.from_addr is not None
    assert (msg.from_addr.email, msg.from_addr.name) == ("kim@acme.co.kr", "김철수")
    assert msg.text == "본문 똠"
    assert msg.defects == ()


def test_raw_8bit_cp949_and_euc_kr_labelled_headers() -> None:
    raw = b"From: kim@acme.co.kr\r\nSubject: " + HANGUL.encode("cp949") + b"\r\n"
    raw += b"Content-Type: text/plain; charset=euc-kr\r\n\r\n" + "햏 본문".encode("cp949")
    msg = parse(raw)
    assert msg.subject == HANGUL
    assert msg.text == "햏 본문"


def test_raw_8bit_korean_with_hanja_stays_korean_and_latin_1_stays_latin_1() -> None:
    raw = "From: 김민수 <kim@acme.co.kr>\r\nSubject: [緊急] 서버 장애\r\n\r\nx".encode("cp949")
    assert parse(raw).subject == "[緊急] 서버 장애"
    raw = b"From: Dieter G\xf6\xdfmann <d@example.de>\r\nSubject: \xc4nderung\r\n"
    raw += b"Content-Type: text/plain; charset=iso-8859-1\r\n\r\nSch\xf6ne Gr\xfc\xdfe"
    msg = parse(raw)
    assert msg.from_addr is not None and msg.from_addr.name == "Dieter Gößmann"
    assert (msg.subject, msg.text) == ("Änderung", "Schöne Grüße")


def test_html_only_mail_becomes_readable_text() -> None:
    html = "<html><style>p{}</style><p>안녕하세요</p><ul><li>첫째</li></ul><a href='https://x.kr'>링크</a><script>x</script>"
    raw = (
        "From: a@b.kr\r\nContent-Type: text/html; charset=utf-8\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(html.encode()).decode()
    ).encode()
    text = parse(raw).text
    assert "안녕하세요" in text and "- 첫째" in text and "링크 (https://x.kr)" in text
    assert "script" not in text and "p{}" not in text


def test_attachment_names_are_sanitised() -> None:
    raw = (
        b"From: a@b.kr\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
        b"--B\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
        b'--B\r\nContent-Type: application/pdf; name="x.pdf"\r\n'
        b'Content-Disposition: attachment; filename="../../etc/passwd"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n"
        b"--B\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Disposition: attachment; filename*=utf-8''%EA%B2%AC%EC%A0%81%EC%84%9C.xlsx\r\n"
        b"\r\nxyz\r\n"
        b"--B\r\nContent-Type: text/plain\r\n"
        b'Content-Disposition: attachment; filename="C:\\\\boot.ini"\r\n'
        b"\r\nini\r\n--B--\r\n"
    )
    names = [a.filename for a in parse(raw).attachments]
    assert names == ["passwd", "견적서.xlsx", "boot.ini"]
    assert parse(raw).attachments[0].data == b"hello"


def test_encoded_newline_in_subject_cannot_inject() -> None:
    msg = parse(b"From: a@b.kr\r\nSubject: =?utf-8?q?hi=0D=0ABcc:_x@evil?=\r\n\r\nx")
    assert "\n" not in msg.subject and "\r" not in msg.subject


def test_missing_from_and_message_id_are_defects_not_crashes() -> None:
    msg = parse(b"Subject: hello\r\n\r\nbody")
    assert msg.from_addr is None
    assert msg.message_id_synthesized and msg.message_id.endswith("@ticketd.invalid")
    assert "missing or invalid From" in msg.defects
    assert parse(b"Subject: hello\r\n\r\nbody").message_id == msg.message_id


def test_bad_base64_keeps_what_can_be_read() -> None:
    msg = parse(b"From: a@b.kr\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8gd29ybGQ!!!=\r\n")
    assert msg.text == "hello world"
    assert any("base64" in d for d in msg.defects)


def test_mime_bombs_stop_quickly_with_a_defect() -> None:
    parts = "".join(f"--B\r\nContent-Type: text/plain\r\n\r\npart {i}\r\n" for i in range(5000))
    wide = f"From: a@b.kr\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n{parts}--B--\r\n"
    deep = "From: a@b.kr\r\n"
    for level in range(50):
        deep += f"Content-Type: multipart/mixed; boundary=b{level}\r\n\r\n--b{level}\r\n"
    deep += "Content-Type: text/plain\r\n\r\nbottom\r\n"
    started = time.process_time()
    wide_msg, deep_msg = parse(wide.encode()), parse(deep.encode())
    assert time.process_time() - started < 2  # the CPU budget of one message
    assert any("too many MIME parts" in d for d in wide_msg.defects)
    assert any("nesting" in d for d in deep_msg.defects)


def test_giant_attachment_is_skipped_before_decoding() -> None:
    body = base64.encodebytes(b"\0" * (12 * 1024 * 1024)).decode()
    raw = (
        "From: a@b.kr\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n"
        "Content-Type: text/plain\r\n\r\nhi\r\n--B\r\nContent-Type: application/zip\r\n"
        'Content-Disposition: attachment; filename="bomb.zip"\r\n'
        f"Content-Transfer-Encoding: base64\r\n\r\n{body}\r\n--B--\r\n"
    ).encode()
    msg = parse(raw, limits=ParseLimits(max_attachment_bytes=1024 * 1024))
    assert msg.attachments == ()
    assert any("bomb.zip" in d for d in msg.defects)


def test_delivery_report_names_the_original_message() -> None:
    raw = (
        b"From: MAILER-DAEMON@mx.x\r\nContent-Type: multipart/report; "
        b"report-type=delivery-status; boundary=R\r\n\r\n--R\r\nContent-Type: text/plain\r\n\r\n"
        b"failed\r\n--R\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx"
        b"\r\n\r\nFinal-Recipient: rfc822; kim@acme.co.kr\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        b"\r\n--R\r\nContent-Type: message/rfc822\r\n\r\nMessage-ID: <ack-7@example.com>\r\n"
        b"Subject: x\r\n\r\nbody\r\n--R--\r\n"
    )
    report = parse(raw).report
    assert report is not None
    assert (report.original_message_id, report.action, report.status) == (
        "ack-7@example.com",
        "failed",
        "5.1.1",
    )
    assert report.recipients == ("kim@acme.co.kr",)


def test_quoted_history_is_stripped_in_common_client_styles() -> None:
    styles = [
        "Thanks!\n\nOn Mon, 23 Nov 2026 at 10:00, Support <support@example.com> wrote:\n> old",
        "Thanks!\n\n-----Original Message-----\nFrom: Support\nSent: Monday\n\nold",
        "Thanks!\n\n-----원본 메시지-----\n보낸 사람: Support\n받는 사람: kim\n\nold",
        "Thanks!\n\n2026년 11월 23일 (월) 오전 10:00, Support <s@e.com>님이 작성:\n> old",
        "Thanks!\n-- \nKim Minsu\nACME",
    ]
    assert all(strip_quoted(text) == "Thanks!" for text in styles)


@settings(max_examples=300)
@given(st.binary(max_size=4000))
def test_parse_never_raises_on_arbitrary_bytes(data: bytes) -> None:
    msg = parse(data)
    assert msg.message_id


@settings(max_examples=200)
@given(st.integers(0, 2000), st.binary(min_size=1, max_size=40))
def test_parse_never_raises_on_damaged_real_mail(position: int, junk: bytes) -> None:
    raw = claim(subject="로그인 오류", body="본문 " * 100)
    damaged = raw[:position] + junk + raw[position + len(junk) :]
    parse(damaged)


@given(st.text(max_size=200))
def test_subject_normalisation_is_idempotent(subject: str) -> None:
    once = normalize_subject(subject)
    assert normalize_subject(once) == once


@pytest.mark.parametrize("name", sorted(CHARSET_EXPECTED))
def test_unlabelled_8bit_subject_and_name_read_as_written(name: str) -> None:
    """GBK, Shift_JIS, Windows-1250 and cp949 raw headers: the Subject and the display
    name are decoded the same way, by detection or by the charset the body is labelled."""
    msg = parse((CHARSETS / name).read_bytes())
    assert msg.from_addr is not None
    assert (msg.subject, msg.from_addr.name) == CHARSET_EXPECTED[name]


def test_raw_8bit_text_between_encoded_words_is_decoded() -> None:
    raw = b"From: a@b.kr\r\nSubject: =?utf-8?b?" + base64.b64encode("문의".encode())
    raw += b"?= " + "김민수 드림".encode("cp949") + b"\r\n\r\nx"
    assert parse(raw).subject == "문의 김민수 드림"


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        ("메시지.1@acme.co.kr", True),
        ("x" * 10_000 + "@acme.co.kr", False),
        ("\udcb1\udce8@cp949.bytes", False),
    ],
    ids=["utf-8", "10000-characters", "undecodable-bytes"],
)
def test_any_message_id_is_stored_readable_bounded_and_matched_by_replies(
    written: str, kept: bool
) -> None:
    """A UTF-8 (RFC 6532), overlong or undecodable Message-ID is kept within 900
    characters as valid text, and a reply naming it finds the same id."""
    header = written.encode("utf-8", "surrogateescape")
    claim_mail = b"From: a@b.kr\r\nMessage-ID: <" + header + b">\r\n\r\nhello"
    reply = b"From: a@b.kr\r\nIn-Reply-To: <" + header + b">\r\nReferences: <x@y> <"
    reply += header + b">\r\nMessage-ID: <r@b.kr>\r\n\r\nmore"
    msg, answer = parse(claim_mail), parse(reply)
    assert len(msg.message_id) <= 900 and msg.message_id.encode("utf-8")
    assert not msg.message_id_synthesized
    assert answer.in_reply_to == (msg.message_id,)
    assert answer.references == ("x@y", msg.message_id)
    assert parse(claim_mail).message_id == msg.message_id
    assert (msg.message_id == written) is kept


def test_mime_nested_deeper_than_the_parser_keeps_from_and_subject() -> None:
    deep = "From: Kim <kim@acme.co.kr>\r\nSubject: deep claim\r\nMessage-ID: <d@acme>\r\n"
    for level in range(2000):
        deep += f'Content-Type: multipart/mixed; boundary="b{level}"\r\n\r\n--b{level}\r\n'
    deep += "Content-Type: text/plain\r\n\r\nbottom\r\n"
    msg = parse(deep.encode())
    assert msg.from_addr is not None and msg.from_addr.email == "kim@acme.co.kr"
    assert msg.subject == "deep claim" and msg.message_id == "d@acme"
    assert "MIME nesting deeper than 10: body not read" in msg.defects


def _cpu_parse(data: bytes) -> tuple[float, InboundMessage]:
    started = time.process_time()
    msg = parse(data)
    return time.process_time() - started, msg


@pytest.mark.parametrize(
    "extra",
    [
        "Cc: " + ",\n ".join(f"c{i}@x{i}.test" for i in range(60_000)) + "\n",
        "".join(f"Cc: c{i}@x{i}.test\n" for i in range(40_000)),
    ],
    ids=["one-giant-cc", "40000-cc-headers"],
)
def test_tens_of_thousands_of_cc_addresses_are_cut_and_cheap(extra: str) -> None:
    spent, msg = _cpu_parse(claim(headers={"X-Pad": "1"}).replace(b"X-Pad: 1\n", extra.encode()))
    assert spent < 2.0  # the CPU budget of one message
    assert len(msg.cc) == 1000
    assert msg.from_addr is not None and msg.from_addr.email == "kim@acme.co.kr"
    assert any(d.startswith("Cc: over") for d in msg.defects)


def test_forty_thousand_from_headers_are_cheap_and_no_sender() -> None:
    froms = "".join(f"From: f{i % 2}@x.test\n" for i in range(40_000))
    spent, msg = _cpu_parse(froms.encode() + claim())
    assert spent < 2.0  # the CPU budget of one message (0.3–0.7 s here, 1.1 s in a busy CI)
    assert msg.from_addr is None


def test_nul_bytes_never_reach_the_text() -> None:
    msg = parse(claim(body="before\x00after"))
    assert msg.text == "beforeafter"
