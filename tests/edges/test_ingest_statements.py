"""The statements a batch of new claims costs on the lane's database: ingest speed is held
to a budget per message, and what is the same for the whole batch is read once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, event, func, select

from tests.builders import claim
from tests.edges.test_store import ingestor, raw
from ticketd.store.schema import claims, events, tickets

CLAIMS = 20
BUDGET = 8
"""Statements per new claim, everything included (the batch's savepoint, raw mail, ticket,
claim, events, message, notices, checkpoint, pages, search documents)."""


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """Every statement sent to the database inside the block."""
    seen: list[str] = []

    def watch(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(" ".join(statement.split()).upper())

    event.listen(engine, "before_cursor_execute", watch)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", watch)


def ingest_claims(engine: Engine) -> list[str]:
    mails = [claim(f"Order {n} missing", f"Order {n:04d} never arrived") for n in range(CLAIMS)]
    with statements(engine) as seen:
        report = ingestor(engine).ingest([raw(m, uid=n) for n, m in enumerate(mails, 1)])
    assert report.counts == {"new": CLAIMS}
    return seen


def test_a_batch_of_claims_stays_within_its_statement_budget(lane_engine: Engine) -> None:
    seen = ingest_claims(lane_engine)
    kinds = Counter(statement.split(" (")[0][:40] for statement in seen)
    assert len(seen) <= BUDGET * CLAIMS, kinds.most_common(12)


def test_availability_is_read_once_per_batch(lane_engine: Engine) -> None:
    seen = ingest_claims(lane_engine)
    assert sum(1 for s in seen if s.startswith("SELECT") and "FROM AVAILABILITY" in s) == 1


def test_each_claim_is_one_statement_and_names_its_ticket(lane_engine: Engine) -> None:
    seen = ingest_claims(lane_engine)
    assert not [s for s in seen if s.startswith("DELETE FROM CLAIMS")]
    assert sum(1 for s in seen if s.startswith("INSERT INTO CLAIMS")) == CLAIMS
    with lane_engine.connect() as connection:
        joined = select(func.count()).select_from(
            claims.join(tickets, (tickets.c.id == claims.c.ticket_id))
        )
        assert (
            connection.execute(joined.where(tickets.c.fingerprint == claims.c.fingerprint)).scalar()
            == CLAIMS
        )


def test_a_message_writes_its_events_together_in_their_order(lane_engine: Engine) -> None:
    seen = ingest_claims(lane_engine)
    assert sum(1 for s in seen if s.startswith("INSERT INTO EVENTS")) == CLAIMS
    with lane_engine.connect() as connection:
        first = connection.execute(
            select(events.c.type).where(events.c.ticket_id == 1).order_by(events.c.id)
        ).scalars()
        assert list(first) == ["created", "customer_message", "assigned"]


def test_a_batch_asks_once_which_message_ids_are_stored(lane_engine: Engine) -> None:
    """A batch's Message-IDs are looked up together; a copy of a stored message (same
    Message-ID) is still recognised and opens no ticket."""
    first = claim("Order 1 missing", "Order 0001 never arrived")
    ingestor(lane_engine).ingest([raw(first, uid=1)])
    mails = [first, *(claim(f"Order {n} missing", f"Order {n:04d} lost") for n in range(2, 6))]
    with statements(lane_engine) as seen:
        report = ingestor(lane_engine).ingest([raw(m, uid=n) for n, m in enumerate(mails, 2)])
    assert report.counts["new"] == 4
    assert sum(1 for s in seen if s.startswith("SELECT MESSAGES.ID FROM MESSAGES")) == 0
    with lane_engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(tickets)).scalar() == 5
