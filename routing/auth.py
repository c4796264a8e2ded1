"""Is this mail really from the engineer it claims? Two ways, per the contract:

- the topmost ``Authentication-Results`` header comes from a trusted server and reports
  ``dkim=pass`` for the From domain (or a parent of it); any header below it counts for
  nothing, since a sender can add such headers himself;
- or it was sent to the signed ``support+token@`` reply address that ticketd put in
  that engineer's notification about this ticket.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import authres

from ticketd.mail.message import InboundMessage
from ticketd.routing.links import verify_reply_token


@dataclass(frozen=True)
class AuthResult:
    ok: bool
    method: str
    reason: str


def _aligned(domain: str, from_domain: str) -> bool:
    domain, from_domain = domain.lower().strip("."), from_domain.lower().strip(".")
    return bool(domain) and (from_domain == domain or from_domain.endswith("." + domain))


def dkim_aligned_pass(
    headers: Sequence[str], trusted_authserv_ids: Sequence[str], from_domain: str
) -> AuthResult:
    """Check the topmost Authentication-Results header only."""
    if not headers:
        return AuthResult(False, "none", "no Authentication-Results header")
    try:
        parsed = authres.AuthenticationResultsHeader.parse_value(headers[0])
    except Exception:
        return AuthResult(False, "dkim", "unparseable Authentication-Results header")
    server = (parsed.authserv_id or "").lower()
    if server not in {t.lower() for t in trusted_authserv_ids}:
        return AuthResult(False, "dkim", f"Authentication-Results from untrusted server {server}")
    seen: list[str] = []
    for result in parsed.results:
        if str(result.method).lower() != "dkim":
            continue
        signer = ""
        for prop in result.properties:
            if prop.type == "header" and prop.name in ("d", "i"):
                signer = str(prop.value).rpartition("@")[2]
        outcome = str(result.result).lower()
        if outcome == "pass" and _aligned(signer, from_domain):
            return AuthResult(True, "dkim", f"dkim=pass for {signer} from {server}")
        seen.append(f"dkim={outcome} header.d={signer or '?'}")
    if not seen:
        return AuthResult(False, "dkim", f"no DKIM result from {server}")
    return AuthResult(False, "dkim", f"no aligned dkim=pass for {from_domain}: {'; '.join(seen)}")


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
        return AuthResult(False, "reply-address", "not sent to a signed reply address")
    if any(verify_reply_token(secret, engineer, tracking, t, today) for t in tokens):
        return AuthResult(True, "reply-address", "signed reply address")
    return AuthResult(False, "reply-address", "invalid or expired signed reply address")


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
) -> AuthResult:
    """Either way of authenticating; the reason says why when neither holds."""
    from_domain = msg.from_addr.domain if msg.from_addr else ""
    dkim = dkim_aligned_pass(msg.authentication_results, trusted_authserv_ids, from_domain)
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
    return AuthResult(False, "none", f"{dkim.reason}; {reply.reason}")
