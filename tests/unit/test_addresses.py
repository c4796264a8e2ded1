"""Addresses come from the raw header structure; a display name never changes them."""

from __future__ import annotations

import base64
import re
import time
import unicodedata
from email.quoprimime import header_encode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ticketd.mail.addresses import parse_address_list, parse_mailbox
from ticketd.mail.message import Address
from ticketd.mail.parse import parse

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def b_word(text: str, charset: str = "utf-8") -> str:
    return f"=?{charset}?B?{base64.b64encode(text.encode(charset)).decode()}?="


def q_word(text: str) -> str:
    return header_encode(text.encode("utf-8"), "utf-8")


def quoted(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def raw8(text: str, codec: str = "utf-8") -> str:
    """``text`` as compat32 hands over raw 8-bit header bytes."""
    return text.encode(codec).decode("ascii", "surrogateescape")


def mail(*headers: str) -> bytes:
    return ("\r\n".join(headers) + "\r\nSubject: hi\r\nMessage-ID: <m@x.test>\r\n\r\nbody").encode(
        "utf-8", "surrogateescape"
    )


def from_of(value: str) -> tuple[str | None, str, str]:
    """(email, name, problem) of a From header value, through the whole parser."""
    msg = parse(mail(f"From: {value}"))
    sender = msg.from_addr
    return (sender.email if sender else None, sender.name if sender else "", msg.from_problem)


# --- a display name never changes the address ---------------------------------------------


def test_encoded_name_holding_an_address_does_not_become_the_requester() -> None:
    spoof = f"{b_word('Kim <victim@evil.test>')} <attacker@x.test>"
    assert from_of(spoof) == ("attacker@x.test", "Kim <victim@evil.test>", "")


def test_engineer_address_as_display_name_is_just_a_name() -> None:
    for name in ('"<alice@example.com>"', q_word("<alice@example.com>")):
        assert from_of(f"{name} <attacker@x.test>")[:2] == (
            "attacker@x.test",
            "<alice@example.com>",
        )
    assert from_of("alice@example.com <attacker@x.test>")[0] == "attacker@x.test"


def test_encoded_cr_lf_in_a_name_adds_no_address_and_no_line() -> None:
    for word in (q_word("Kim\r\nBcc: victim@evil.test"), b_word("Kim\r\nBcc: victim@evil.test")):
        msg = parse(mail(f"From: {word} <a@x.test>"))
        assert msg.from_addr == Address("a@x.test", "Kim Bcc: victim@evil.test")
        assert (msg.to, msg.cc) == ((), ())
    sloppy = parse(mail("From: =?utf-8?q?Kim=0D=0ABcc:_victim@evil.test?= <a@x.test>"))
    assert (sloppy.from_addr, sloppy.from_problem) == (None, "From is a group")


def test_encoded_name_with_a_comma_stays_whole() -> None:
    assert from_of("=?utf-8?q?M=C3=BCller=2C_Bernd?= <b@x.test>")[:2] == (
        "b@x.test",
        "Müller, Bernd",
    )
    assert from_of(raw8('"Müller, Bernd" <b@x.test>'))[:2] == ("b@x.test", "Müller, Bernd")
    msg = parse(mail("From: a@x.test", "Cc: =?utf-8?q?Lee=2C_Jun?= <lee@x.test>, k@x.test"))
    assert msg.cc == (Address("lee@x.test", "Lee, Jun"), Address("k@x.test"))


def test_adjacent_encoded_words_join_and_plain_words_keep_their_spaces() -> None:
    name = "똠햏".encode()
    split = f"=?utf-8?b?{base64.b64encode(name[:2]).decode()}?= "
    split += f"=?utf-8?b?{base64.b64encode(name[2:]).decode()}?="
    assert from_of(f"{split} <a@x.test>")[1] == "똠햏"
    assert from_of("=?utf-8?q?Kim?= =?utf-8?q?_Minsu?= <a@x.test>")[1] == "Kim Minsu"
    assert from_of("John Q. Public <a@x.test>")[1] == "John Q. Public"
    assert from_of("=?utf-8?q?Kim?= Minsu =?utf-8?q?Lee?= <a@x.test>")[1] == "Kim Minsu Lee"
    assert from_of("a@x.test (Kim Minsu)")[:2] == ("a@x.test", "Kim Minsu")
    assert from_of("=?utf-8?q?J.R._Smith?= <a@x.test>")[1] == "J.R. Smith"


def test_other_address_headers_use_the_same_parser() -> None:
    msg = parse(
        mail(
            "From: a@x.test",
            f"Reply-To: {b_word('r@evil.test')} <r@x.test>",
            f"To: {b_word('t@evil.test, u@evil.test')} <support@example.com>",
            f"Cc: {b_word('c@evil.test')} <c@x.test>, team: d@x.test, <e@X.test>;, junk",
            f"Sender: {b_word('s@evil.test')} <s@x.test>",
        )
    )
    assert [a.email for a in msg.reply_to] == ["r@x.test"]
    assert [a.email for a in msg.to] == ["support@example.com"]
    assert [a.email for a in msg.cc] == ["c@x.test", "d@x.test", "e@x.test"]
    assert msg.sender == Address("s@x.test", "s@evil.test")
    assert "Cc: text without an address ignored" in msg.defects


# --- a From without exactly one usable address ----------------------------------------------

NO_USABLE_FROM = {
    "a@x.test, b@x.test": "From has 2 addresses",
    "Kim <a@x.test>, Lee <b@x.test>, c@x.test": "From has 3 addresses",
    "team: a@x.test;": "From is a group",
    "undisclosed-recipients:;": "From is a group",
    "Kim Minsu": "From has no address",
    "": "From has no address",
    "Kim <kim>": "From has no usable address (no @)",
    "<>": "From has no usable address (no @)",
    "Kim <a@x.test> <b@x.test>": "From has no usable address (another address after <...>)",
    "a@x.test b@x.test": "From has no usable address (several @ without <>)",
    "<a@b@x.test>": "From has no usable address (more than one @)",
}


@pytest.mark.parametrize("value", list(NO_USABLE_FROM))
def test_from_without_exactly_one_usable_address_names_the_problem(value: str) -> None:
    msg = parse(mail(f"From: {value}"))
    assert msg.from_addr is None
    assert msg.from_problem == NO_USABLE_FROM[value]
    assert "missing or invalid From" in msg.defects


def test_missing_repeated_and_unparseable_from() -> None:
    assert parse(b"Subject: x\r\n\r\nbody").from_problem == "no From header"
    two = parse(mail("From: a@x.test", "From: b@x.test"))
    assert (two.from_addr, two.from_problem) == (None, "2 From headers")
    same = parse(mail("From: a@x.test", "From: Kim <A@x.test>"))
    assert same.from_addr == Address("a@x.test") and same.from_problem == ""
    assert "From repeated 2 times" in same.defects
    assert parse(mail("From: a@x.test")).from_problem == ""


# --- malformed, but one recognisable address ----------------------------------------------


def test_address_without_brackets_after_a_name_is_used() -> None:
    msg = parse(mail("From: Test test@example.com"))
    assert msg.from_addr == Address("test@example.com", "Test")
    assert "From: address without <> after other text" in msg.defects
    assert from_of(f"{b_word('Kim <victim@evil.test>')} attacker@x.test")[0] == "attacker@x.test"
    assert from_of("Kim <a@x.test")[0] == "a@x.test"
    assert from_of("Kim <a@x.test> (home) junk")[:2] == ("a@x.test", "Kim")
    assert from_of("Kim, <a@x.test>")[0] == "a@x.test"


@pytest.mark.parametrize(
    "preamble", [b"hello there\r\n", b"\r\n", b">From x@y.test\r\n", b"a\r\nb\r\nc\r\n", b" "]
)
def test_stray_text_before_the_first_header_is_skipped(preamble: bytes) -> None:
    msg = parse(preamble + mail("From: Kim <kim@acme.co.kr>"))
    assert msg.from_addr == Address("kim@acme.co.kr", "Kim")
    assert (msg.subject, msg.message_id, msg.text) == ("hi", "m@x.test", "body")
    assert "text before the first header skipped" in msg.defects


def test_a_long_text_without_headers_is_not_searched_for_a_from() -> None:
    msg = parse(b"one\r\ntwo\r\nthree\r\nfour\r\n" + mail("From: kim@acme.co.kr"))
    assert (msg.from_addr, msg.from_problem) == (None, "no From header")


# --- names: raw 8-bit, Korean, bidi -----------------------------------------------------------


def test_raw_8bit_names_decode_as_the_subject_does() -> None:
    assert from_of(raw8("김철수 똠햏 <kim@acme.co.kr>", "cp949"))[1] == "김철수 똠햏"
    assert from_of(raw8('"김 철수" <kim@acme.co.kr>'))[1] == "김 철수"
    assert from_of(raw8("Müller <m@x.test>", "cp1252"))[1] == "Müller"
    for label in ("ks_c_5601-1987", "euc-kr", "EUC-KR"):
        word = f"=?{label}?B?{base64.b64encode('똠햏뷁'.encode('cp949')).decode()}?="
        assert from_of(f"{word} <kim@acme.co.kr>")[1] == "똠햏뷁"


def test_bidi_controls_are_removed_from_names() -> None:
    for char in BIDI:
        assert from_of(raw8(f'"{char}Kim{char}" <a@x.test>'))[1] == "Kim"
        assert from_of(f"{b_word(f'Kim {char}moc.live')} <a@x.test>")[1] == "Kim moc.live"


# --- the address itself --------------------------------------------------------------------


def test_address_is_lower_cased_and_must_be_plain() -> None:
    assert from_of("Kim <Kim.Minsu@ACME.Co.KR>")[0] == "kim.minsu@acme.co.kr"
    assert from_of("<joe@localhost>")[0] == "joe@localhost"
    assert from_of('<"kim"@x.test>')[0] == "kim@x.test"
    assert from_of("<@relay.test:kim@x.test>")[0] == "kim@x.test"
    assert from_of(raw8("<kim@x.test>"))[0] == "kim@x.test"
    rejected = [
        "<kim minsu@x.test>",
        '<"kim minsu"@x.test>',
        '<"kim\\\r\\\nBcc: v@evil.test"@x.test>',
        "<kim\x01@x.test>",
        "<kim\x7f@x.test>",
        "<kim@x..test>",
        "<kim@.x.test>",
        "<kim@[10.0.0.1]>",
        "<kim@exa mple.test>",
        "<kim@ex_ample.test>",
        raw8("<k\xe9@x.test>", "cp1252"),
        f"<{'k' * 65}@x.test>",
        "<=?utf-8?q?victim=40evil.test?=>",
    ]
    for value in rejected:
        email, _name, problem = from_of(value)
        assert email is None and problem.startswith("From has no usable address"), value


def test_address_list_counts_mailboxes_and_groups() -> None:
    found = parse_address_list("a@x.test, undisclosed:;, team: b@x.test, Kim <c>;, junk")
    assert [a.email for a in found.addresses] == ["a@x.test", "b@x.test"]
    assert (found.mailboxes, found.groups, found.rejected) == (3, 2, ("no @",))
    assert parse_mailbox([], "Sender").problem == "no Sender header"


# --- properties ---------------------------------------------------------------------------

SPICY = st.sampled_from(
    ["\r", "\n", "\r\n", "<", ">", ",", '"', "'", "@", "\\", "(", ")", ":", ";", "=?", "?=", *BIDI]
)
NAMES = st.lists(st.one_of(st.text(max_size=8), SPICY, st.just("victim@evil.test")), max_size=12)
LOCAL = st.from_regex(r"[a-z0-9](?:[a-z0-9_+-]|\.[a-z0-9]){0,20}", fullmatch=True)
DOMAIN = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?(?:\.[a-z]{2,6}){0,3}", fullmatch=True)
ATEXT = st.text(alphabet="abcXYZ019!#$%&'*+-/=?^_`{|}~", min_size=1, max_size=12)


def encoded_words(text: str, cut: int, q: bool) -> str:
    """``text`` as one or two RFC 2047 words (cut anywhere, even inside a character)."""
    data = text.encode("utf-8")
    cut = min(cut, len(data))
    chunks = [c for c in (data[:cut], data[cut:]) if c] or [b""]
    if q:
        return " ".join(header_encode(c, "utf-8") if c else "=?utf-8?q??=" for c in chunks)
    return " ".join(f"=?utf-8?b?{base64.b64encode(c).decode()}?=" for c in chunks)


def expected_name(text: str) -> str:
    """The name as a person reads it: one line, no controls or bidi overrides, composed."""
    text = _CONTROL.sub("", text.replace("\r", " ").replace("\n", " "))
    text = " ".join(re.sub(f"[{BIDI}]", "", " ".join(text.split())).split())
    return unicodedata.normalize("NFC", text)[:200]


@settings(max_examples=400)
@given(NAMES, LOCAL, DOMAIN, st.integers(0, 60), st.sampled_from(["quoted", "b", "q", "fake"]))
def test_any_display_name_leaves_the_addr_spec_as_written(
    parts: list[str], local: str, domain: str, cut: int, form: str
) -> None:
    text = "".join(parts)
    if form == "quoted":
        name = quoted(text)
    elif form == "fake":  # an atom that merely looks like an encoded word
        name = f"=?{text.encode().hex() or 'x'}?q?{local}?="
    else:
        name = encoded_words(text, cut, form == "q")
    found = parse_mailbox([f"{name} <{local}@{domain}>"], "From")
    assert found.address is not None, (name, found)
    assert found.address.email == f"{local}@{domain}"
    assert not set(found.address.name) & set(f"\r\n{BIDI}")
    if form in ("b", "q"):
        assert found.address.name == expected_name(text)


@settings(max_examples=300)
@given(
    st.one_of(
        st.binary(max_size=40).map(lambda b: ("quoted", b)),
        st.tuples(st.just("atoms"), ATEXT.map(str.encode)),
        st.text(max_size=30).map(lambda t: ("b", t.encode())),
    ),
    LOCAL,
    DOMAIN,
)
def test_any_display_name_in_a_real_header_leaves_the_addr_spec(
    name: tuple[str, bytes], local: str, domain: str
) -> None:
    form, data = name
    if form == "quoted":
        data = data.replace(b"\r", b"").replace(b"\n", b"").replace(b"\x00", b"")
        phrase = b'"' + data.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'
    elif form == "b":
        phrase = f"=?utf-8?b?{base64.b64encode(data).decode()}?=".encode()
    else:
        phrase = data
    raw = b"From: " + phrase + f" <{local}@{domain}>\r\nSubject: x\r\n\r\nbody".encode()
    msg = parse(raw)
    assert msg.from_addr is not None, raw
    assert msg.from_addr.email == f"{local}@{domain}"
    assert "\r" not in msg.from_addr.name and "\n" not in msg.from_addr.name
    assert msg.from_problem == ""


def test_a_huge_display_name_stays_cheap() -> None:
    started = time.process_time()
    msg = parse(mail("From: " + "=?utf-8?q?a?= " * 100_000 + "<a@x.test>"))
    assert time.process_time() - started < 2  # the CPU budget of one message
    assert msg.from_addr == Address("a@x.test", "a" * 200)
