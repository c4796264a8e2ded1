"""A hot read compiled once and run straight on the driver.

For an indexed lookup the SQLAlchemy per-call machinery (pool checkout, transaction events,
result wrappers) costs several times the query itself. ``PreparedQuery`` compiles the
statement once for the engine's dialect and runs it on a driver connection that each
calling thread keeps, converting result values with the columns' own SQLAlchemy types.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Engine, Select
from sqlalchemy.pool import PoolProxiedConnection

Processor = Callable[[Any], Any]


class PreparedQuery:
    """``statement`` ready to run with the string parameters ``names``; rows come back as
    tuples.

    Each call ends its transaction (a no-op on SQLite in autocommit), so every call reads
    the newest committed data. A broken connection is dropped and the call retried once.
    """

    def __init__(self, engine: Engine, statement: Select[Any], *names: str) -> None:
        dialect = engine.dialect
        compiled = statement.compile(dialect=dialect)
        expanded = compiled.construct_expanded_state(dict.fromkeys(names, ""))
        self.engine = engine
        self.sql = expanded.statement
        self.defaults = dict(expanded.parameters)
        self.order = expanded.positiontup if dialect.positional else None
        self.processors: list[Processor | None] = [
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in statement.selected_columns
        ]
        self.local = threading.local()
        self.opened: list[PoolProxiedConnection] = []
        self.lock = threading.Lock()

    def rows(self, **params: str) -> list[tuple[Any, ...]]:
        """All result rows for ``params``, values converted as SQLAlchemy would."""
        values = {**self.defaults, **params}
        bound: Sequence[Any] | dict[str, Any] = (
            [values[name] for name in self.order] if self.order is not None else values
        )
        try:
            raw = self._fetch(bound)
        except self.engine.dialect.loaded_dbapi.Error:
            self._drop()
            raw = self._fetch(bound)
        convert = self.processors
        return [
            tuple(v if p is None else p(v) for p, v in zip(convert, row, strict=True))
            for row in raw
        ]

    def _fetch(self, bound: Sequence[Any] | dict[str, Any]) -> list[Any]:
        connection = self._connection()
        cursor = connection.cursor()
        try:
            cursor.execute(self.sql, bound)
            return list(cursor.fetchall())
        finally:
            cursor.close()
            connection.rollback()

    def close(self) -> None:
        """Give every thread's connection back to the pool."""
        with self.lock:
            opened, self.opened = self.opened, []
        for connection in opened:
            connection.close()

    def _connection(self) -> PoolProxiedConnection:
        connection: PoolProxiedConnection | None = getattr(self.local, "connection", None)
        if connection is None:
            connection = self.engine.raw_connection()
            self.local.connection = connection
            with self.lock:
                self.opened.append(connection)
        return connection

    def _drop(self) -> None:
        connection: PoolProxiedConnection | None = getattr(self.local, "connection", None)
        self.local.connection = None
        if connection is not None:
            connection.invalidate()
            connection.close()
            with self.lock:
                self.opened = [c for c in self.opened if c is not connection]
