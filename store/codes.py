"""Classification codes on the database: the tree, the rows' writes (the ``Writer``'s to
call), the ticket counts per code, and ``SqlCodes``, the workspace's port."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, func, insert, select, update

from ticketd.routing.codes import (
    Code,
    CodeTree,
    NewCodes,
    Refusal,
    check_move,
    moved_path,
    plan_add,
)
from ticketd.routing.outcomes import OutcomeCode, Reason
from ticketd.store.schema import codes, tickets

if TYPE_CHECKING:
    from ticketd.store.db import Store


def tree(connection: Connection) -> CodeTree:
    """Every code, retired ones included."""
    return CodeTree.of(
        Code(
            row.id,
            row.parent_id,
            row.depth,
            row.name,
            row.label_ko,
            row.label_en,
            row.path,
            row.retired_at is not None,
        )
        for row in connection.execute(select(codes))
    )


def live_id(connection: Connection, path: str) -> int | None:
    """The id of the live code at the canonical ``path`` (on the path index)."""
    query = select(codes.c.id).where(codes.c.path == path, codes.c.retired_at.is_(None))
    found: int | None = connection.execute(query.limit(1)).scalar()
    return found


def add(connection: Connection, new: NewCodes, actor: str, now: datetime) -> int:
    """Create ``new``'s nodes, each under the one before; the id of the deepest."""
    parent_id, path = new.parent_id, new.parent_path
    depth = path.count("/") + 1 if path else 0
    for name in new.names:
        depth += 1
        path = f"{path}/{name}" if path else name
        values = {
            "parent_id": parent_id,
            "depth": depth,
            "name": name,
            "label_ko": name,
            "label_en": name,
            "path": path,
            "created_by": actor,
            "created_at": now,
        }
        parent_id = connection.execute(
            insert(codes).values(values).returning(codes.c.id)
        ).scalar_one()
    assert parent_id is not None
    return parent_id


def retire(connection: Connection, code: Code, known: CodeTree, now: datetime) -> None:
    """Retire ``code`` and its live descendants."""
    ids = [c.id for c in known.subtree(code) if not c.retired]
    connection.execute(update(codes).where(codes.c.id.in_(ids)).values(retired_at=now))


def restore(connection: Connection, code: Code, known: CodeTree) -> None:
    """Put ``code`` and its ancestors in use again (its descendants stay as they are)."""
    ids = [c.id for c in known.chain(code)]
    connection.execute(update(codes).where(codes.c.id.in_(ids)).values(retired_at=None))


def relabel(connection: Connection, code_id: int, label_ko: str, label_en: str) -> None:
    query = update(codes).where(codes.c.id == code_id)
    connection.execute(query.values(label_ko=label_ko, label_en=label_en))


def move(connection: Connection, code: Code, parent: Code | None, known: CodeTree) -> None:
    """Move ``code`` under ``parent``; its descendants' depths and paths follow."""
    depth = parent.depth + 1 if parent else 1
    new_path = moved_path(parent, code.name)
    for node in known.subtree(code):
        values = {
            "depth": depth + node.depth - code.depth,
            "path": new_path + node.path[len(code.path) :],
        }
        if node.id == code.id:
            values["parent_id"] = parent.id if parent else None
        connection.execute(update(codes).where(codes.c.id == node.id).values(values))


def add_labelled(
    connection: Connection, path: str, label_ko: str, label_en: str, actor: str, now: datetime
) -> Reason | None:
    """Create the code at ``path`` (and missing ancestors) with the deepest node's labels
    (empty: its name); a retired code at that path is put in use again. Why not, or None."""
    known = tree(connection)
    planned = plan_add(known, path)
    if isinstance(planned, Refusal):
        return planned.why
    retired = known.by_path(planned.path, live=False)
    if retired is not None:
        restore(connection, retired, known)
        code_id = retired.id
    else:
        code_id = add(connection, planned, actor, now)
    name = planned.names[-1]
    relabel(connection, code_id, label_ko.strip() or name, label_en.strip() or name)
    return None


def move_checked(connection: Connection, code_id: int, parent_id: int | None) -> Reason | None:
    """Move a code under another (None: to the root); why not, or None."""
    known = tree(connection)
    code, parent = known.by_id(code_id), known.by_id(parent_id)
    if code is None or (parent_id is not None and parent is None):
        return Reason.of(OutcomeCode.CODE_GONE)
    problem = check_move(known, code, parent)
    if problem is None:
        move(connection, code, parent, known)
    return problem


def set_retired(
    connection: Connection, code_id: int, retired: bool, now: datetime
) -> Reason | None:
    """Retire a code (and its descendants) or put it in use again; why not, or None."""
    known = tree(connection)
    code = known.by_id(code_id)
    if code is None:
        return Reason.of(OutcomeCode.CODE_GONE)
    if not retired and known.by_path(code.path) not in (None, code):
        return Reason.of(OutcomeCode.CODE_IN_USE, path=code.path)
    if retired:
        retire(connection, code, known, now)
    else:
        restore(connection, code, known)
    return None


def ticket_counts(connection: Connection) -> Counter[int]:
    """Tickets per code id (on the code itself, not its subtree)."""
    query = (
        select(tickets.c.code_id, func.count())
        .where(tickets.c.code_id.is_not(None))
        .group_by(tickets.c.code_id)
    )
    return Counter({row[0]: row[1] for row in connection.execute(query)})


class SqlCodes:
    """``web.staff.codes.CodeBook`` on the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def tree(self) -> CodeTree:
        with self.store.engine.connect() as connection:
            return tree(connection)

    def counts(self) -> Counter[int]:
        with self.store.engine.connect() as connection:
            return ticket_counts(connection)

    def add(self, path: str, label_ko: str, label_en: str, actor: str) -> Reason | None:
        with self.store.write() as writer:
            return writer.add_code(path, label_ko, label_en, actor)

    def relabel(self, code_id: int, label_ko: str, label_en: str) -> None:
        with self.store.write() as writer:
            writer.relabel_code(code_id, label_ko, label_en)

    def move(self, code_id: int, parent_id: int | None) -> Reason | None:
        with self.store.write() as writer:
            return writer.move_code(code_id, parent_id)

    def retire(self, code_id: int, retired: bool) -> Reason | None:
        with self.store.write() as writer:
            return writer.retire_code(code_id, retired)
