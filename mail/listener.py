"""The inbound SMTP listener (aiosmtpd): only the support address, durable before 250.

Recipients other than the support address (and its ``+tag`` forms) are refused at RCPT,
so the listener is never an open relay. DATA is answered 250 only after ``store`` has
committed the raw message; 451 if storing failed, so the sender retries.

The listener cannot be starved: past ``max_sessions`` open sessions, or
``max_sessions_per_peer`` from one address (an IPv6 peer counts by its /64; trusted relays
have no per-peer limit), a new connection is answered 421 and closed at once; a session
that sends nothing for ``timeout_seconds``, or lasts ``max_session_seconds``, is answered
421 and closed. Mail from a peer in ``trusted_relays`` is marked so that its
Authentication-Results headers are believed; from anyone else they were written by the
sender.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from ticketd.mail.message import RawMessage, Source

log = logging.getLogger(__name__)

OK_QUEUED = "250 2.0.0 OK: queued"
OK_RECIPIENT = "250 2.1.5 OK"
UNKNOWN_RECIPIENT = "550 5.1.1 No such recipient here"
TEMPORARY_FAILURE = "451 4.3.0 Temporary failure storing the message; try again later"
TOO_MANY_SESSIONS = "421 4.7.0 ticketd Too many connections; try again later"
TOO_MANY_FROM_PEER = "421 4.7.0 ticketd Too many connections from your address; try again later"
IDLE_TIMEOUT = "421 4.4.2 ticketd Idle too long; closing connection"
SESSION_TOO_LONG = "421 4.4.2 ticketd Session lasted too long; closing connection"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
PeerKey = ipaddress.IPv4Address | ipaddress.IPv6Network | str


@dataclass(frozen=True)
class ListenerSettings:
    """What the listener accepts: message size, open sessions (in total and per peer),
    how long a session may stay silent or last, and the peers trusted as relays."""

    max_message_size: int = 25 * 1024 * 1024
    max_sessions: int = 100
    max_sessions_per_peer: int = 20
    timeout_seconds: float = 60.0
    max_session_seconds: float = 600.0
    trusted_relays: tuple[Network, ...] = ()

    def trusts(self, peer: object) -> bool:
        """True when ``peer`` (a socket's peername) is one of the trusted relays."""
        address = peer_address(peer)
        return address is not None and any(address in net for net in self.trusted_relays)


def peer_address(peer: object) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address of a peername (an IPv4-mapped IPv6 address as IPv4); None if none."""
    if not isinstance(peer, tuple) or not peer or not isinstance(peer[0], str):
        return None
    try:
        address = ipaddress.ip_address(peer[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def peer_key(peer: object) -> PeerKey:
    """What the per-peer limit counts: the IPv4 address, or the IPv6 peer's /64."""
    address = peer_address(peer)
    if isinstance(address, ipaddress.IPv6Address):
        return ipaddress.IPv6Network((address, 64), strict=False)
    return address if address is not None else repr(peer)


class Sessions:
    """The open sessions of one server, in total and per peer. Only that server's event
    loop touches it."""

    def __init__(self, settings: ListenerSettings) -> None:
        self.settings = settings
        self.total = 0
        self.by_peer: Counter[PeerKey] = Counter()
        self.refusing = False

    def refusal(self, key: PeerKey, trusted: bool) -> str | None:
        """The 421 reply for one more session from ``key``, or None to admit it."""
        if self.total >= self.settings.max_sessions:
            return TOO_MANY_SESSIONS
        if not trusted and self.by_peer[key] >= self.settings.max_sessions_per_peer:
            return TOO_MANY_FROM_PEER
        return None

    def refuse(self, peer: object, reply: str) -> None:
        """Log a refusal: a warning when refusing starts, then quietly."""
        level = logging.INFO if self.refusing else logging.WARNING
        self.refusing = True
        log.log(level, "SMTP session from %s refused (%d open): %s", peer, self.total, reply)

    def open(self, key: PeerKey) -> None:
        self.total += 1
        self.by_peer[key] += 1

    def close(self, key: PeerKey) -> None:
        self.total -= 1
        self.by_peer[key] -= 1
        if self.by_peer[key] <= 0:
            del self.by_peer[key]
        self.refusing = False


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
        assert isinstance(transport, asyncio.Transport)
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
    """Answer ``reply`` and close (what is buffered is still sent)."""
    if isinstance(transport, asyncio.WriteTransport) and not transport.is_closing():
        transport.write(reply.encode("ascii") + b"\r\n")
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


async def start_server(handler: InboundSMTPHandler, host: str, port: int) -> asyncio.Server:
    """Serve SMTP inside the running loop (the daemon's)."""
    sessions = Sessions(handler.settings)
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: GuardedSMTP(handler, sessions), host=host, port=port)
