"""Every client fixture reads as a person reads it: subject, sender, text and file names."""

from __future__ import annotations

import re
import unicodedata
from email import message_from_bytes
from email.policy import default

import pytest

from tests.fixtures.clients import CLIENTS, EXPECTED
from ticketd.mail.parse import parse


def test_every_fixture_has_its_reading() -> None:
    assert sorted(p.name for p in CLIENTS.glob("*.eml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_reads_as_a_person_reads_it(name: str) -> None:
    expected = EXPECTED[name]
    msg = parse((CLIENTS / name).read_bytes())
    assert msg.from_addr is not None, msg.from_problem
    assert msg.subject == expected.subject
    assert (msg.from_addr.email, msg.from_addr.name) == (expected.email, expected.name)
    if expected.phrase:
        assert expected.phrase in msg.text
    else:
        assert msg.text == ""
    assert tuple(a.filename for a in msg.attachments) == expected.attachments
    for text in (msg.subject, msg.from_addr.name, msg.text):
        assert "\ufffd" not in text
        assert unicodedata.is_normalized("NFC", text)


def test_decomposed_hangul_from_a_mac_is_found_by_a_search_for_the_word() -> None:
    raw = (CLIENTS / "apple-mail-mac.eml").read_bytes()
    msg = parse(raw)
    assert "로그인" in msg.subject
    assert "로그인" in msg.attachments[0].filename
    as_written = str(message_from_bytes(raw, policy=default)["Subject"])
    assert "로그인" not in as_written  # the fixture itself is decomposed


def test_flowed_text_keeps_stuffed_lines_quotes_and_the_signature_apart() -> None:
    msg = parse((CLIENTS / "thunderbird.eml").read_bytes())
    assert "\nFrom the logs: the 401 comes with an empty body." in msg.text
    assert msg.text.endswith("-- \n강도윤 / 개발팀")
    assert "개발팀" not in msg.new_text


def test_what_cannot_be_read_is_left_out_not_guessed() -> None:
    assert parse((CLIENTS / "malformed-date.eml").read_bytes()).date is None
    msg = parse((CLIENTS / "malformed-bare-cr.eml").read_bytes())
    assert [a.email for a in msg.to] == ["support@example.com"]
    assert msg.message_id == "bare-cr-0502@acme.co.kr"
    assert not re.search(r"(?m)^(To|Date|Message-ID):", msg.text)
