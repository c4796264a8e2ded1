"""The writer's hot inserts on the SQLite driver store what SQLAlchemy would, inside the
caller's transaction and savepoints, and a refused write is still a storage fault."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.exc import IntegrityError

from ticketd.routing.model import Status
from ticketd.store.db import StorageFault
from ticketd.store.fast_insert import FastInsert, direct
from ticketd.store.schema import blobs, events, tickets

TICKETS = FastInsert(tickets)
EVENTS = FastInsert(events)
BLOBS = FastInsert(blobs)
AT = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)


def ticket(tracking: str) -> dict[str, Any]:
    return {
        "tracking": tracking,
        "status": Status.OPEN,
        "subject": "배송이 늦어요",
        "requester_email": "kim@example.co.kr",
        "requester_name": "김민지",
        "owner": None,
        "language": "ko",
        "fingerprint": "f" * 64,
        "created_at": AT,
        "updated_at": AT,
        "first_response_due_at": AT.replace(hour=18),
        "billable": True,
        "first_response_late": False,
        "channel": "imap",
    }


@contextmanager
def through_sqlalchemy(engine: Engine) -> Iterator[None]:
    """A statement listener, so inserts take SQLAlchemy's own path."""

    def watch(*_: object) -> None:
        return None

    event.listen(engine, "before_cursor_execute", watch)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", watch)


def stored(engine: Engine, tracking: str) -> dict[str, Any]:
    """The row exactly as SQLite holds it (no SQLAlchemy type conversion on the way out)."""
    with engine.connect() as connection:
        cursor = connection.exec_driver_sql("SELECT * FROM tickets WHERE tracking = ?", (tracking,))
        names = [d[0] for d in cursor.cursor.description]
        row = dict(zip(names, cursor.one(), strict=True))
    return {k: v for k, v in row.items() if k not in ("id", "tracking")}


@pytest.mark.sqlite_only
def test_a_row_is_stored_as_sqlalchemy_stores_it(lane_engine: Engine) -> None:
    with lane_engine.begin() as connection:
        assert direct(connection)
        first = TICKETS.one(connection, ticket("SUP-DRIVER"))
    with through_sqlalchemy(lane_engine), lane_engine.begin() as connection:
        assert not direct(connection)
        second = TICKETS.one(connection, ticket("SUP-ALCHEMY"))
    assert second == first + 1
    driver, alchemy = stored(lane_engine, "SUP-DRIVER"), stored(lane_engine, "SUP-ALCHEMY")
    assert driver == alchemy
    assert driver["created_at"] == "2026-03-01 09:30:15.123456"
    assert (driver["status"], driver["priority"], driver["billable"]) == ("open", "normal", 1)
    with lane_engine.connect() as connection:
        read = connection.execute(select(tickets).where(tickets.c.id == first)).one()
    assert read.created_at == AT and read.requester_name == "김민지"


@pytest.mark.sqlite_only
def test_rows_of_different_columns_are_all_inserted_in_order(lane_engine: Engine) -> None:
    with lane_engine.begin() as connection:
        ticket_id = TICKETS.one(connection, ticket("SUP-EVENTS"))
        rows = [
            {"ticket_id": ticket_id, "type": "created", "at": AT, "public": True},
            {"ticket_id": ticket_id, "type": "note", "at": AT, "public": False, "summary": "a"},
            {"ticket_id": ticket_id, "type": "status", "at": AT, "public": True, "value": "x"},
        ]
        EVENTS.many(connection, rows)
    with lane_engine.connect() as connection:
        found = connection.execute(select(events.c.type, events.c.summary).order_by(events.c.id))
        assert [tuple(r) for r in found] == [("created", ""), ("note", "a"), ("status", "")]


@pytest.mark.sqlite_only
def test_a_rolled_back_savepoint_takes_its_driver_inserts_along(lane_engine: Engine) -> None:
    with lane_engine.begin() as connection:
        kept = TICKETS.one(connection, ticket("SUP-KEPT"))
        savepoint = connection.begin_nested()
        TICKETS.one(connection, ticket("SUP-GONE"))
        savepoint.rollback()
    with lane_engine.connect() as connection:
        assert connection.execute(select(tickets.c.id)).scalars().all() == [kept]


@pytest.mark.sqlite_only
def test_a_refused_write_on_the_driver_is_a_storage_fault(lane_engine: Engine) -> None:
    with lane_engine.begin() as connection:
        TICKETS.one(connection, ticket("SUP-TAKEN"))
    with lane_engine.connect() as connection:
        with pytest.raises(IntegrityError), connection.begin():
            TICKETS.one(connection, ticket("SUP-TAKEN"))
        connection.exec_driver_sql("PRAGMA query_only = ON")
        connection.commit()
        try:
            with pytest.raises(StorageFault, match="readonly"), connection.begin():
                TICKETS.one(connection, ticket("SUP-REFUSED"))
        finally:
            connection.exec_driver_sql("PRAGMA query_only = OFF")
            connection.commit()
        assert connection.execute(select(func.count()).select_from(tickets)).scalar() == 1


def test_a_row_keyed_by_its_digest_is_added_on_either_database(lane_engine: Engine) -> None:
    digest = "ab" * 32
    with lane_engine.begin() as connection:
        BLOBS.add(connection, {"sha256": digest, "data": b"%PDF-1"})
    with lane_engine.connect() as connection:
        stored = connection.execute(select(blobs.c.data).where(blobs.c.sha256 == digest))
        assert stored.scalar_one() == b"%PDF-1"
