"""The inbound SMTP listener (aiosmtpd): only the support address, durable before 250.

Recipients other than the support address (and its ``+tag`` forms) are refused at RCPT,
so the listener is never an open relay. DATA is answered 250 only after ``store`` has
committed the raw message; 451 if storing failed, so the sender retries.

Sessions are admitted and timed by ``ListenerSettings`` (``mail/smtp_guard.py``), so the
listener cannot be starved; mail from a peer in ``trusted_relays`` is marked so that its
Authentication-Results headers are believed (from anyone else, its sender wrote them).
SMTPUTF8 is offered and honoured: UTF-8 envelope addresses and headers (RFC 6531/6532) are
stored as received.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from ticketd.mail.message import RawMessage, Source
from ticketd.mail.smtp_guard import (
    IDLE_TIMEOUT,
    SESSION_TOO_LONG,
    ListenerSettings,
    PeerKey,
    Sessions,
    peer_key,
)

log = logging.getLogger(__name__)

OK_QUEUED = "250 2.0.0 OK: queued"
OK_RECIPIENT = "250 2.1.5 OK"
UNKNOWN_RECIPIENT = "550 5.1.1 No such recipient here"
TEMPORARY_FAILURE = "451 4.3.0 Temporary failure storing the message; try again later"
MAX_LINE_BYTES = 64 * 1024


def is_support_recipient(address: str, support_address: str) -> bool:
    """``support@domain`` or ``support+anything@domain`` (local part and domain
    compared case-insensitively)."""
    local, _, domain = address.strip("<> ").rpartition("@")
    s_local, _, s_domain = support_address.rpartition("@")
    return (
        bool(local)
        and domain.lower() == s_domain.lower()
        and local.split("+", 1)[0].lower() == s_local.lower()
    )


class InboundSMTPHandler:
    """aiosmtpd handler: RCPT filter and durable DATA."""

    def __init__(
        self,
        support_address: str,
        store: Callable[[RawMessage], None],
        *,
        settings: ListenerSettings,
        clock: Callable[[], datetime],
    ) -> None:
        self.support_address = support_address
        self.store = store
        self.settings = settings
        self.clock = clock

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if not is_support_recipient(address, self.support_address):
            return UNKNOWN_RECIPIENT
        envelope.rcpt_tos.append(address)
        return OK_RECIPIENT

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or envelope.content or b""
        if isinstance(data, str):
            data = data.encode("utf-8", errors="surrogateescape")
        raw = RawMessage(
            data=bytes(data),
            source=Source.SMTP,
            received_at=self.clock(),
            envelope_from=envelope.mail_from,
            envelope_to=tuple(envelope.rcpt_tos),
            authres_trusted=self.settings.trusts(session.peer),
        )
        try:
            await asyncio.get_running_loop().run_in_executor(None, self.store, raw)
        except Exception:
            log.exception("could not store a message from %s", envelope.mail_from)
            return TEMPORARY_FAILURE
        return OK_QUEUED


class GuardedSMTP(SMTP):
    """aiosmtpd's server within the session limits: over them a connection is answered
    421 and closed; a session is closed with 421 when it sends nothing for
    ``timeout_seconds`` or has lasted ``max_session_seconds``."""

    line_length_limit = MAX_LINE_BYTES
    """Real mail has long lines (a 10,000-character Message-ID, unfolded HTML); DATA as a
    whole stays bounded by ``data_size_limit``."""

    def __init__(self, handler: InboundSMTPHandler, sessions: Sessions) -> None:
        settings = handler.settings
        super().__init__(
            handler,
            data_size_limit=settings.max_message_size,
            enable_SMTPUTF8=True,
            decode_data=False,
            hostname="ticketd",
            # aiosmtpd's own timer restarts on commands only (a slow DATA would outlive
            # it); the timers below replace it, so it must never fire before them.
            timeout=settings.max_session_seconds + settings.timeout_seconds,
        )
        self.settings = settings
        self.sessions = sessions
        self.key: PeerKey | None = None
        self.idle: asyncio.TimerHandle | None = None
        self.expiry: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        peer = transport.get_extra_info("peername")
        key = peer_key(peer)
        refusal = self.sessions.refusal(key, self.settings.trusts(peer))
        if refusal is not None:
            self.sessions.refuse(peer, refusal)
            _close(transport, refusal)
            return
        self.sessions.open(key)
        self.key = key
        self.idle = self.loop.call_later(
            self.settings.timeout_seconds, _close, transport, IDLE_TIMEOUT
        )
        self.expiry = self.loop.call_later(
            self.settings.max_session_seconds, _close, transport, SESSION_TOO_LONG
        )
        super().connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self.idle is not None and self.transport is not None:
            self.idle.cancel()
            self.idle = self.loop.call_later(
                self.settings.timeout_seconds, _close, self.transport, IDLE_TIMEOUT
            )
        super().data_received(data)

    def eof_received(self) -> bool | None:
        """The client is done sending: close. aiosmtpd stops answering at EOF but keeps
        the socket half-open, which on uvloop (a client gone before the greeting was
        handled) would hold the session's place until the idle timer."""
        if self.key is not None:
            super().eof_received()
        return False

    def connection_lost(self, error: Exception | None) -> None:
        if self.key is None:
            return
        for timer in (self.idle, self.expiry):
            if timer is not None:
                timer.cancel()
        self.sessions.close(self.key)
        self.key = None
        super().connection_lost(error)


def _close(transport: asyncio.BaseTransport, reply: str) -> None:
    """Answer ``reply`` and close (what is buffered is still sent). A stream transport
    writes, whatever its class: uvloop's are not ``asyncio.WriteTransport`` subclasses."""
    if not transport.is_closing():
        cast(asyncio.WriteTransport, transport).write(reply.encode("ascii") + b"\r\n")
    transport.close()


class ListenerController(Controller):
    """A threaded controller (tests, tools) building the same SMTP server as the daemon."""

    def __init__(self, handler: InboundSMTPHandler, host: str, port: int, **kwargs: Any) -> None:
        super().__init__(handler, hostname=host, port=port, **kwargs)
        self.sessions = Sessions(handler.settings)

    def factory(self) -> SMTP:
        return GuardedSMTP(self.handler, self.sessions)


def make_controller(handler: InboundSMTPHandler, host: str, port: int) -> ListenerController:
    """A controller to ``start()``/``stop()`` in its own thread."""
    return ListenerController(handler, host, port, ready_timeout=10)


async def start_server(handler: InboundSMTPHandler, sock: socket.socket) -> asyncio.Server:
    """Serve SMTP on the bound ``sock`` inside the running loop (the daemon's)."""
    sessions = Sessions(handler.settings)
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: GuardedSMTP(handler, sessions), sock=sock)
