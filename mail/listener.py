"""The inbound SMTP listener (aiosmtpd): only the support address, durable before 250.

Recipients other than the support address (and its ``+tag`` forms) are refused at RCPT,
so the listener is never an open relay. DATA is answered 250 only after ``store`` has
committed the raw message; 451 if storing failed, so the sender retries. SMTPUTF8 is
offered and honoured: UTF-8 envelope addresses and headers (RFC 6531/6532) are stored as
received.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
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
        max_message_size: int,
        clock: Callable[[], datetime],
    ) -> None:
        self.support_address = support_address
        self.store = store
        self.max_message_size = max_message_size
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
        )
        try:
            await asyncio.get_running_loop().run_in_executor(None, self.store, raw)
        except Exception:
            log.exception("could not store a message from %s", envelope.mail_from)
            return TEMPORARY_FAILURE
        return OK_QUEUED


class _LongLinesSMTP(SMTP):
    """aiosmtpd's server taking the long lines real mail has (a 10,000-character
    Message-ID, unfolded HTML) instead of refusing the message; DATA as a whole stays
    bounded by ``data_size_limit``."""

    line_length_limit = MAX_LINE_BYTES


def _smtp_factory(handler: InboundSMTPHandler, max_message_size: int) -> SMTP:
    return _LongLinesSMTP(
        handler,
        data_size_limit=max_message_size,
        enable_SMTPUTF8=True,
        decode_data=False,
        hostname="ticketd",
    )


class ListenerController(Controller):
    """A threaded controller (tests, tools) building the same SMTP server as the daemon."""

    def __init__(self, handler: InboundSMTPHandler, host: str, port: int, **kwargs: Any) -> None:
        super().__init__(handler, hostname=host, port=port, **kwargs)
        self.max_message_size = handler.max_message_size

    def factory(self) -> SMTP:
        return _smtp_factory(self.handler, self.max_message_size)


def make_controller(handler: InboundSMTPHandler, host: str, port: int) -> ListenerController:
    """A controller to ``start()``/``stop()`` in its own thread."""
    return ListenerController(handler, host, port, ready_timeout=10)


async def start_server(
    handler: InboundSMTPHandler, host: str, port: int, *, max_message_size: int
) -> asyncio.Server:
    """Serve SMTP inside the running loop (the daemon's)."""
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: _smtp_factory(handler, max_message_size), host=host, port=port
    )
