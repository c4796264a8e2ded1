"""Outbound transports: SMTP (ssl/starttls/none, auth, verified TLS) and Maildir files.

A send says per recipient what happened, or that the relay could not be reached at all
(no session: connection, greeting, TLS or login failed), which is the relay's state and
not the mail's.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ticketd.mail.message import OutgoingMessage
from ticketd.mail.oauth2 import OAuth2Error, TokenSource

log = logging.getLogger(__name__)

NO_SMTPUTF8 = "relay does not support SMTPUTF8"


@dataclass(frozen=True)
class SendResult:
    """Per-recipient outcome: delivered, temporary failure (retry), permanent failure; or
    ``unreachable``: why no session with the relay could be opened (nothing was tried)."""

    delivered: tuple[str, ...] = ()
    temporary: dict[str, str] = field(default_factory=dict)
    permanent: dict[str, str] = field(default_factory=dict)
    unreachable: str = ""

    @property
    def ok(self) -> bool:
        return not self.temporary and not self.permanent and not self.unreachable

    @property
    def retry(self) -> bool:
        return bool(self.temporary)

    @property
    def failed_permanently(self) -> bool:
        return bool(self.permanent)


class Transport(Protocol):
    def send(self, msg: OutgoingMessage) -> SendResult:
        """Deliver one message; failures are returned, not raised."""

    def close(self) -> None:
        """Release the connection, if any."""


class SmtpTransport:
    """Submits over SMTP, keeping one connection open across sends."""

    def __init__(
        self,
        host: str,
        port: int,
        security: str = "none",
        *,
        username: str = "",
        password: str = "",
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
        oauth2: TokenSource | None = None,
    ) -> None:
        self.host, self.port, self.security = host, port, security
        self.username, self._password = username, password
        self.timeout = timeout
        self.ssl_context = ssl_context or ssl.create_default_context()
        self.local_hostname = local_hostname
        self.oauth2 = oauth2
        self._client: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        if self._client is not None:
            return self._client
        if self.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host,
                self.port,
                local_hostname=self.local_hostname,
                timeout=self.timeout,
                context=self.ssl_context,
            )
        else:
            client = smtplib.SMTP(
                self.host, self.port, local_hostname=self.local_hostname, timeout=self.timeout
            )
            if self.security == "starttls":
                client.starttls(context=self.ssl_context)
        try:
            if self.oauth2 is not None:
                _authenticate(client, self.username, self.oauth2)
            elif self.username:
                client.login(self.username, self._password)
        except Exception:
            client.close()  # refused: no session to keep
            raise
        self._client = client
        return client

    def send(self, msg: OutgoingMessage) -> SendResult:
        for attempt in range(2):
            try:
                client = self._connect()
            except (OSError, smtplib.SMTPException, OAuth2Error) as exc:
                self.close()
                return SendResult(unreachable=_describe(exc))
            try:
                return self._send_once(client, msg)
            except smtplib.SMTPServerDisconnected as exc:
                self.close()
                if attempt:
                    return _all(msg, temporary=f"disconnected: {exc}")
            except (OSError, smtplib.SMTPException) as exc:
                self.close()
                return _classify_exception(msg, exc)
        return _all(msg, temporary="disconnected")

    def _send_once(self, client: smtplib.SMTP, msg: OutgoingMessage) -> SendResult:
        options: list[str] = []
        if msg.needs_smtputf8:
            client.ehlo_or_helo_if_needed()
            if not client.has_extn("smtputf8"):
                return _all(msg, permanent=NO_SMTPUTF8)
            options.append("SMTPUTF8")
        try:
            refused = client.sendmail(
                msg.sender, list(msg.recipients), msg.data, mail_options=options
            )
        except smtplib.SMTPRecipientsRefused as exc:
            refused = exc.recipients
        temporary: dict[str, str] = {}
        permanent: dict[str, str] = {}
        for rcpt, (code, text) in refused.items():
            reason = f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
            (temporary if 400 <= code < 500 else permanent)[rcpt] = reason
        delivered = tuple(r for r in msg.recipients if r not in refused)
        return SendResult(delivered, temporary, permanent)

    def close(self) -> None:
        """Say QUIT and close the connection, if one is open."""
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.quit()
            with contextlib.suppress(Exception):
                self._client.close()
            self._client = None


def _authenticate(client: smtplib.SMTP, user: str, source: TokenSource) -> None:
    """AUTH XOAUTH2 or OAUTHBEARER; a refused access token is dropped and a fresh one
    tried once (it may have been revoked before it expired)."""
    client.ehlo_or_helo_if_needed()  # ``auth`` does not, and takes 503 for success
    token = _auth_once(client, user, source)
    if token:
        source.invalidate(token)
        log.info("SMTP refused the OAuth2 access token for %s; refreshing it", user)
        if _auth_once(client, user, source):
            raise smtplib.SMTPAuthenticationError(535, b"OAuth2 access token refused")


def _auth_once(client: smtplib.SMTP, user: str, source: TokenSource) -> str:
    """One AUTH attempt: the refused token, or ``""`` when accepted."""
    token, initial = source.sasl(user)

    def respond(challenge: bytes | None = None) -> str:
        return initial if challenge is None else ""  # after an error challenge: end it

    try:
        client.auth(source.mechanism.upper(), respond, initial_response_ok=True)
    except smtplib.SMTPAuthenticationError:
        return token
    return ""


def _classify_exception(msg: OutgoingMessage, exc: Exception) -> SendResult:
    """A failure inside this mail's transaction: 5xx is permanent, anything else temporary."""
    code = getattr(exc, "smtp_code", None)
    if isinstance(code, int) and 500 <= code < 600:
        return _all(msg, permanent=_describe(exc))
    return _all(msg, temporary=_describe(exc))


def _describe(exc: Exception) -> str:
    code = getattr(exc, "smtp_code", None)
    text = getattr(exc, "smtp_error", b"")
    detail = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    return f"{code} {detail}" if isinstance(code, int) else f"{type(exc).__name__}: {exc}"


def _all(msg: OutgoingMessage, *, temporary: str = "", permanent: str = "") -> SendResult:
    if permanent:
        return SendResult(permanent=dict.fromkeys(msg.recipients, permanent))
    return SendResult(temporary=dict.fromkeys(msg.recipients, temporary))


class MaildirTransport:
    """Writes each mail as one file in a Maildir, atomically; the name comes from the
    Message-ID, so sending the same mail twice leaves one file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        for sub in ("tmp", "new", "cur"):
            (self.path / sub).mkdir(parents=True, exist_ok=True)

    def filename(self, message_id: str) -> str:
        name = re.sub(r"[^A-Za-z0-9._-]", "_", message_id)
        if len(name) > 120:
            name = hashlib.sha256(message_id.encode()).hexdigest()
        return f"{name}.{socket.gethostname().replace('/', '_')}"

    def send(self, msg: OutgoingMessage) -> SendResult:
        name = self.filename(msg.message_id)
        tmp = self.path / "tmp" / name
        with open(tmp, "wb") as handle:
            handle.write(msg.data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path / "new" / name)
        return SendResult(delivered=msg.recipients)

    def close(self) -> None:
        """Nothing to release."""
