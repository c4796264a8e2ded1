"""OAuth2 login (XOAUTH2, OAUTHBEARER) against a real Dovecot and a real aiosmtpd relay,
both asking a loopback token server whether the access token is active."""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.request
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

from tests.builders import claim
from tests.fixtures.dovecot import DovecotServer
from tests.fixtures.oauth2_server import CLIENT_ID, OAuth2Server
from tests.netutil import free_port
from ticketd.mail.imap import ImapSettings, MailboxWatcher, PermanentImapError, watch
from ticketd.mail.message import OutgoingMessage
from ticketd.mail.oauth2 import OAuth2GrantError, OAuth2Settings, TokenSource
from ticketd.mail.transport import SmtpTransport

KEY = "mailbox.oauth2_refresh_token"


def source(
    server: OAuth2Server, refresh_token: str = "", *, mechanism: str = "xoauth2"
) -> TokenSource:
    return TokenSource(
        OAuth2Settings(
            token_url=server.token_url,
            client_id=CLIENT_ID,
            refresh_token=refresh_token or server.new_refresh_token(),
            mechanism=mechanism,
            key=KEY,
        )
    )


def watcher(dovecot: DovecotServer, tokens: TokenSource) -> MailboxWatcher:
    settings = ImapSettings(
        dovecot.host, dovecot.port, "none", dovecot.user, "", poll_interval=1, oauth2=tokens
    )
    return MailboxWatcher(settings)


def fetched(box: MailboxWatcher) -> int:
    try:
        return sum(len(batch.messages) for batch in box.poll(None))
    finally:
        box.close()


def test_access_token_is_kept_until_shortly_before_it_expires(oauth2_server: OAuth2Server) -> None:
    now = [0.0]
    tokens = TokenSource(source(oauth2_server).settings, clock=lambda: now[0])
    first = tokens.token()
    now[0] = 1.7  # expires_in 2 s: renewed 10 % (0.2 s) before
    assert tokens.token() == first and oauth2_server.token_requests == 1
    now[0] = 1.81
    assert tokens.token() != first and oauth2_server.token_requests == 2


@pytest.mark.dovecot
def test_watcher_logs_in_with_xoauth2_refreshes_on_expiry_and_after_revocation(
    dovecot_oauth2: DovecotServer, oauth2_server: OAuth2Server
) -> None:
    dovecot_oauth2.deliver(claim())
    box = watcher(dovecot_oauth2, source(oauth2_server))
    assert fetched(box) == 1
    assert fetched(box) == 1 and oauth2_server.token_requests == 1  # the cached token
    time.sleep(2.1)
    assert fetched(box) == 1 and oauth2_server.token_requests == 2  # expired: refreshed
    oauth2_server.revoke_access()
    assert fetched(box) == 1 and oauth2_server.token_requests == 3  # refused: refreshed once


@pytest.mark.dovecot
def test_watcher_logs_in_with_oauthbearer(
    dovecot_oauth2: DovecotServer, oauth2_server: OAuth2Server
) -> None:
    dovecot_oauth2.deliver(claim())
    assert fetched(watcher(dovecot_oauth2, source(oauth2_server, mechanism="oauthbearer"))) == 1


@pytest.mark.dovecot
def test_a_revoked_refresh_token_is_one_error_naming_the_key_and_the_watcher_waits(
    dovecot_oauth2: DovecotServer, oauth2_server: OAuth2Server
) -> None:
    refresh = oauth2_server.new_refresh_token()
    oauth2_server.revoke_refresh(refresh)
    box = watcher(dovecot_oauth2, source(oauth2_server, refresh))
    with pytest.raises(PermanentImapError) as raised:
        fetched(box)
    assert str(raised.value).startswith(f"{KEY}: the token endpoint refused it (invalid_grant)")
    stop = threading.Event()
    thread = threading.Thread(
        target=watch,
        args=(box, lambda: None, lambda batch: None, stop),
        kwargs={"start_now": False},
    )
    thread.start()
    deadline = time.monotonic() + 10
    while box.state.last_error is None and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(5)
    assert box.state.last_error is not None and KEY in box.state.last_error
    assert not box.state.connected


def test_a_refused_grant_raises_without_the_token(oauth2_server: OAuth2Server) -> None:
    refresh = oauth2_server.new_refresh_token()
    oauth2_server.revoke_refresh(refresh)
    with pytest.raises(OAuth2GrantError) as raised:
        source(oauth2_server, refresh).token()
    assert refresh not in str(raised.value) and KEY in str(raised.value)


class _OAuth2Relay:
    """An aiosmtpd handler accepting AUTH XOAUTH2 when the token server says active."""

    def __init__(self, server: OAuth2Server) -> None:
        self.server = server
        self.received: list[bytes] = []

    async def auth_XOAUTH2(self, smtp: SMTP, args: list[str]) -> AuthResult:
        import base64

        fields = base64.b64decode(args[1]).decode().split("\x01")
        token = next(f for f in fields if f.startswith("auth=")).removeprefix("auth=Bearer ")
        request = urllib.request.Request(
            self.server.introspect_url, f"token={token}".encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            active = json.loads(response.read()).get("active")
        if active:
            return AuthResult(success=True)
        await smtp.challenge_auth(json.dumps({"status": "401"}))
        return AuthResult(success=False, handled=False)  # 535

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if not session.authenticated:
            return "530 5.7.0 Authentication required"
        self.received.append(bytes(envelope.original_content or b""))
        return "250 OK"


@pytest.fixture
def oauth2_relay(oauth2_server: OAuth2Server) -> Iterator[tuple[_OAuth2Relay, int]]:
    handler = _OAuth2Relay(oauth2_server)
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, auth_require_tls=False)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def _mail() -> OutgoingMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "support@example.com", "a@b.example", "x"
    message["Message-ID"] = f"<{time.time_ns()}@example.com>"
    message.set_content("hello")
    return OutgoingMessage(
        message_id=message["Message-ID"],
        sender="support@example.com",
        recipients=("a@b.example",),
        data=message.as_bytes(),
    )


def test_smtp_relay_with_xoauth2_refreshes_a_revoked_token_once(
    oauth2_relay: tuple[_OAuth2Relay, int], oauth2_server: OAuth2Server
) -> None:
    relay, port = oauth2_relay
    transport = SmtpTransport(
        "127.0.0.1", port, username="support@example.com", oauth2=source(oauth2_server)
    )
    try:
        assert transport.send(_mail()).ok
        transport.close()
        oauth2_server.revoke_access()
        assert transport.send(_mail()).ok
    finally:
        transport.close()
    assert len(relay.received) == 2 and oauth2_server.token_requests == 2


def test_smtp_relay_unreachable_when_the_grant_is_refused(
    oauth2_relay: tuple[_OAuth2Relay, int], oauth2_server: OAuth2Server
) -> None:
    refresh = oauth2_server.new_refresh_token()
    oauth2_server.revoke_refresh(refresh)
    transport = SmtpTransport(
        "127.0.0.1", oauth2_relay[1], username="s", oauth2=source(oauth2_server, refresh)
    )
    result = transport.send(_mail())
    assert KEY in result.unreachable and not oauth2_relay[0].received


@pytest.mark.dovecot
def test_no_token_is_ever_logged(
    dovecot_oauth2: DovecotServer,
    oauth2_server: OAuth2Server,
    oauth2_relay: tuple[_OAuth2Relay, int],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    dovecot_oauth2.deliver(claim())
    refresh = oauth2_server.new_refresh_token()
    box = watcher(dovecot_oauth2, source(oauth2_server, refresh))
    fetched(box)
    oauth2_server.revoke_access()
    fetched(box)
    transport = SmtpTransport(
        "127.0.0.1", oauth2_relay[1], username="s", oauth2=source(oauth2_server, refresh)
    )
    transport.send(_mail())
    transport.close()
    secrets = [refresh, *oauth2_server.issued()]
    assert oauth2_server.token_requests == 3 and caplog.records
    assert not any(secret in caplog.text for secret in secrets)
    assert not any(secret in repr(box.settings) for secret in secrets)
