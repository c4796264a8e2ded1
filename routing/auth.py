"""Is this mail really from the engineer it claims? Two ways, per the contract:

- the topmost ``Authentication-Results`` header comes from a trusted server and reports
  ``dkim=pass`` with a ``header.d`` aligned with the From domain: the same organisational
  domain by the Public Suffix List (``mail.example.com`` aligns with ``example.com``,
  ``other.co.kr`` never with ``acme.co.kr``, a bare suffix like ``com`` with nothing);
  any header below it counts for nothing, since a sender can add such headers himself,
  and none counts when the sender handed the mail straight to our SMTP listener;
- or it was sent to the signed ``support+token@`` reply address that ticketd put in
  that engineer's notification about this ticket.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import authres
from publicsuffixlist import PublicSuffixList

from ticketd.mail.message import InboundMessage
from ticketd.routing.links import verify_reply_token
from ticketd.routing.outcome_words import reason_words
from ticketd.routing.outcomes import OutcomeCode, Reason


@dataclass(frozen=True)
class AuthResult:
    """Whether the mail is authenticated, how, and why (each way's reason)."""

    ok: bool
    method: str
    why: tuple[Reason, ...]

    @classmethod
    def of(cls, ok: bool, method: str, code: OutcomeCode, **args: str) -> AuthResult:
        return cls(ok, method, (Reason.of(code, **args),))

    @property
    def reason(self) -> str:
        """The reasons in English, for the decision's hits and the logs."""
        return "; ".join(reason_words(why, "en") for why in self.why)


@functools.cache
def _suffixes() -> PublicSuffixList:
    """The Public Suffix List bundled with ``publicsuffixlist`` (read once, on first use)."""
    return PublicSuffixList()


def organizational_domain(domain: str) -> str | None:
    """The registrable domain (``mail.acme.co.kr`` → ``acme.co.kr``) in ASCII form; None
    for a public suffix (``com``, ``co.kr``) or a name that is not a domain."""
    name = domain.strip().lower().removesuffix(".")
    try:
        name = name.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    return _suffixes().privatesuffix(name)


def _aligned(signer: str, from_domain: str) -> bool:
    """Relaxed DKIM alignment (RFC 7489 3.1.1): the same organisational domain."""
    organization = organizational_domain(signer)
    return organization is not None and organization == organizational_domain(from_domain)


def dkim_aligned_pass(
    headers: Sequence[str], trusted_authserv_ids: Sequence[str], from_domain: str
) -> AuthResult:
    """Check the topmost Authentication-Results header only."""
    if not headers:
        return AuthResult.of(False, "none", OutcomeCode.NO_AUTH_RESULTS)
    try:
        parsed = authres.AuthenticationResultsHeader.parse_value(headers[0])
    except Exception:
        return AuthResult.of(False, "dkim", OutcomeCode.AUTH_UNPARSEABLE)
    server = (parsed.authserv_id or "").lower()
    if server not in {t.lower() for t in trusted_authserv_ids}:
        return AuthResult.of(False, "dkim", OutcomeCode.AUTH_UNTRUSTED, server=server)
    seen: list[str] = []
    for result in parsed.results:
        if str(result.method).lower() != "dkim":
            continue
        signers = [
            str(prop.value)
            for prop in result.properties
            if prop.type == "header" and prop.name == "d"
        ]
        signer = signers[0] if len(signers) == 1 else ""
        outcome = str(result.result).lower()
        if outcome == "pass" and _aligned(signer, from_domain):
            return AuthResult.of(True, "dkim", OutcomeCode.DKIM_PASS, signer=signer, server=server)
        seen.append(f"dkim={outcome} header.d={signer or '?'}")
    if not seen:
        return AuthResult.of(False, "dkim", OutcomeCode.NO_DKIM_RESULT, server=server)
    found = "; ".join(seen)
    return AuthResult.of(False, "dkim", OutcomeCode.NO_ALIGNED_DKIM, domain=from_domain, seen=found)


def signed_reply_address(
    recipients: Sequence[str],
    support_address: str,
    secret: str,
    engineer: str,
    tracking: str,
    today: int,
) -> AuthResult:
    """Look for ``support+token@domain`` among the recipients and verify its token."""
    local, _, domain = support_address.lower().rpartition("@")
    tokens = []
    for recipient in recipients:
        r_local, _, r_domain = recipient.lower().strip("<> ").rpartition("@")
        base, plus, tag = r_local.partition("+")
        if plus and base == local and r_domain == domain and tag:
            tokens.append(tag)
    if not tokens:
        return AuthResult.of(False, "reply-address", OutcomeCode.NOT_SIGNED_ADDRESS)
    if any(verify_reply_token(secret, engineer, tracking, t, today) for t in tokens):
        return AuthResult.of(True, "reply-address", OutcomeCode.SIGNED_ADDRESS)
    return AuthResult.of(False, "reply-address", OutcomeCode.BAD_SIGNED_ADDRESS)


def authenticate(
    msg: InboundMessage,
    *,
    engineer: str,
    tracking: str,
    trusted_authserv_ids: Sequence[str],
    support_address: str,
    secret: str,
    today: int,
    envelope_to: Sequence[str] = (),
    authres_trusted: bool = True,
) -> AuthResult:
    """Either way of authenticating; the reason says why when neither holds.
    ``authres_trusted`` False: no trusted server can have written the message's
    Authentication-Results (a client handed it straight to the listener), so only the
    signed reply address counts."""
    from_domain = msg.from_addr.domain if msg.from_addr else ""
    if authres_trusted:
        dkim = dkim_aligned_pass(msg.authentication_results, trusted_authserv_ids, from_domain)
    else:
        dkim = AuthResult.of(False, "dkim", OutcomeCode.AUTH_UNTRUSTED_PEER)
    if dkim.ok:
        return dkim
    recipients = [
        *envelope_to,
        *(a.email for a in (*msg.to, *msg.cc)),
        *msg.delivered_to,
    ]
    reply = signed_reply_address(recipients, support_address, secret, engineer, tracking, today)
    if reply.ok:
        return reply
    return AuthResult(False, "none", (*dkim.why, *reply.why))
