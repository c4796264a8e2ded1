"""The SMTP listener on a real socket: support address only, durable before 250."""

from __future__ import annotations

import asyncio
import ipaddress
import smtplib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.builders import claim
from tests.netutil import SmtpSession, free_port
from ticketd.daemon import server_stack
from ticketd.mail.listener import InboundSMTPHandler, make_controller, start_server
from ticketd.mail.message import RawMessage
from ticketd.mail.smtp_guard import ListenerSettings


class Store:
    def __init__(self, delay: float = 0.0, fail: bool = False) -> None:
        self.delay, self.fail = delay, fail
        self.stored: list[RawMessage] = []
        self.finished_at: float | None = None
        self.lock = threading.Lock()

    def __call__(self, raw: RawMessage) -> None:
        time.sleep(self.delay)
        if self.fail:
            raise OSError("disk full")
        with self.lock:
            self.stored.append(raw)
            self.finished_at = time.monotonic()


def listener(store: Store, **settings: Any) -> Iterator[int]:
    handler = InboundSMTPHandler(
        "support@example.com",
        store,
        settings=ListenerSettings(**{"max_message_size": 100_000, **settings}),
        clock=lambda: datetime.now(UTC),
    )
    port = free_port()
    controller = make_controller(handler, "127.0.0.1", port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture
def store() -> Store:
    return Store(delay=0.3)


@pytest.fixture
def port(store: Store) -> Iterator[int]:
    yield from listener(store)


def test_support_address_and_tags_are_accepted_once_stored(store: Store, port: int) -> None:
    data = claim()
    with smtplib.SMTP("127.0.0.1", port) as client:
        client.sendmail(
            "kim@acme.co.kr", ["support@example.com", "Support+billing@EXAMPLE.com"], data
        )
        answered = time.monotonic()
    assert len(store.stored) == 1
    stored = store.stored[0].data.replace(b"\r\n", b"\n").rstrip(b"\n")
    assert stored == data.replace(b"\r\n", b"\n").rstrip(b"\n")
    assert store.stored[0].envelope_to == ("support@example.com", "Support+billing@EXAMPLE.com")
    assert store.finished_at is not None and store.finished_at <= answered


@pytest.mark.parametrize(
    "recipient", ["other@example.com", "support@elsewhere.org", "support@example.com.evil.org"]
)
def test_no_open_relay(port: int, recipient: str) -> None:
    with smtplib.SMTP("127.0.0.1", port) as client:
        client.ehlo()
        code, _ = client.docmd("MAIL FROM:<kim@acme.co.kr>")
        assert code == 250
        code, text = client.docmd(f"RCPT TO:<{recipient}>")
    assert code == 550 and b"5.1.1" in text


def test_oversize_message_is_refused(store: Store) -> None:
    for port in listener(store, max_message_size=2000):
        with (
            smtplib.SMTP("127.0.0.1", port) as client,
            pytest.raises((smtplib.SMTPDataError, smtplib.SMTPSenderRefused)) as caught,
        ):
            client.sendmail("kim@acme.co.kr", ["support@example.com"], claim(body="x" * 5000))
        assert caught.value.smtp_code == 552
    assert store.stored == []


def test_storage_failure_answers_451_so_the_sender_retries() -> None:
    failing = Store(fail=True)
    for port in listener(failing):
        with (
            smtplib.SMTP("127.0.0.1", port) as client,
            pytest.raises(smtplib.SMTPDataError) as caught,
        ):
            client.sendmail("kim@acme.co.kr", ["support@example.com"], claim())
        assert caught.value.smtp_code == 451


Connect = Callable[..., list[tuple[SmtpSession, bytes]]]


@pytest.fixture
def connect() -> Iterator[Connect]:
    """``connect(port, source, count)``: that many sessions and their greetings."""
    opened: list[SmtpSession] = []

    def open_sessions(
        port: int, source: str = "127.0.0.1", count: int = 1
    ) -> list[tuple[SmtpSession, bytes]]:
        sessions = [SmtpSession(port, source) for _ in range(count)]
        opened.extend(sessions)
        return [(s, s.reply()) for s in sessions]

    yield open_sessions
    for session in opened:
        session.close()


def test_trusted_relays_decide_whether_authentication_results_count(store: Store) -> None:
    relays = (ipaddress.ip_network("127.0.0.0/30"),)
    for port in listener(store, trusted_relays=relays):
        for source in ("127.0.0.2", "127.0.0.9"):
            with smtplib.SMTP("127.0.0.1", port, source_address=(source, 0)) as client:
                client.sendmail("alice@example.com", ["support@example.com"], claim())
    assert [raw.authres_trusted for raw in store.stored] == [True, False]


def test_sessions_past_the_limits_are_answered_421_and_closed(connect: Connect) -> None:
    for port in listener(Store(), max_sessions=4, max_sessions_per_peer=2):
        first = connect(port, "127.0.0.2", 3)
        assert [reply[:3] for _, reply in first] == [b"220", b"220", b"421"]
        assert b"from your address" in first[2][1] and first[2][0].reply() == b""
        second = connect(port, "127.0.0.3", 2)
        assert [reply[:3] for _, reply in second] == [b"220", b"220"]
        [(full, reply)] = connect(port, "127.0.0.4")
        assert reply.startswith(b"421 4.7.0") and b"Too many connections;" in reply
        assert full.reply() == b""
        first[0][0].close()
        deadline = time.monotonic() + 5
        while (reply := connect(port, "127.0.0.4")[0][1]).startswith(b"421"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert reply.startswith(b"220")


def test_trusted_relays_have_no_per_peer_limit(connect: Connect) -> None:
    relays = (ipaddress.ip_network("127.0.0.2"),)
    for port in listener(Store(), max_sessions_per_peer=1, trusted_relays=relays):
        assert [reply[:3] for _, reply in connect(port, "127.0.0.2", 3)] == [b"220"] * 3
        assert [reply[:3] for _, reply in connect(port, "127.0.0.3", 2)] == [b"220", b"421"]


def test_a_silent_session_is_closed_but_a_slow_steady_one_is_served(
    store: Store, connect: Connect
) -> None:
    for port in listener(store, timeout_seconds=0.5):
        [(silent, _), (steady, _)] = connect(port, count=2)
        for line in (
            "HELO c.example",
            "MAIL FROM:<kim@acme.co.kr>",
            "RCPT TO:<support@example.com>",
        ):
            assert steady.send(line).startswith(b"250")
        assert steady.send("DATA").startswith(b"354")
        started = time.monotonic()
        for line in claim().decode().splitlines():
            steady.sock.sendall(line.encode() + b"\r\n")
            time.sleep(0.1)
        assert time.monotonic() - started > 0.5
        assert steady.send(".").startswith(b"250")
        assert silent.reply().startswith(b"421 4.4.2") and silent.reply() == b""
    assert len(store.stored) == 1


def test_a_session_that_lasts_too_long_is_closed(connect: Connect) -> None:
    for port in listener(Store(), timeout_seconds=0.5, max_session_seconds=1.0):
        [(session, _)] = connect(port)
        started = time.monotonic()
        while (reply := session.send("NOOP")).startswith(b"250"):
            time.sleep(0.2)
        assert reply.startswith(b"421 4.4.2") and b"too long" in reply
        assert 0.9 < time.monotonic() - started < 3


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_a_client_gone_before_its_greeting_frees_its_place_at_once(loop: str) -> None:
    """A port probe (connect, close) waiting in the backlog is counted, then released as
    soon as its EOF is read, on either event loop: not only when the idle timer fires."""
    handler = InboundSMTPHandler(
        "support@example.com",
        Store(),
        settings=ListenerSettings(max_sessions=1, timeout_seconds=30),
        clock=lambda: datetime.now(UTC),
    )
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    socket.create_connection(("127.0.0.1", port), 5).close()

    async def greeting_after_the_probe() -> bytes:
        server = await start_server(handler, sock)
        await asyncio.sleep(0.3)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        line = await asyncio.wait_for(reader.readline(), 5)
        writer.close()
        server.close()
        return line

    with asyncio.Runner(loop_factory=server_stack.loop_factory(loop)) as runner:
        assert runner.run(greeting_after_the_probe()).startswith(b"220")
