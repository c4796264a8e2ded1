"""Outbox delivery throughput: mails per second from the transactional outbox to a local
aiosmtpd sink over one SMTP connection, and into a Maildir.

Run: ``python -m bench.outbox_throughput [N]`` (default 2000 claims, so 4000 mails:
each claim queues an acknowledgement and an owner notice). Target: >= 200 mails/s.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tests.builders import claim
from tests.fixtures.smtp_sink import SmtpSink
from ticketd.daemon.clock import SystemClock, SystemRng
from ticketd.daemon.delivery import flush_outbox
from ticketd.daemon.runner import Ingestor
from ticketd.mail.message import Address, RawMessage, Source
from ticketd.mail.transport import MaildirTransport, SmtpTransport
from ticketd.notifications.notices import NoticeFactory, NoticeSettings
from ticketd.notifications.render import Renderer
from ticketd.routing.model import EngineerInfo
from ticketd.routing.pipeline import RoutingContext
from ticketd.store.db import Store, make_engine, migrate
from ticketd.store.inbound import Position


def queue(url: str, claims: int) -> None:
    """Ingest ``claims`` distinct claims, queueing their mail in the outbox."""
    engine = make_engine(url)
    migrate(engine)
    clock, rng = SystemClock(), SystemRng()
    notices = NoticeFactory(
        NoticeSettings("Bench", "support@example.com", Address("support@example.com"),
                       "http://127.0.0.1:8080", "bench-secret-0123456789", 24),
        Renderer.default(), rng.token_bytes, clock.now,
    )  # fmt: skip
    context = RoutingContext(
        "support@example.com", "SUP", "ko", (EngineerInfo("alice@example.com", "Alice"),)
    )
    ingestor = Ingestor(Store(engine, clock.now, build_notice=notices.build), context, clock, rng)
    now = datetime.now(UTC)
    raws = [
        RawMessage(claim(subject=f"문의 {i}", body=f"본문 {i}", sender=f"c{i}@acme.co.kr"),
                   Source.IMAP, now, uid=i + 1)
        for i in range(claims)
    ]  # fmt: skip
    for start in range(0, claims, 250):
        ingestor.ingest(raws[start : start + 250], mailbox="b", checkpoint=Position(1, start))
    engine.dispose()


def main() -> int:
    claims = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    work = Path(tempfile.mkdtemp(prefix="outbox-bench-"))
    for name in ("smtp", "maildir"):
        url = f"sqlite:///{work / f'{name}.db'}"
        queue(url, claims)
        engine = make_engine(url)
        sink = SmtpSink()
        sink.start()
        transport = (
            SmtpTransport("127.0.0.1", sink.port, "none")
            if name == "smtp"
            else MaildirTransport(work / "outbox")
        )
        started = time.perf_counter()
        clock = SystemClock()
        report = flush_outbox(Store(engine, clock.now), transport, clock, claimer="bench")
        seconds = time.perf_counter() - started
        transport.close()
        sink.stop()
        engine.dispose()
        received = len(sink.received) if name == "smtp" else report.sent
        print(
            f"{name:8} {report.sent:6} mails in {seconds:6.2f} s = "
            f"{report.sent / seconds:7.0f} mails/s (received {received})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
