"""Small named values kept in the ``settings`` table (round-robin pointer, in-flight marks)."""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, delete, insert, select

from ticketd.store.schema import settings

GET = select(settings.c.value).where(settings.c.key == bindparam("key"))


def get_value(connection: Connection, key: str) -> str | None:
    """The value stored under ``key``, or None."""
    return connection.execute(GET, {"key": key}).scalar()


def put_value(connection: Connection, key: str, value: str) -> None:
    """Store ``value`` under ``key``, replacing any earlier one."""
    drop_value(connection, key)
    connection.execute(insert(settings).values(key=key, value=value))


def drop_value(connection: Connection, key: str) -> None:
    connection.execute(delete(settings).where(settings.c.key == key))
