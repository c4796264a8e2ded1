"""The status site's one form that changes something ("mail me my link"), protected from
cross-site posts: a signed double-submit token, and the browser's own word on where the
post came from (``Sec-Fetch-Site``, ``Origin``) wherever it gives one.

The visitor's cookie holds a random nonce; the form's hidden field holds an HMAC of it
under ``[web].secret_key``. Another site can make a browser post the form, but can neither
read the cookie nor compute the field. ``Origin: null`` is no evidence either way: browsers
send it on every post from a page served with ``Referrer-Policy: no-referrer``, ours too.
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Callable
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from ticketd.routing.links import form_token, verify_form_token

COOKIE = "ticketd_form"
FIELD = "form_token"
_NONCE = re.compile(r"[a-z2-7]{26}")
_SAME_SITE = frozenset({"same-origin", "none"})


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def from_own_site(request: Request, origin: str) -> bool:
    """False when the browser says the request comes from another site: cross-site fetch
    metadata, or an ``Origin`` (other than ``null``) that is neither ``origin`` nor ours."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site.lower() not in _SAME_SITE:
        return False
    given = request.headers.get("origin")
    own = {origin, _origin(str(request.base_url))}
    return given is None or given == "null" or given.lower() in own


class FormGuard:
    """Issues form tokens bound to a cookie and checks posted forms."""

    def __init__(
        self,
        secret: str,
        base_url: str,
        token_bytes: Callable[[int], bytes] = secrets.token_bytes,
    ) -> None:
        self.secret = secret
        self.origin = _origin(base_url)
        self.secure = self.origin.startswith("https://")
        self.token_bytes = token_bytes

    def nonce(self, request: Request) -> tuple[str, bool]:
        """The visitor's nonce, and whether it is new (and must be set as the cookie)."""
        found = request.cookies.get(COOKIE, "")
        if _NONCE.fullmatch(found):
            return found, False
        fresh = base64.b32encode(self.token_bytes(16)).decode("ascii").rstrip("=").lower()
        return fresh, True

    def token(self, nonce: str) -> str:
        """The hidden field's value for a visitor with ``nonce``."""
        return form_token(self.secret, nonce)

    def remember(self, response: Response, nonce: str) -> None:
        """Set the visitor's cookie (for this browser session, never sent cross-site)."""
        response.set_cookie(
            COOKIE, nonce, path="/", secure=self.secure, httponly=True, samesite="strict"
        )

    def allows(self, request: Request, token: str) -> bool:
        """True when the post comes from our own pages: no cross-site fetch metadata or
        foreign ``Origin``, and a token that matches the cookie (constant-time)."""
        if not from_own_site(request, self.origin):
            return False
        nonce = request.cookies.get(COOKIE, "")
        return bool(_NONCE.fullmatch(nonce)) and verify_form_token(self.secret, nonce, token)
