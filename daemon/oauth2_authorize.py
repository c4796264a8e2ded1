"""``ticketd oauth2 authorize``: the first refresh token, by the loopback redirect flow
or the device flow.

Loopback: the authorization URL (with PKCE, RFC 7636) is printed for the user to open in a
browser; a one-shot listener on 127.0.0.1 at a random port receives the redirect with the
code (RFC 8252), which is exchanged at the token endpoint for the refresh token. Device
(RFC 8628, ``--device``, for a server without a browser): a code to type at the provider's
page on any device, while ticketd polls the token endpoint.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer

from ticketd.mail.oauth2 import OAuth2Error, OAuth2Settings, grant_error, post_form

DONE_PAGE = b"<!doctype html><title>ticketd</title><p>Authorized. You can close this window."
FAILED_PAGE = b"<!doctype html><title>ticketd</title><p>Authorization failed: see the terminal."


@dataclass
class _Redirect:
    state: str
    params: dict[str, str] | None = None


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _listener(redirect: _Redirect) -> HTTPServer:
    """A loopback listener keeping the first request that carries our ``state``."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            """The request line holds the code: never logged."""

        def do_GET(self) -> None:
            params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
            ours = secrets.compare_digest(params.get("state", ""), redirect.state)
            if ours and redirect.params is None:
                redirect.params = params
            page = DONE_PAGE if ours and "code" in params else FAILED_PAGE
            self.send_response(200 if ours else 400)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

    return HTTPServer(("127.0.0.1", 0), Handler)


def authorize(
    settings: OAuth2Settings, show: Callable[[str], None], *, timeout: float = 300.0
) -> str:
    """Run the loopback flow; ``show`` tells the user the URL to open. Returns the
    refresh token; raises ``OAuth2Error`` on refusal or when nobody answers in time."""
    if not settings.authorize_url:
        raise OAuth2Error("no authorization URL: set oauth2_authorize_url (or a provider)")
    verifier, challenge = _pkce()
    redirect = _Redirect(secrets.token_urlsafe(24))
    server = _listener(redirect)
    redirect_uri = f"http://127.0.0.1:{server.server_address[1]}/"
    query = {
        "response_type": "code",
        "client_id": settings.client_id,
        "redirect_uri": redirect_uri,
        "scope": settings.scope,
        "state": redirect.state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "access_type": "offline",
        "prompt": "consent",
    }
    separator = "&" if "?" in settings.authorize_url else "?"
    show(f"{settings.authorize_url}{separator}{urllib.parse.urlencode(query)}")
    deadline = time.monotonic() + timeout
    try:
        while redirect.params is None and (left := deadline - time.monotonic()) > 0:
            server.timeout = left
            server.handle_request()
    finally:
        server.server_close()
    return _exchange(settings, redirect.params or {}, redirect_uri, verifier)


DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def authorize_device(
    settings: OAuth2Settings,
    show: Callable[[str], None],
    *,
    timeout: float = 300.0,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Run the device flow; ``show`` tells the user where to go and the code to type."""
    if not settings.device_url:
        raise OAuth2Error("no device authorization URL: set oauth2_device_url (or a provider)")
    form = _client({"client_id": settings.client_id, "scope": settings.scope}, settings)
    status, answer = post_form(settings.device_url, form, settings.timeout)
    device_code = answer.get("device_code")
    if status != 200 or not isinstance(device_code, str):
        raise grant_error("oauth2_client_id", settings.device_url, status, answer)
    where = answer.get("verification_uri") or answer.get("verification_url")
    show(f"{where}  code: {answer.get('user_code')}")
    interval = _number(answer.get("interval"), 5.0)
    deadline = time.monotonic() + min(timeout, _number(answer.get("expires_in"), timeout))
    poll = _client({"grant_type": DEVICE_GRANT, "device_code": device_code}, settings)
    while time.monotonic() < deadline:
        sleep(interval)
        status, answer = post_form(settings.token_url, poll, settings.timeout)
        error = answer.get("error")
        if error == "slow_down":
            interval += 5
        elif error != "authorization_pending":
            return _refresh_token(settings, status, answer)
    raise OAuth2Error("nobody entered the code in time")


def _number(value: object, default: float) -> float:
    return float(value) if isinstance(value, int | float) and value > 0 else default


def _client(form: dict[str, str], settings: OAuth2Settings) -> dict[str, str]:
    """``form`` with the client id and, when there is one, the client secret."""
    form["client_id"] = settings.client_id
    if settings.client_secret:
        form["client_secret"] = settings.client_secret
    return form


def _exchange(
    settings: OAuth2Settings, params: dict[str, str], redirect_uri: str, verifier: str
) -> str:
    if "code" not in params:
        problem = params.get("error_description") or params.get("error") or "no answer"
        raise OAuth2Error(f"authorization refused: {problem}")
    form = {
        "grant_type": "authorization_code",
        "code": params["code"],
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
    }
    status, answer = post_form(settings.token_url, _client(form, settings), settings.timeout)
    return _refresh_token(settings, status, answer)


def _refresh_token(settings: OAuth2Settings, status: int, answer: dict[str, object]) -> str:
    """The refresh token of a successful grant, or why there is none."""
    token = answer.get("refresh_token")
    if status != 200 or not isinstance(token, str) or not token:
        if status == 200:
            raise OAuth2Error("no refresh token issued (is offline access granted?)")
        raise grant_error("authorization", settings.token_url, status, answer)
    return token
