"""Signed tokens: the status-page key in customers' mail, the download signature of an
attachment on that page, the status site's form token and engineers' reply addresses.

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


def status_link(base_url: str, secret: str, tracking: str) -> str:
    """The customer's status link of ``tracking``, with its signed key."""
    return f"{base_url.rstrip('/')}/t/{tracking}?k={status_token(secret, tracking)}"


def rate_link(base_url: str, secret: str, tracking: str, rating: str) -> str:
    """The one-click satisfaction link of ``tracking`` (``rating``: good or bad), signed
    with the status-page key: it opens a confirmation page, never records by itself."""
    key = status_token(secret, tracking)
    return f"{base_url.rstrip('/')}/t/{tracking}/rate?k={key}&r={rating}"


def verify_status_token(secret: str, tracking: str, token: str) -> bool:
    """True when ``token`` is the status token of ``tracking`` (constant-time compare)."""
    return _same(status_token(secret, tracking), token)


def attachment_signature(secret: str, tracking: str, attachment_id: int) -> str:
    """The ``s`` parameter of an attachment's download link on a ticket's status page."""
    return _b32(_mac(secret, "attachment", tracking, str(attachment_id))[:16])


def verify_attachment_signature(
    secret: str, tracking: str, attachment_id: int, signature: str
) -> bool:
    """True when ``signature`` signs this attachment of ``tracking`` (constant-time)."""
    return _same(attachment_signature(secret, tracking, attachment_id), signature)


def form_token(secret: str, nonce: str) -> str:
    """The hidden field of a form, bound to the random ``nonce`` of the visitor's cookie
    (a signed double-submit token: a cross-site page can neither read nor forge it)."""
    return _b32(_mac(secret, "form", nonce)[:16])


def verify_form_token(secret: str, nonce: str, token: str) -> bool:
    """True when ``token`` was issued for the cookie ``nonce`` (constant-time compare)."""
    return _same(form_token(secret, nonce), token)


def reply_token(secret: str, engineer: str, tracking: str, expires: int) -> str:
    """The ``+tag`` of an engineer's signed reply address: expiry (unix days) and MAC."""
    mac = _b32(_mac(secret, "reply", engineer.lower(), tracking, str(expires))[:10])
    return f"{tracking.lower().replace('-', '')}.{expires}.{mac}"


def verify_reply_token(secret: str, engineer: str, tracking: str, token: str, today: int) -> bool:
    """True when ``token`` was issued to ``engineer`` for ``tracking`` and is unexpired."""
    _, _, rest = token.partition(".")
    expires_text, _, _ = rest.partition(".")
    if not (expires_text.isascii() and expires_text.isdigit()) or int(expires_text) < today:
        return False
    expected = reply_token(secret, engineer, tracking, int(expires_text))
    return _same(expected, token)


def csrf_token(secret: str, session_id: str) -> str:
    """The CSRF token of a staff session (forms' hidden field, the ``X-CSRF-Token`` header):
    bound to the session, so it changes at every sign-in and dies with the session."""
    return _b32(_mac(secret, "csrf", session_id)[:16])


def verify_csrf_token(secret: str, session_id: str, token: str) -> bool:
    """True when ``token`` is the CSRF token of ``session_id`` (constant-time compare)."""
    return _same(csrf_token(secret, session_id), token)


def secret_digest(secret: str) -> str:
    """What the database keeps of a sign-in link, session id or API token: its SHA-256."""
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()
