"""PostgreSQL: a poller whose database session ends while the process lives (a restarted
server, an idle timeout, ``pg_terminate_backend``) notices within seconds, stops polling and
stands by; the other process takes over, and every mail reaches the relay once."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from tests.e2e.test_scale_out import instance, role, send, wait_tickets
from tests.fixtures.smtp_sink import SmtpSink
from ticketd.daemon.leader import LOCK_KEY
from ticketd.store.db import make_engine
from ticketd.store.schema import outbox

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def until(condition: object, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.3)


def test_a_poller_that_lost_its_session_stops_and_every_mail_goes_once(
    tmp_path: Path, postgres_url: str, smtp_sink: SmtpSink
) -> None:
    first = instance(tmp_path / "a", postgres_url, smtp_sink.port)
    time.sleep(1.5)
    second = instance(tmp_path / "b", postgres_url, smtp_sink.port)
    engine = make_engine(postgres_url)
    try:
        time.sleep(1.5)
        poller, standby = (first, second) if role(first[2]) == "poller" else (second, first)
        assert role(standby[2]) == "standby"
        with engine.connect() as connection:
            lock = select(text("pid")).select_from(text("pg_locks"))
            lock = lock.where(text("locktype = 'advisory' AND granted AND objid = :key"))
            session = connection.execute(lock, {"key": LOCK_KEY}).scalar_one()
            connection.execute(select(func.pg_terminate_backend(session)))
        until(lambda: role(standby[2]) == "poller")
        assert role(standby[2]) == "poller" and role(poller[2]) == "standby"
        for index in range(6):
            send((first if index % 2 else second)[1], f"claim {index}")
        assert len(wait_tickets(first[0], 6)) == 6

        def states() -> list[str]:
            with engine.connect() as connection:
                return list(connection.execute(select(outbox.c.state)).scalars())

        until(lambda: set(states()) == {"sent"})
        time.sleep(3)  # a second poller would be sending its copies now
        sent = Counter(m["Message-ID"] for m in smtp_sink.messages())
        assert set(sent.values()) == {1} and sum(sent.values()) == len(states()) >= 6
        log = (poller[0].root / "stderr.log").read_text()
        assert "lost leadership" in log and "stopped polling" in log
    finally:
        engine.dispose()
        for process in (first[3], second[3]):
            if process.poll() is None:
                process.terminate()
            process.wait(timeout=15)
