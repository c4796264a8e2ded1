"""Engineer authentication: DKIM results from a trusted server, or a signed reply address."""

from __future__ import annotations

import pytest

from tests.unit.fakes import message
from ticketd.mail.message import Address
from ticketd.routing.auth import authenticate, dkim_aligned_pass, signed_reply_address
from ticketd.routing.links import reply_token

TRUSTED = ("mx.example.com",)
SECRET = "secret-0123456789abcdef"
TODAY = 20_000


def header(
    result: str = "pass", domain: str = "example.com", server: str = "mx.example.com"
) -> str:
    return f"{server}; dkim={result} header.d={domain} header.s=s1; spf=pass"


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ([], "no Authentication-Results"),
        ([header(server="mx.evil.example")], "untrusted server mx.evil.example"),
        ([header(result="fail")], "dkim=fail"),
        ([header(domain="evil.example")], "header.d=evil.example"),
        ([header(server="mx.evil.example", result="none"), header()], "untrusted"),
        ([header(result="fail"), header()], "dkim=fail"),
        (["garbage ;;; ="], "Authentication-Results"),
    ],
)
def test_forgeries_fail_with_a_reason(headers: list[str], reason: str) -> None:
    result = dkim_aligned_pass(headers, TRUSTED, "example.com")
    assert not result.ok and reason in result.reason


@pytest.mark.parametrize(
    ("signer", "from_domain", "aligned"),
    [
        ("example.com", "example.com", True),
        ("EXAMPLE.com.", "example.com", True),
        ("example.com", "mail.example.com", True),
        ("mail.example.com", "example.com", True),
        ("a.mail.example.com", "b.example.com", True),
        ("acme.co.kr", "acme.co.kr", True),
        ("mail.acme.co.kr", "acme.co.kr", True),
        ("mail.xn--vv4b11d.xn--3e0b707e", "예시.한국", True),
        ("com", "example.com", False),
        ("co.kr", "acme.co.kr", False),
        ("other.co.kr", "acme.co.kr", False),
        ("kr", "acme.co.kr", False),
        ("example.com.evil.org", "example.com", False),
        ("evil-example.com", "example.com", False),
        ("alice.github.io", "mallory.github.io", False),
        ("", "example.com", False),
        ("com", "com", False),
        ("bad..example.com", "example.com", False),
    ],
)
def test_alignment_is_by_organisational_domain(
    signer: str, from_domain: str, aligned: bool
) -> None:
    assert dkim_aligned_pass([header(domain=signer)], TRUSTED, from_domain).ok is aligned


@pytest.mark.parametrize(
    "result",
    [
        "mx.example.com; dkim=pass header.d=evil.example header.i=@example.com",
        "mx.example.com; dkim=pass header.d=evil.example header.i=alice@example.com",
        "mx.example.com; dkim=pass header.i=alice@example.com",
        "mx.example.com; dkim=pass header.d=com header.i=@example.com",
        "mx.example.com; dkim=pass header.d=example.com header.d=evil.example",
    ],
)
def test_header_d_alone_decides(result: str) -> None:
    assert not dkim_aligned_pass([result], TRUSTED, "example.com").ok


def test_header_i_cannot_spoil_an_aligned_header_d() -> None:
    result = "mx.example.com; dkim=pass header.d=example.com header.i=@evil.example"
    assert dkim_aligned_pass([result], TRUSTED, "example.com").ok


def test_one_aligned_pass_among_several_signatures_is_enough() -> None:
    result = "mx.example.com; dkim=pass header.d=mailer.example; dkim=pass header.d=example.com"
    assert dkim_aligned_pass([result], TRUSTED, "example.com").ok


def token(
    engineer: str = "alice@example.com", tracking: str = "SUP-0000-001Y", expires: int = TODAY + 5
) -> str:
    return reply_token(SECRET, engineer, tracking, expires)


@pytest.mark.parametrize(
    ("tag", "ok"),
    [
        (token(), True),
        (token(expires=TODAY - 1), False),
        (token()[:-1] + ("a" if token()[-1] != "a" else "b"), False),
        (token(engineer="bob@example.com"), False),
        (token(tracking="SUP-0000-002W"), False),
    ],
)
def test_signed_reply_address(tag: str, ok: bool) -> None:
    result = signed_reply_address(
        [f"support+{tag}@example.com"], "support@example.com", SECRET, "alice@example.com",
        "SUP-0000-001Y", TODAY,
    )  # fmt: skip
    assert result.ok is ok


KWARGS = {
    "engineer": "alice@example.com",
    "tracking": "SUP-0000-001Y",
    "trusted_authserv_ids": TRUSTED,
    "support_address": "support@example.com",
    "secret": SECRET,
    "today": TODAY,
}


def test_either_way_authenticates_and_envelope_counts() -> None:
    msg = message(from_addr=Address("alice@example.com"), authentication_results=(header(),))
    assert authenticate(msg, **KWARGS).method == "dkim"  # type: ignore[arg-type]
    plain = message(from_addr=Address("alice@example.com"))
    assert not authenticate(plain, **KWARGS).ok  # type: ignore[arg-type]
    via_envelope = authenticate(
        plain,
        envelope_to=(f"support+{token()}@example.com",),
        **KWARGS,  # type: ignore[arg-type]
    )
    assert via_envelope.ok and via_envelope.method == "reply-address"


def test_authentication_results_count_for_nothing_when_no_trusted_server_wrote_them() -> None:
    msg = message(from_addr=Address("alice@example.com"), authentication_results=(header(),))
    forged = authenticate(msg, authres_trusted=False, **KWARGS)  # type: ignore[arg-type]
    assert not forged.ok and "trusted_relays" in forged.reason
    replied = authenticate(
        msg,
        authres_trusted=False,
        envelope_to=(f"support+{token()}@example.com",),
        **KWARGS,  # type: ignore[arg-type]
    )
    assert replied.ok and replied.method == "reply-address"
