"""Saved replies on the database: the rows (writes are the ``Writer``'s to call) and
``SqlMacros``, the workspace's port to list, save and retire them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, insert, select, update

from ticketd.routing.macros import Macro, StoredMacro, macro_key
from ticketd.store.schema import macros

if TYPE_CHECKING:
    from ticketd.store.db import Store

IN_USE = macros.c.retired_at.is_(None)


def _macro(row: object) -> Macro:
    return Macro(row.name, row.text_ko, row.text_en, row.commands)  # type: ignore[attr-defined]


def in_use(connection: Connection) -> tuple[Macro, ...]:
    """The saved replies not retired, by name."""
    query = select(macros).where(IN_USE).order_by(macros.c.name_key)
    return tuple(_macro(row) for row in connection.execute(query))


def every(connection: Connection) -> tuple[StoredMacro, ...]:
    """Every saved reply, retired ones last."""
    query = select(macros).order_by(macros.c.retired_at.is_not(None), macros.c.name_key)
    return tuple(
        StoredMacro(_macro(row), row.updated_by, row.updated_at, row.retired_at is not None)
        for row in connection.execute(query)
    )


def save(connection: Connection, macro: Macro, actor: str, now: datetime) -> None:
    """Create the macro, or replace the texts of the one with its name (a retired one is
    in use again)."""
    key = macro_key(macro.name)
    values = {
        "name": macro.name.strip(),
        "text_ko": macro.text_ko,
        "text_en": macro.text_en,
        "commands": macro.commands,
        "updated_by": actor,
        "updated_at": now,
        "retired_at": None,
    }
    changed = connection.execute(update(macros).where(macros.c.name_key == key).values(values))
    if not changed.rowcount:
        connection.execute(insert(macros).values(name_key=key, created_at=now, **values))


def retire(connection: Connection, name: str, actor: str, now: datetime) -> bool:
    """False when no saved reply in use has that name."""
    query = update(macros).where(macros.c.name_key == macro_key(name), IN_USE)
    changed = connection.execute(query.values(retired_at=now, updated_by=actor, updated_at=now))
    return bool(changed.rowcount)


class SqlMacros:
    """``web.staff.macros.MacroBook`` on the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def macros(self) -> tuple[Macro, ...]:
        """The saved replies in use: name and both texts (for the ticket page)."""
        with self.store.engine.connect() as connection:
            return in_use(connection)

    def every(self) -> tuple[StoredMacro, ...]:
        with self.store.engine.connect() as connection:
            return every(connection)

    def save(self, macro: Macro, actor: str) -> None:
        with self.store.write() as writer:
            writer.save_macro(macro, actor)

    def retire(self, name: str, actor: str) -> bool:
        with self.store.write() as writer:
            return writer.retire_macro(name, actor)
