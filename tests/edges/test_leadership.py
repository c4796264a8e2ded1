"""One poller per database, fenced: a process whose term is over commits nothing."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import Engine, func, select, text

from tests.builders import claim
from tests.edges.test_store import count, ingestor, position, raw
from tests.unit.fakes import FrozenClock
from ticketd.daemon.leader import LOCK_KEY, Leadership
from ticketd.store.db import Store
from ticketd.store.inbound import Position
from ticketd.store.leadership import LostLeadership
from ticketd.store.schema import inbound, outbox


@pytest.fixture
def engine(lane_engine: Engine) -> Engine:
    return lane_engine


def test_a_poller_whose_term_is_over_commits_no_batch_and_no_checkpoint(engine: Engine) -> None:
    worker = ingestor(engine)
    leadership = Leadership(worker.store)
    try:
        assert leadership.try_acquire()
        worker.ingest(
            [raw(claim(subject="first"), uid=1)], mailbox="box", checkpoint=Position(1, 1)
        )
        with Store(engine, FrozenClock().now).write() as writer:
            writer.begin_term("elsewhere:4242")  # another process was elected meanwhile
        with pytest.raises(LostLeadership):
            worker.ingest(
                [raw(claim(subject="second"), uid=2)], mailbox="box", checkpoint=Position(1, 2)
            )
        with pytest.raises(LostLeadership):
            worker.process_pending()
        assert position(engine, "box") == Position(1, 1)
        assert count(engine, inbound) == 1
        assert count(engine, outbox) == 2
    finally:
        leadership.release()
        worker.close()


def test_a_second_candidate_waits_until_the_poller_lets_go(engine: Engine) -> None:
    store = Store(engine, FrozenClock().now)
    first, second = Leadership(store), Leadership(Store(engine, FrozenClock().now))
    try:
        assert first.try_acquire()
        assert not second.try_acquire()
        assert "pid" in second.holder_now()
        first.release()
        assert second.try_acquire()
        assert second.term is not None and first.term is not None and second.term > first.term
    finally:
        first.release()
        second.release()


@pytest.mark.postgres
def test_a_poller_whose_session_was_killed_stops_within_seconds(postgres_url: str) -> None:
    from ticketd.store.db import make_engine, migrate

    engine = make_engine(postgres_url)
    migrate(engine)
    leadership = Leadership(Store(engine, FrozenClock().now))
    try:
        assert leadership.try_acquire() and leadership.heartbeat()
        with engine.connect() as connection:
            holder = (
                select(text("pid"))
                .select_from(text("pg_locks"))
                .where(text("locktype = 'advisory' AND granted AND objid = :key"))
            )
            pid = connection.execute(holder, {"key": LOCK_KEY}).scalar_one()
            connection.execute(select(func.pg_terminate_backend(pid)))
        started = time.monotonic()
        assert not leadership.heartbeat()
        assert time.monotonic() - started < 5
        assert not leadership.elected.is_set() and leadership.term_over.is_set()
    finally:
        leadership.release()
        engine.dispose()
