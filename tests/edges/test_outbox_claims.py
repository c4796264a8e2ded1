"""Outbox mail is claimed by one flusher: concurrent flushes hand each mail to the relay once,
and a claim abandoned by a dead flusher is taken again at the next election (at the latest
after ``CLAIM_TIMEOUT``)."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select

from tests.fixtures.smtp_sink import SmtpSink
from tests.unit.fakes import FrozenClock
from ticketd.daemon.delivery import FlushReport, flush_outbox
from ticketd.mail.message import OutgoingMessage
from ticketd.mail.transport import SmtpTransport
from ticketd.store import outbox as outbox_rows
from ticketd.store.db import Store
from ticketd.store.outbox import CLAIM_TIMEOUT
from ticketd.store.schema import outbox


@pytest.fixture
def engine(lane_engine: Engine) -> Engine:
    return lane_engine


def pending(engine: Engine, n: int) -> None:
    now = datetime.now(UTC)
    with engine.begin() as connection:
        for i in range(n):
            message_id = f"<m{i}@example.com>"
            data = f"Message-ID: {message_id}\r\nSubject: {i}\r\n\r\nbody {i}\r\n".encode()
            mail = OutgoingMessage(message_id, "support@example.com", ("kim@acme.co.kr",), data)
            outbox_rows.queue(connection, mail, None, "ack", True, now)


def flush(engine: Engine, port: int, name: str, clock: FrozenClock) -> FlushReport:
    transport = SmtpTransport("127.0.0.1", port, "none")
    try:
        return flush_outbox(Store(engine, clock.now), transport, clock, claimer=name)
    finally:
        transport.close()


def test_two_concurrent_flushers_send_each_mail_once(engine: Engine, smtp_sink: SmtpSink) -> None:
    pending(engine, 200)
    clock = FrozenClock(datetime.now(UTC))
    reports: list[FlushReport] = []
    start = threading.Barrier(2)

    def flusher(name: str) -> None:
        start.wait()
        reports.append(flush(engine, smtp_sink.port, name, clock))

    threads = [threading.Thread(target=flusher, args=(f"host:{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    sent = Counter(m["Message-ID"] for m in smtp_sink.messages())
    assert len(sent) == 200 and set(sent.values()) == {1}
    assert sum(r.sent for r in reports) == 200
    with engine.connect() as connection:
        states = set(connection.execute(select(outbox.c.state)).scalars())
    assert states == {"sent"}


def test_a_claim_left_by_a_dead_flusher_is_sent_after_the_timeout(
    engine: Engine, smtp_sink: SmtpSink
) -> None:
    pending(engine, 3)
    clock = FrozenClock(datetime.now(UTC))
    with Store(engine, clock.now).write() as writer:
        assert len(writer.claim_mail("dead:1")) == 3
    assert flush(engine, smtp_sink.port, "alive:2", clock).sent == 0
    clock.advance(seconds=CLAIM_TIMEOUT.total_seconds() + 1)
    assert flush(engine, smtp_sink.port, "alive:2", clock).sent == 3
    assert len(smtp_sink.messages()) == 3


def test_a_claim_left_by_a_dead_poller_is_sent_as_soon_as_the_next_poller_is_elected(
    engine: Engine, smtp_sink: SmtpSink
) -> None:
    """Only the poller flushes, so a claim older than the current term was left by a poller
    that is gone (SIGKILLed) or can no longer commit: its mail goes at once, not ten
    minutes later."""
    pending(engine, 3)
    clock = FrozenClock(datetime.now(UTC))
    with Store(engine, clock.now).write() as writer:
        writer.begin_term("dead:1")
        assert len(writer.claim_mail("dead:1")) == 3
    with Store(engine, clock.now).write() as writer:
        writer.begin_term("alive:2")
    assert flush(engine, smtp_sink.port, "alive:2", clock).sent == 3
    assert len(smtp_sink.messages()) == 3
