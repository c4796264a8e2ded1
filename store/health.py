"""What operators watch, read from the database: health and counters for ``/healthz`` and
``/metrics``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Select, func, select, text

from ticketd.routing.model import REVIEWABLE, EventKind, OutboxState
from ticketd.store import outbox
from ticketd.store.schema import events, inbound, mailbox_state, tickets
from ticketd.store.schema import outbox as outbox_table


def database_health(engine: Engine) -> dict[str, object]:
    """``{"database": "ok", "outbox_backlog": n, "mailbox": [...]}``, or the error's name."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            backlog = outbox.backlog(connection)
            boxes = connection.execute(select(mailbox_state)).all()
    except Exception as exc:
        return {"database": f"error: {type(exc).__name__}"}
    return {
        "database": "ok",
        "outbox_backlog": backlog,
        "mailbox": [
            {
                "mailbox": b.mailbox,
                "last_uid": b.last_uid,
                "last_checkpoint_at": b.updated_at.isoformat(),
            }
            for b in boxes
        ],
    }


MIN_FREE_BYTES = 1024 * 1024
"""Below this much free space on an SQLite database's filesystem, writes are failing or about
to (a message, its WAL frames and its indexes take more)."""


def storage_problems(engine: Engine) -> list[str]:
    """What keeps an SQLite database file from taking writes: a read-only file or folder, a
    full filesystem. Nothing for PostgreSQL (its server reports its own faults as errors)."""
    database = engine.url.database
    if engine.url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return []
    path = Path(database)
    problems = [
        f"database read-only: {where} is not writable"
        for where in (path, path.parent)
        if where.exists() and not os.access(where, os.W_OK)
    ]
    space = os.statvfs(path.parent)
    free = space.f_bavail * space.f_frsize
    if free < MIN_FREE_BYTES:
        problems.append(f"disk full: {free} bytes free for the database in {path.parent}")
    return problems


def _count_of(where: Any) -> Select[Any]:
    return select(func.count()).where(where)


COUNTERS: Mapping[str, Select[Any]] = {
    "mails_ingested": select(func.count()).select_from(inbound),
    "tickets_created": select(func.count()).select_from(tickets),
    "duplicates": _count_of(events.c.type == EventKind.DUPLICATE),
    "commands": _count_of(inbound.c.disposition == "command"),
    "commands_rejected": _count_of(events.c.type == EventKind.COMMAND_REJECTED),
    "outbox_backlog": _count_of(
        outbox_table.c.state.in_((OutboxState.PENDING, OutboxState.SENDING))
    ),
    "outbox_failures": _count_of(outbox_table.c.state == OutboxState.FAILED),
    "quarantined": _count_of(inbound.c.state.in_(REVIEWABLE)),
}


def counters(engine: Engine) -> dict[str, float]:
    """Current values of ticketd's stored counters, by name."""
    with engine.connect() as connection:
        values = {
            name: float(connection.execute(query).scalar() or 0) for name, query in COUNTERS.items()
        }
    commands = values.pop("commands")
    values["commands_accepted"] = commands - values["commands_rejected"]
    return values
