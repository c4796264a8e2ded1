"""Signed tokens: the status-page key in customers' mail and engineers' reply addresses.

Pure HMAC-SHA256 over a purpose-tagged payload; comparison in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=").lower()


def _mac(secret: str, purpose: str, *parts: str) -> bytes:
    payload = "\x1f".join((purpose, *parts)).encode("utf-8")
    return hmac.new(secret.encode("utf-8"), payload, hashlib.sha256).digest()


def _same(expected: str, given: str) -> bool:
    """Constant-time equality that also accepts hostile (non-ASCII) input."""
    given_bytes = given.strip().lower().encode("utf-8", "replace")
    return hmac.compare_digest(expected.encode("ascii"), given_bytes)


def status_token(secret: str, tracking: str) -> str:
    """The ``k`` parameter of a ticket's status link: 26 base32 characters (130 bits)."""
    return _b32(_mac(secret, "status", tracking)[:16])


def verify_status_token(secret: str, tracking: str, token: str) -> bool:
    """True when ``token`` is the status token of ``tracking`` (constant-time compare)."""
    return _same(status_token(secret, tracking), token)


def reply_token(secret: str, engineer: str, tracking: str, expires: int) -> str:
    """The ``+tag`` of an engineer's signed reply address: expiry (unix days) and MAC."""
    mac = _b32(_mac(secret, "reply", engineer.lower(), tracking, str(expires))[:10])
    return f"{tracking.lower().replace('-', '')}.{expires}.{mac}"


def verify_reply_token(secret: str, engineer: str, tracking: str, token: str, today: int) -> bool:
    """True when ``token`` was issued to ``engineer`` for ``tracking`` and is unexpired."""
    _, _, rest = token.partition(".")
    expires_text, _, _ = rest.partition(".")
    if not expires_text.isdigit() or int(expires_text) < today:
        return False
    expected = reply_token(secret, engineer, tracking, int(expires_text))
    return _same(expected, token)
