"""The benchmark corpus (bench/corpus.py): deterministic, truthful, parseable and realistic."""

from __future__ import annotations

import json
import mailbox
import statistics
from collections import Counter
from dataclasses import asdict
from datetime import timedelta
from email import message_from_bytes, policy
from email.header import decode_header
from email.message import EmailMessage
from email.parser import BytesParser
from itertools import pairwise
from pathlib import Path

import pytest

from bench.corpus import (
    CORPUS_NAMES,
    MIX,
    TRUTH_NAME,
    CorpusMessage,
    Format,
    generate,
    write_corpus,
)

_PARSER = BytesParser(policy=policy.default)
_N = 1000  # messages parsed; the cp949 test scans twice as many


@pytest.fixture(scope="module")
def long_corpus() -> list[CorpusMessage]:
    return list(generate(2 * _N, seed=3))


@pytest.fixture(scope="module")
def corpus(long_corpus: list[CorpusMessage]) -> list[CorpusMessage]:
    return long_corpus[:_N]


@pytest.fixture(scope="module")
def parsed(corpus: list[CorpusMessage]) -> list[EmailMessage]:
    return [_PARSER.parsebytes(m.data) for m in corpus]


def _content(msg: EmailMessage) -> tuple[bytes, ...]:
    """Every leaf part's decoded payload, in order."""
    return tuple(p.get_payload(decode=True) for p in msg.walk() if not p.is_multipart())


def _by_kind(
    corpus: list[CorpusMessage], parsed: list[EmailMessage], kind: str
) -> list[tuple[CorpusMessage, EmailMessage]]:
    return [(m, p) for m, p in zip(corpus, parsed, strict=True) if m.kind == kind]


def _claims(
    corpus: list[CorpusMessage], parsed: list[EmailMessage]
) -> dict[int | None, EmailMessage]:
    return {m.claim_id: p for m, p in _by_kind(corpus, parsed, "claim")}


def test_same_seed_gives_the_same_stream() -> None:
    first = list(generate(150, seed=7))
    assert first == list(generate(150, seed=7))
    assert first[:50] == list(generate(50, seed=7))
    assert first != list(generate(150, seed=8))


@pytest.mark.parametrize("fmt", list(CORPUS_NAMES))
def test_write_corpus_stores_every_message_in_order_with_its_truth(
    tmp_path: Path, fmt: Format
) -> None:
    truth = write_corpus(150, tmp_path, fmt, seed=5)
    expected = [m.data for m in generate(150, seed=5)]
    target = tmp_path / CORPUS_NAMES[fmt]
    if fmt == "mbox":
        box = mailbox.mbox(target, create=False)
        stored = [box.get_bytes(key) for key in box.iterkeys()]
        box.close()
        expected = [data.replace(b"\nFrom ", b"\n>From ") for data in expected]
        assert any(b"\n>From " in data for data in stored)
    elif fmt == "maildir":
        assert len(mailbox.Maildir(target, create=False)) == 150
        files = sorted((target / "new").iterdir())
        stored = [f.read_bytes() for f in files]
        mtimes = [f.stat().st_mtime for f in files]
        assert mtimes == sorted(mtimes)
    else:
        stored = [f.read_bytes() for f in sorted(target.glob("*.eml"))]
    assert stored == expected
    assert truth.messages == 150 == sum(truth.by_kind.values())
    assert truth.claims == truth.by_kind["claim"]
    assert json.loads((tmp_path / TRUTH_NAME).read_text()) == asdict(truth)
    with pytest.raises(FileExistsError):
        write_corpus(1, tmp_path, fmt)


def test_the_mix_is_roughly_as_designed(corpus: list[CorpusMessage]) -> None:
    counts = Counter(m.kind for m in corpus)
    for kind, percent in MIX.items():
        assert abs(100 * counts[kind] / _N - percent) < 3, kind
    claim_ids = [m.claim_id for m in corpus if m.kind == "claim"]
    assert claim_ids == list(range(1, len(claim_ids) + 1))


def test_every_message_parses_with_the_expected_headers(
    corpus: list[CorpusMessage], parsed: list[EmailMessage]
) -> None:
    seen: dict[str, bytes] = {}
    for message, msg in zip(corpus, parsed, strict=True):
        assert [d for part in msg.walk() for d in part.defects] == []
        for name in ("From", "To", "Subject", "Date", "Message-ID", "MIME-Version"):
            assert msg[name] is not None, name
        assert msg["To"].addresses[0].addr_spec == "support@example.com"
        assert msg["Date"].datetime.tzinfo is not None
        message_id = str(msg["Message-ID"])
        if message.kind == "copy":
            assert seen[message_id] == message.data
        else:
            assert message_id not in seen
            seen[message_id] = message.data


def test_dates_increase_and_sizes_are_realistic(
    corpus: list[CorpusMessage], parsed: list[EmailMessage]
) -> None:
    dates = [p["Date"].datetime for m, p in zip(corpus, parsed, strict=True) if m.kind != "copy"]
    assert all(a < b for a, b in pairwise(dates))
    sizes = [len(m.data) for m in corpus]
    assert 2_000 <= statistics.median(sizes) <= 20_000
    assert sum(2_000 <= s <= 20_000 for s in sizes) > 0.7 * _N
    assert 60_000 < max(sizes) < 250_000


def test_a_resend_repeats_a_claim_of_the_last_24_hours_under_a_new_message_id(
    corpus: list[CorpusMessage], parsed: list[EmailMessage]
) -> None:
    claims = _claims(corpus, parsed)
    resends = _by_kind(corpus, parsed, "resend")
    assert resends
    for message, resend in resends:
        original = claims[message.claim_id]
        assert resend["Message-ID"] != original["Message-ID"]
        assert resend["From"] == original["From"]
        assert resend["Subject"] == original["Subject"]
        assert _content(resend) == _content(original)
        age = resend["Date"].datetime - original["Date"].datetime
        assert timedelta(0) < age < timedelta(hours=24)


def test_no_two_claims_share_sender_subject_and_body(
    corpus: list[CorpusMessage], parsed: list[EmailMessage]
) -> None:
    claims = _claims(corpus, parsed).values()
    assert len({(c["From"], c["Subject"], _content(c)[0]) for c in claims}) == len(claims)


def test_replies_thread_to_the_customers_own_messages(
    corpus: list[CorpusMessage], parsed: list[EmailMessage]
) -> None:
    claims = _claims(corpus, parsed)
    earlier: dict[int | None, set[str]] = {}
    for message, msg in zip(corpus, parsed, strict=True):
        if message.kind in ("reply", "reply_refs"):
            original = claims[message.claim_id]
            references = str(msg["References"]).split()
            assert references[0] == original["Message-ID"]
            assert set(references) <= earlier[message.claim_id]
            assert msg["From"] == original["From"]
            if message.kind == "reply":
                assert msg["In-Reply-To"] == references[-1]
                assert msg["Subject"].lower().startswith("re: ")
            else:
                assert msg["In-Reply-To"] is None
                assert original["Subject"] not in msg["Subject"]
        if message.kind in ("claim", "reply", "reply_refs"):
            earlier.setdefault(message.claim_id, set()).add(str(msg["Message-ID"]))


def test_automatic_mail_is_marked_as_such(
    corpus: list[CorpusMessage], parsed: list[EmailMessage]
) -> None:
    claims = _claims(corpus, parsed)
    for _, msg in _by_kind(corpus, parsed, "auto_reply"):
        assert msg["Auto-Submitted"] == "auto-replied"
        assert msg["In-Reply-To"] is None or msg["In-Reply-To"].startswith("<ack-")
    for message, msg in _by_kind(corpus, parsed, "bounce"):
        assert msg.get_content_type() == "multipart/report"
        assert msg["Content-Type"].params["report-type"] == "delivery-status"
        assert msg["From"].addresses[0].username == "MAILER-DAEMON"
        _, status, returned = msg.iter_parts()
        assert status.get_content_type() == "message/delivery-status"
        assert returned.get_content_type() in ("message/rfc822", "text/rfc822-headers")
        if returned.get_content_type() == "message/rfc822":
            original = returned.get_payload(0)
        else:
            original = _PARSER.parsebytes(returned.get_payload(decode=True))
        if message.claim_id is None:
            assert original["Message-ID"].startswith("<ack-")
        else:
            assert original["Message-ID"] == claims[message.claim_id]["Message-ID"]
    for _, msg in _by_kind(corpus, parsed, "bulk"):
        assert msg["Precedence"] == "bulk"
        assert msg["List-Id"]
        assert msg["From"].addresses[0].username in ("noreply", "no-reply")


def test_charsets_encodings_layouts_and_attachments_are_all_there(
    corpus: list[CorpusMessage], parsed: list[EmailMessage]
) -> None:
    leaves = [p for msg in parsed for p in msg.walk() if not p.is_multipart()]
    text = {(p.get_content_charset(), p["Content-Transfer-Encoding"]) for p in leaves}
    assert {("utf-8", "base64"), ("utf-8", "quoted-printable")} <= text
    assert {c for c, _ in text} >= {"euc-kr", "ks_c_5601-1987"}
    assert any(m.get_content_type() == "text/html" for m in parsed)
    assert any(m.get_content_type() == "multipart/alternative" for m in parsed)
    assert {"application/pdf", "image/png"} <= {p.get_content_type() for p in leaves}
    assert {"screenshot.png", "오류화면.png"} <= {p.get_filename() for p in leaves}
    for rfc2231 in (b"filename*=UTF-8''%", b"filename*=euc-kr''%", b"filename*0*=UTF-8''%"):
        assert any(rfc2231 in m.data for m in corpus), rfc2231


def test_outlook_subjects_carry_cp949_only_syllables(long_corpus: list[CorpusMessage]) -> None:
    """ks_c_5601-1987 is really cp949: 똠, 햏 and 뷁 have no euc-kr code."""
    subjects = []
    for message in long_corpus:
        header = message.data.partition(b"\n\n")[0]
        if b"\nSubject: =?ks_c_5601-1987?B?" in header:
            raw = message_from_bytes(header)["Subject"]
            words = decode_header(raw)
            assert {charset for _, charset in words} == {"ks_c_5601-1987"}
            subjects.append("".join(data.decode("cp949") for data, _ in words))
    assert any(ch in subject for subject in subjects for ch in "똠햏뷁")
