"""The SMTP listener on a real socket: support address only, durable before 250."""

from __future__ import annotations

import smtplib
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.builders import claim
from tests.netutil import free_port
from ticketd.mail.listener import InboundSMTPHandler, make_controller
from ticketd.mail.message import RawMessage


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


def listener(store: Store, max_size: int = 100_000) -> Iterator[int]:
    handler = InboundSMTPHandler(
        "support@example.com", store, max_message_size=max_size, clock=lambda: datetime.now(UTC)
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
    for port in listener(store, max_size=2000):
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
