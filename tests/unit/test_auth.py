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


def test_aligned_pass_and_parent_domain() -> None:
    assert dkim_aligned_pass([header()], TRUSTED, "example.com").ok
    assert dkim_aligned_pass([header()], TRUSTED, "mail.example.com").ok
    assert not dkim_aligned_pass([header(domain="mail.example.com")], TRUSTED, "example.com").ok


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


def test_either_way_authenticates_and_envelope_counts() -> None:
    msg = message(from_addr=Address("alice@example.com"), authentication_results=(header(),))
    kwargs = {
        "engineer": "alice@example.com",
        "tracking": "SUP-0000-001Y",
        "trusted_authserv_ids": TRUSTED,
        "support_address": "support@example.com",
        "secret": SECRET,
        "today": TODAY,
    }
    assert authenticate(msg, **kwargs).method == "dkim"  # type: ignore[arg-type]
    plain = message(from_addr=Address("alice@example.com"))
    assert not authenticate(plain, **kwargs).ok  # type: ignore[arg-type]
    via_envelope = authenticate(
        plain,
        envelope_to=(f"support+{token()}@example.com",),
        **kwargs,  # type: ignore[arg-type]
    )
    assert via_envelope.ok and via_envelope.method == "reply-address"
