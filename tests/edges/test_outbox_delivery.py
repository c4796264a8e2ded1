"""The outbox through real transports: outages, temporary and permanent failures."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from tests.builders import claim
from tests.edges.test_store import ingestor, raw
from tests.fixtures.smtp_sink import SmtpSink
from tests.unit.fakes import FrozenClock
from ticketd.daemon.delivery import FlushReport, flush_outbox
from ticketd.mail.transport import MaildirTransport, SmtpTransport, Transport
from ticketd.routing.ports import Clock
from ticketd.store.db import Store
from ticketd.store.inbound import Position
from ticketd.store.schema import events, outbox


@pytest.fixture
def engine(lane_engine: Engine) -> Engine:
    return lane_engine


def queue_claims(engine: Engine, n: int) -> None:
    batch = [raw(claim(subject=f"claim {i}", body=f"body {i}"), uid=i + 1) for i in range(n)]
    ingestor(engine).ingest(batch, mailbox="box", checkpoint=Position(1, n))


def flush(engine: Engine, transport: Transport, clock: Clock) -> FlushReport:
    return flush_outbox(Store(engine, clock.now), transport, clock)


def states(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(select(outbox.c.state).order_by(outbox.c.id)).scalars())


def test_outage_keeps_mail_pending_then_delivers_each_exactly_once(
    engine: Engine, smtp_sink: SmtpSink
) -> None:
    queue_claims(engine, 3)
    clock = FrozenClock()
    smtp_sink.stop()
    transport = SmtpTransport("127.0.0.1", smtp_sink.port, "none", timeout=2)
    report = flush(engine, transport, clock)
    assert (report.sent, report.retried) == (0, 6)
    assert states(engine) == ["pending"] * 6
    smtp_sink.start()
    assert flush(engine, transport, clock).sent == 0
    clock.advance(minutes=2)
    assert flush(engine, transport, clock).sent == 6
    clock.advance(hours=2)
    assert flush(engine, transport, clock).sent == 0
    transport.close()
    ids = [m["Message-ID"] for m in smtp_sink.messages()]
    assert len(ids) == 6 and len(set(ids)) == 6


def test_temporary_failure_retries_and_permanent_failure_is_recorded(
    engine: Engine, smtp_sink: SmtpSink
) -> None:
    queue_claims(engine, 1)
    clock = FrozenClock()
    smtp_sink.fail("RCPT", "451 4.7.1 Try again later")
    smtp_sink.fail("RCPT", "550 5.1.1 No such user")
    transport = SmtpTransport("127.0.0.1", smtp_sink.port, "none")
    report = flush(engine, transport, clock)
    assert (report.sent, report.retried, report.failed) == (0, 1, 1)
    clock.advance(minutes=3)
    assert flush(engine, transport, clock).sent == 1
    transport.close()
    assert sorted(states(engine)) == ["failed", "sent"]
    with engine.connect() as connection:
        failures = (
            connection.execute(select(events.c.summary).where(events.c.type == "delivery_failed"))
            .scalars()
            .all()
        )
    assert len(failures) == 1 and "550" in failures[0]


def test_backoff_grows_between_attempts(engine: Engine, tmp_path: Path) -> None:
    queue_claims(engine, 1)
    clock = FrozenClock()
    dead = SmtpTransport("127.0.0.1", SmtpSink().port, "none", timeout=1)
    delays = []
    for _ in range(4):
        flush(engine, dead, clock)
        with engine.connect() as connection:
            due = connection.execute(select(outbox.c.next_attempt_at)).scalars().first()
        delays.append(due - clock.now())
        clock.at = due
    assert delays == sorted(delays) and delays[-1] > delays[0] >= timedelta(minutes=1)


def test_maildir_delivery_is_atomic_and_idempotent(engine: Engine, tmp_path: Path) -> None:
    queue_claims(engine, 2)
    folder = tmp_path / "out"
    transport = MaildirTransport(folder)
    assert flush(engine, transport, FrozenClock()).sent == 4
    files = sorted((folder / "new").iterdir())
    assert len(files) == 4 and not list((folder / "tmp").iterdir())
    with engine.connect() as connection:
        first = connection.execute(select(outbox.c.message_id, outbox.c.data)).first()
    from ticketd.mail.message import OutgoingMessage

    again = OutgoingMessage(first.message_id, "support@example.com", ("x@y.z",), first.data)
    transport.send(again)
    assert sorted((folder / "new").iterdir()) == files


def test_crash_between_sent_and_marked_resends_only_that_mail_with_its_message_id(
    engine: Engine, smtp_sink: SmtpSink
) -> None:
    queue_claims(engine, 2)
    transport = SmtpTransport("127.0.0.1", smtp_sink.port, "none")

    class CrashAfterSecond:
        calls = 0

        def send(self, mail):  # type: ignore[no-untyped-def]
            result = transport.send(mail)
            CrashAfterSecond.calls += 1
            if CrashAfterSecond.calls == 2:
                raise SystemExit("power cut after the relay said 250")
            return result

    with pytest.raises(SystemExit):
        flush(engine, CrashAfterSecond(), FrozenClock())  # type: ignore[arg-type]
    assert flush(engine, transport, FrozenClock()).sent == 3
    transport.close()
    ids = [m["Message-ID"] for m in smtp_sink.messages()]
    assert len(ids) == 5 and len(set(ids)) == 4
    assert ids[1] == ids[2]
