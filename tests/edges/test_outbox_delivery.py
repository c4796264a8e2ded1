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
from ticketd.daemon.delivery import FlushReport, RelayState, flush_outbox
from ticketd.mail.transport import MaildirTransport, SmtpTransport, Transport
from ticketd.routing.ports import Clock
from ticketd.store.db import Store
from ticketd.store.inbound import Position
from ticketd.store.outbox import CLAIM_TIMEOUT
from ticketd.store.schema import events, outbox


@pytest.fixture
def engine(lane_engine: Engine) -> Engine:
    return lane_engine


def queue_claims(engine: Engine, n: int) -> None:
    batch = [raw(claim(subject=f"claim {i}", body=f"body {i}"), uid=i + 1) for i in range(n)]
    ingestor(engine).ingest(batch, mailbox="box", checkpoint=Position(1, n))


def flush(
    engine: Engine, transport: Transport, clock: Clock, relay: RelayState | None = None
) -> FlushReport:
    return flush_outbox(Store(engine, clock.now), transport, clock, claimer="test", relay=relay)


def states(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(select(outbox.c.state).order_by(outbox.c.id)).scalars())


def pending(engine: Engine) -> list[tuple[int, object]]:
    """(attempts, next attempt) of every pending mail."""
    query = select(outbox.c.attempts, outbox.c.next_attempt_at).where(outbox.c.state == "pending")
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(query.order_by(outbox.c.id))]


def test_relay_outage_backs_off_no_mail_and_its_return_sends_everything_at_the_next_probe(
    engine: Engine, smtp_sink: SmtpSink
) -> None:
    queue_claims(engine, 3)
    clock = FrozenClock()
    relay = RelayState(retry_seconds=30)
    smtp_sink.stop()
    transport = SmtpTransport("127.0.0.1", smtp_sink.port, "none", timeout=2)
    report = flush(engine, transport, clock, relay)
    assert (report.sent, report.retried) == (0, 1) and "refused" in report.relay_down
    assert pending(engine) == [(0, clock.now())] * 6
    smtp_sink.start()
    clock.advance(seconds=10)
    assert flush(engine, transport, clock, relay).sent == 0  # not probed before 30 s
    clock.advance(seconds=20)
    assert flush(engine, transport, clock, relay).sent == 6
    assert relay.down_since is None and pending(engine) == []
    transport.close()
    ids = [m["Message-ID"] for m in smtp_sink.messages()]
    assert len(ids) == 6 and len(set(ids)) == 6


def test_a_mails_own_4xx_backs_off_only_that_mail(engine: Engine, smtp_sink: SmtpSink) -> None:
    queue_claims(engine, 2)
    clock = FrozenClock()
    relay = RelayState()
    smtp_sink.fail("RCPT", "452 4.2.2 Mailbox full")
    transport = SmtpTransport("127.0.0.1", smtp_sink.port, "none")
    report = flush(engine, transport, clock, relay)
    assert (report.sent, report.retried, report.relay_down) == (3, 1, "")
    [(attempts, due)] = pending(engine)
    assert attempts == 1 and due > clock.now()
    assert flush(engine, transport, clock, relay).sent == 0
    clock.at = due
    assert flush(engine, transport, clock, relay).sent == 1
    transport.close()


def test_ignoring_the_schedule_attempts_every_pending_mail_now(
    engine: Engine, smtp_sink: SmtpSink
) -> None:
    """``run --once`` flushes this way: mail backed off after its 4xx goes now."""
    queue_claims(engine, 1)
    clock = FrozenClock()
    smtp_sink.fail("RCPT", "451 4.7.1 Try again later")
    smtp_sink.fail("RCPT", "451 4.7.1 Try again later")
    transport = SmtpTransport("127.0.0.1", smtp_sink.port, "none")
    assert flush(engine, transport, clock).retried == 2
    assert all(due > clock.now() for _, due in pending(engine))  # type: ignore[operator]
    assert flush(engine, transport, clock).sent == 0
    report = flush_outbox(
        Store(engine, clock.now), transport, clock, claimer="test", ignore_schedule=True
    )
    assert report.sent == 2 and pending(engine) == []
    transport.close()


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


def test_backoff_of_a_mail_refused_for_now_grows_between_attempts(
    engine: Engine, smtp_sink: SmtpSink
) -> None:
    queue_claims(engine, 1)
    clock = FrozenClock()
    transport = SmtpTransport("127.0.0.1", smtp_sink.port, "none")
    delays = []
    for _ in range(4):
        smtp_sink.fail("RCPT", "451 4.7.1 Try again later")
        smtp_sink.fail("RCPT", "451 4.7.1 Try again later")
        flush(engine, transport, clock)
        due = min(due for _, due in pending(engine))  # type: ignore[type-var]
        delays.append(due - clock.now())
        clock.at = due
    transport.close()
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
    """The mail in doubt stays claimed until ``CLAIM_TIMEOUT``; the others go at once."""
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

    clock = FrozenClock()
    with pytest.raises(SystemExit):
        flush(engine, CrashAfterSecond(), clock)  # type: ignore[arg-type]
    assert flush(engine, transport, clock).sent == 2
    clock.advance(seconds=CLAIM_TIMEOUT.total_seconds() + 1)
    assert flush(engine, transport, clock).sent == 1
    transport.close()
    ids = [m["Message-ID"] for m in smtp_sink.messages()]
    assert len(ids) == 5 and len(set(ids)) == 4
    assert ids[1] == ids[4]
