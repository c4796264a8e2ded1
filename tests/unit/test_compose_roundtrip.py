"""Outgoing mail parses back to exactly what was meant, and input never adds headers."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ticketd.mail.compose import compose, make_message_id
from ticketd.mail.message import Address

SUPPORT = Address("support@example.com", "Example 고객지원")
WHEN = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


def build(**overrides: object):  # type: ignore[no-untyped-def]
    fields: dict[str, object] = {
        "from_addr": SUPPORT,
        "to": [Address("kim@acme.co.kr", "김민수")],
        "subject": "[SUP-7K2M-9QXA] 문의가 접수되었습니다: 똠햏뷁 로그인 오류",
        "text": "안녕하십니까.\n접수 번호는 SUP-7K2M-9QXA 입니다.\n",
        "message_id": "abc123@example.com",
        "date": WHEN,
        "in_reply_to": "c1@acme.co.kr",
        "references": ["c1@acme.co.kr"],
    }
    fields.update(overrides)
    out = compose(**fields)  # type: ignore[arg-type]
    return out, message_from_bytes(out.data, policy=default)


def text_of(parsed) -> str:  # type: ignore[no-untyped-def]
    return str(parsed.get_content()).replace("\r\n", "\n").rstrip("\n")


def test_korean_subject_names_and_body_round_trip() -> None:
    out, parsed = build()
    assert parsed["Subject"] == "[SUP-7K2M-9QXA] 문의가 접수되었습니다: 똠햏뷁 로그인 오류"
    assert parsed["To"].addresses[0].display_name == "김민수"
    assert parsed["From"].addresses[0].display_name == "Example 고객지원"
    assert text_of(parsed) == "안녕하십니까.\n접수 번호는 SUP-7K2M-9QXA 입니다."
    assert parsed.get_content_charset() == "utf-8"
    assert out.recipients == ("kim@acme.co.kr",)
    assert all(len(line) <= 998 for line in out.data.split(b"\r\n"))


def test_threading_and_loop_headers() -> None:
    _, parsed = build(references=["a@x", "b@y", "c1@acme.co.kr"])
    assert parsed["Message-ID"] == "<abc123@example.com>"
    assert parsed["In-Reply-To"] == "<c1@acme.co.kr>"
    assert parsed["References"].split() == ["<a@x>", "<b@y>", "<c1@acme.co.kr>"]
    assert parsed["Auto-Submitted"] == "auto-replied"
    assert parsed["X-Loop"] == "support@example.com"


@pytest.mark.parametrize(
    "subject",
    ["hi\r\nBcc: evil@attacker.example", "hi\nBcc: evil@attacker.example", "x\rTo: y@z"],
)
def test_header_injection_in_subject_adds_no_header(subject: str) -> None:
    _, parsed = build(subject=subject)
    assert parsed["Bcc"] is None
    assert parsed.get_all("To") is not None and len(parsed.get_all("To")) == 1
    assert "\n" not in parsed["Subject"]


def test_header_injection_in_display_name_adds_no_header() -> None:
    _, parsed = build(to=[Address("kim@acme.co.kr", 'Kim"\r\nBcc: evil@attacker.example')])
    assert parsed["Bcc"] is None
    assert parsed["To"].addresses[0].addr_spec == "kim@acme.co.kr"


@pytest.mark.parametrize(
    "bad",
    [
        "kim@acme.co.kr\r\nBcc: x@y",
        "not an address",
        "a b@c.d",
        "김\u2028민수@x.kr",
        "김@도메인.kr",
    ],
)
def test_invalid_addresses_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        build(to=[Address(bad)])


def test_a_utf8_address_makes_a_utf8_mail_that_needs_smtputf8() -> None:
    """RFC 6532: the address is written as UTF-8 (names and Subject stay encoded words),
    and so is a UTF-8 Message-ID it refers to; nothing else changes."""
    out, _ = build(
        to=[Address("김민수@outside.test", "김민수")],
        in_reply_to="메시지.1@acme.co.kr",
        references=["메시지.1@acme.co.kr"],
    )
    head = out.data.split(b"\r\n\r\n", 1)[0].decode("utf-8")
    assert "To: =?utf-8?b?6rmA66+87IiY?= <김민수@outside.test>" in head.split("\r\n")
    assert "In-Reply-To: <메시지.1@acme.co.kr>" in head
    assert out.recipients == ("김민수@outside.test",) and out.needs_smtputf8
    assert not build()[0].needs_smtputf8


def test_an_ascii_mail_leaves_out_references_to_utf8_message_ids() -> None:
    out, parsed = build(
        in_reply_to="메시지.1@acme.co.kr", references=["메시지.1@acme.co.kr", "a@x"]
    )
    assert out.data.isascii() and not out.needs_smtputf8
    assert parsed["In-Reply-To"] is None and parsed["References"] == "<a@x>"


@given(st.text(max_size=300), st.text(max_size=2000))
def test_any_text_round_trips_without_extra_headers(subject: str, body: str) -> None:
    _, parsed = build(subject=subject, text=body)
    names = {name.lower() for name in parsed}
    assert names <= {
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "in-reply-to",
        "references",
        "auto-submitted",
        "x-loop",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
    }
    assert parsed["Subject"] == " ".join(re.sub(r"[\x00-\x1f\x7f]", " ", subject).split())
    expected = body.replace("\r\n", "\n").replace("\r", "\n")
    assert text_of(parsed) == expected.rstrip("\n")


def test_message_ids_are_unguessable() -> None:
    import secrets

    ids = {make_message_id(secrets.token_bytes, "example.com") for _ in range(100)}
    assert len(ids) == 100 and all(i.endswith("@example.com") for i in ids)
