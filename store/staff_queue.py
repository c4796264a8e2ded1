"""The staff queue read from the tickets table: a tab's rows in one of three orders, paged
by keyset (never OFFSET; the ticket id breaks ties), and every tab's count.

Each tab and sort reads an index in order (see ``schema.queue_indexes``): the open tabs'
predicate is written exactly as the partial indexes' (SQLite uses a partial index only
for a query that repeats its condition), and the SLA order reads tickets with a due time
first, then those without one, as two ranges of the same index."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    Select,
    and_,
    false,
    func,
    literal,
    select,
    text,
    tuple_,
)

from ticketd.routing.codes import Refusal, resolve
from ticketd.routing.model import OPEN_STATUSES, EngineerInfo, Priority, Status
from ticketd.routing.workspace import (
    RECENTLY_RESOLVED,
    BadCursor,
    QueuePage,
    QueueQuery,
    QueueRow,
    SlaState,
    Sort,
    StaffUser,
    Tab,
    sla_state,
    team_mates,
)
from ticketd.store import codes as code_rows
from ticketd.store.availability import away_owners
from ticketd.store.schema import QUEUED, UTCDateTime, codes, tickets

MAX_LIMIT = 200
WAITING = "status = 'waiting' AND merged_into IS NULL"
RESOLVED = "status IN ('resolved', 'closed') AND merged_into IS NULL"

ROW_COLUMNS = (
    tickets.c.id,
    tickets.c.tracking,
    tickets.c.subject,
    tickets.c.status,
    tickets.c.priority,
    tickets.c.type,
    tickets.c.requester_email,
    tickets.c.requester_name,
    tickets.c.owner,
    tickets.c.created_at,
    tickets.c.updated_at,
    tickets.c.duplicate_count,
    tickets.c.first_response_due_at,
    tickets.c.first_response_at,
    tickets.c.sla_breached_at,
    tickets.c.next_response_due_at,
    select(codes.c.path).where(codes.c.id == tickets.c.code_id).scalar_subquery().label("code"),
)
SORT_COLUMN = {
    Sort.AGE: tickets.c.created_at,
    Sort.SLA: tickets.c.first_response_due_at,
    Sort.ACTIVITY: tickets.c.updated_at,
}


def queue_row(row: Any, now: datetime, away: Collection[str] = frozenset()) -> QueueRow:
    """A selected ``ROW_COLUMNS`` row as the queue shows it, with its SLA badge and
    whether its owner is one of the engineers ``away`` while a promise runs."""
    status = Status(row.status)
    state = sla_state(
        status,
        row.created_at,
        row.first_response_due_at,
        now,
        answered=row.first_response_at is not None,
        breached=row.sla_breached_at is not None,
    )
    running = state != SlaState.NONE or row.next_response_due_at is not None
    return QueueRow(
        tracking=row.tracking,
        subject=row.subject,
        status=status,
        priority=Priority(row.priority),
        type=row.type,
        requester=row.requester_email,
        requester_name=row.requester_name,
        owner=row.owner,
        created_at=row.created_at,
        updated_at=row.updated_at,
        duplicate_count=row.duplicate_count,
        code=row.code,
        sla_due=row.first_response_due_at,
        sla_state=state,
        owner_away=row.owner in away and status in OPEN_STATUSES and running,
    )


def queue_page(
    connection: Connection,
    engineers: Sequence[EngineerInfo],
    viewer: StaffUser,
    query: QueueQuery,
    now: datetime,
) -> QueuePage:
    """One page of ``query.tab`` for ``viewer`` and the counts of every tab."""
    limit = max(1, min(query.limit, MAX_LIMIT))
    mates = team_mates(viewer, engineers)
    filters = [*_filters(query), *code_filter(connection, query.code)]
    where = [_tab(query.tab, viewer, mates, now), *filters]
    after = _decode(query.cursor, query.sort)
    found = _rows(connection, where, query.sort, after, limit + 1)
    rows = found[:limit]
    more = len(found) > limit
    away = away_owners(connection, engineers, now)
    return QueuePage(
        rows=tuple(queue_row(row, now, away) for row in rows),
        next=_encode(query.sort, rows[-1]) if more else None,
        counts=_counts(connection, viewer, mates, filters, now),
    )


def _tab(tab: Tab, viewer: StaffUser, mates: Sequence[str], now: datetime) -> ColumnElement[bool]:
    queued = text(QUEUED)
    match tab:
        case Tab.MINE:
            return and_(queued, tickets.c.owner == viewer.email)
        case Tab.UNOWNED:
            return and_(queued, tickets.c.owner.is_(None))
        case Tab.TEAMS:
            return and_(queued, tickets.c.owner.in_(mates) if mates else false())
        case Tab.OPEN:
            return and_(queued)
        case Tab.WAITING:
            return and_(text(WAITING))
        case Tab.RESOLVED:
            return and_(text(RESOLVED), tickets.c.resolved_at >= now - RECENTLY_RESOLVED)
    raise AssertionError(tab)


def _filters(query: QueueQuery) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if query.status:
        where.append(tickets.c.status.in_([status.value for status in query.status]))
    if query.owner:
        where.append(tickets.c.owner == query.owner.lower())
    if query.priority:
        where.append(tickets.c.priority == query.priority.value)
    if query.type:
        where.append(tickets.c.type == query.type)
    if query.requester:
        requester = query.requester.strip().lower()
        if requester.startswith("@"):
            where.append(tickets.c.requester_domain == requester[1:])
        else:
            where.append(tickets.c.requester_email == requester)
    if query.since:
        where.append(tickets.c.created_at >= query.since)
    if query.until:
        where.append(tickets.c.created_at < query.until)
    return where


def code_filter(connection: Connection, path: str | None) -> list[ColumnElement[bool]]:
    """Tickets with the code at ``path`` (its canonical path, a retired code's too, else
    what ``#code`` would resolve) or one below it, on the ``code_id`` index."""
    if not path:
        return []
    tree = code_rows.tree(connection)
    code = tree.by_path(path, live=False) or resolve(tree, path)
    if isinstance(code, Refusal):
        return [false()]
    return [tickets.c.code_id.in_([c.id for c in tree.subtree(code)])]


def _rows(
    connection: Connection,
    where: list[ColumnElement[bool]],
    sort: Sort,
    after: tuple[datetime | None, int] | None,
    limit: int,
) -> list[Row[Any]]:
    column = SORT_COLUMN[sort]
    if sort == Sort.ACTIVITY:
        query = _select(where).order_by(column.desc(), tickets.c.id.desc())
        if after is not None:
            query = query.where(tuple_(column, tickets.c.id) < tuple_(_at(after[0]), after[1]))
        return list(connection.execute(query.limit(limit)))
    ordered = _select(where).order_by(column, tickets.c.id)
    if sort == Sort.AGE:
        if after is not None:
            ordered = ordered.where(tuple_(column, tickets.c.id) > tuple_(_at(after[0]), after[1]))
        return list(connection.execute(ordered.limit(limit)))
    found: list[Row[Any]] = []
    if after is None or after[0] is not None:
        due = ordered.where(column.is_not(None))
        if after is not None:
            due = due.where(tuple_(column, tickets.c.id) > tuple_(_at(after[0]), after[1]))
        found = list(connection.execute(due.limit(limit)))
    if len(found) < limit:
        undue = _select(where).where(column.is_(None)).order_by(tickets.c.id)
        if after is not None and after[0] is None:
            undue = undue.where(tickets.c.id > after[1])
        found += connection.execute(undue.limit(limit - len(found)))
    return found


def _select(where: list[ColumnElement[bool]]) -> Select[Any]:
    return select(*ROW_COLUMNS).where(*where)


def _at(value: datetime | None) -> ColumnElement[Any]:
    return literal(value, UTCDateTime())


def _counts(
    connection: Connection,
    viewer: StaffUser,
    mates: Sequence[str],
    filters: list[ColumnElement[bool]],
    now: datetime,
) -> dict[Tab, int]:
    load = connection.execute(
        select(tickets.c.owner, tickets.c.status, func.count())
        .where(text(QUEUED), *filters)
        .group_by(tickets.c.owner, tickets.c.status)
    ).all()
    team = set(mates)
    counts = dict.fromkeys(Tab, 0)
    for owner, state, found in load:
        counts[Tab.OPEN] += found
        counts[Tab.MINE] += found if owner == viewer.email else 0
        counts[Tab.UNOWNED] += found if owner is None else 0
        counts[Tab.TEAMS] += found if owner in team else 0
        counts[Tab.WAITING] += found if state == Status.WAITING.value else 0
    counts[Tab.RESOLVED] = connection.execute(
        select(func.count()).where(_tab(Tab.RESOLVED, viewer, mates, now), *filters)
    ).scalar_one()
    return counts


def _encode(sort: Sort, row: Row[Any]) -> str:
    value = getattr(row, SORT_COLUMN[sort].name)
    data = [sort.value, value.isoformat() if value else None, row.id]
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _decode(cursor: str | None, sort: Sort) -> tuple[datetime | None, int] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        name, value, ticket_id = json.loads(raw)
        at = datetime.fromisoformat(value) if value is not None else None
    except (binascii.Error, ValueError, TypeError) as exc:
        raise BadCursor(cursor[:40]) from exc
    if name != sort.value or not isinstance(ticket_id, int) or (at is None and sort != Sort.SLA):
        raise BadCursor(cursor[:40])
    if at is not None and at.tzinfo is None:
        raise BadCursor(cursor[:40])
    return at, ticket_id
