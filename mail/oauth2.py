"""OAuth2 access tokens for IMAP and SMTP (XOAUTH2, OAUTHBEARER), from a refresh token.

A ``TokenSource`` trades the refresh token at the token endpoint for an access token and
keeps it until shortly before it expires (60 s, or 10 % of a short lifetime); after an
authentication failure the caller ``invalidate``s it and asks once more. Tokens never
appear in logs, reprs or error messages.
"""

from __future__ import annotations

import json
import logging
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

MECHANISMS = ("xoauth2", "oauthbearer")
MARGIN_SECONDS = 60.0
MARGIN_SHARE = 0.1


@dataclass(frozen=True)
class Provider:
    """A provider's endpoints and default scopes (``{tenant}`` filled in for Microsoft)."""

    token_url: str
    authorize_url: str
    device_url: str
    imap_scope: str
    smtp_scope: str


PROVIDERS = {
    "google": Provider(
        "https://oauth2.googleapis.com/token",
        "https://accounts.google.com/o/oauth2/v2/auth",
        "https://oauth2.googleapis.com/device/code",
        "https://mail.google.com/",
        "https://mail.google.com/",
    ),
    "microsoft": Provider(
        "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
        "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize",
        "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/devicecode",
        "https://outlook.office.com/IMAP.AccessAsUser.All offline_access",
        "https://outlook.office.com/SMTP.Send offline_access",
    ),
}


class OAuth2Error(Exception):
    """The token endpoint could not be reached or answered badly: retry later."""


class OAuth2GrantError(OAuth2Error):
    """The token endpoint refused the grant (revoked or expired refresh token, wrong
    client): retrying will not help until the configuration changes."""


@dataclass(frozen=True)
class OAuth2Settings:
    """One account's OAuth2 client; ``key`` names the refresh token's config key."""

    token_url: str
    client_id: str
    refresh_token: str = field(repr=False)
    client_secret: str = field(default="", repr=False)
    scope: str = ""
    mechanism: str = "xoauth2"
    authorize_url: str = ""
    device_url: str = ""
    key: str = "oauth2_refresh_token"
    timeout: float = 30.0


def sasl_string(mechanism: str, user: str, token: str) -> str:
    """The initial client response of XOAUTH2 or OAUTHBEARER (RFC 7628)."""
    if mechanism == "oauthbearer":
        return f"n,a={user},\x01auth=Bearer {token}\x01\x01"
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


def post_form(
    url: str, form: dict[str, str], timeout: float, context: ssl.SSLContext | None = None
) -> tuple[int, dict[str, object]]:
    """POST ``form`` to a token endpoint; its status and JSON answer (``{}`` if none)."""
    data = urllib.parse.urlencode(form).encode()
    request = urllib.request.Request(
        url,
        data,
        {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read()
    except (OSError, ValueError) as exc:
        raise OAuth2Error(f"token endpoint {_origin(url)} unreachable: {exc}") from None
    try:
        answer = json.loads(body or b"{}")
    except ValueError:
        answer = {}
    return status, answer if isinstance(answer, dict) else {}


def grant_error(key: str, url: str, status: int, answer: dict[str, object]) -> OAuth2Error:
    """The error for a refused token request: a refused grant names ``key``."""
    code = str(answer.get("error", ""))
    if code in ("invalid_grant", "invalid_client", "unauthorized_client") or status in (400, 401):
        return OAuth2GrantError(
            f"{key}: the token endpoint refused it ({code or status}); "
            "get a new one with `ticketd oauth2 authorize`"
        )
    return OAuth2Error(f"token endpoint {_origin(url)} answered {status} {code}".rstrip())


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}{parts.path}"


class TokenSource:
    """Access tokens from a refresh token, cached until shortly before they expire;
    safe to share between threads."""

    def __init__(
        self,
        settings: OAuth2Settings,
        *,
        ssl_context: ssl.SSLContext | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.ssl_context = ssl_context
        self.clock = clock
        self._lock = threading.Lock()
        self._refresh_token = settings.refresh_token
        self._token = ""
        self._renew_at = 0.0

    @property
    def mechanism(self) -> str:
        return self.settings.mechanism

    def __repr__(self) -> str:
        return f"TokenSource({_origin(self.settings.token_url)!r})"

    def token(self) -> str:
        """A valid access token, refreshed if it is about to expire."""
        with self._lock:
            if not self._token or self.clock() >= self._renew_at:
                self._refresh()
            return self._token

    def invalidate(self, token: str) -> None:
        """The server refused ``token``: the next ``token()`` fetches a new one."""
        with self._lock:
            if token == self._token:
                self._token = ""

    def sasl(self, user: str) -> tuple[str, str]:
        """The token in hand and its SASL initial response for ``user``."""
        token = self.token()
        return token, sasl_string(self.mechanism, user, token)

    def _refresh(self) -> None:
        s = self.settings
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self._refresh_token,
            "client_id": s.client_id,
        }
        if s.client_secret:
            form["client_secret"] = s.client_secret
        if s.scope:
            form["scope"] = s.scope
        started = self.clock()
        status, answer = post_form(s.token_url, form, s.timeout, self.ssl_context)
        token = answer.get("access_token")
        if status != 200 or not isinstance(token, str) or not token:
            raise grant_error(s.key, s.token_url, status, answer)
        lifetime = _seconds(answer.get("expires_in"))
        self._token = token
        self._renew_at = started + lifetime - min(MARGIN_SECONDS, lifetime * MARGIN_SHARE)
        rotated = answer.get("refresh_token")
        if isinstance(rotated, str) and rotated and rotated != self._refresh_token:
            self._refresh_token = rotated
        log.info("OAuth2 access token refreshed for %s (valid %.0f s)", s.key, lifetime)


def _seconds(value: object) -> float:
    """``expires_in`` as seconds (an hour when missing or malformed, as providers issue)."""
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 3600.0
    return seconds if seconds > 0 else 3600.0
