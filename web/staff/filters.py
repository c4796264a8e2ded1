"""The queue's filters as typed in a URL, read into a ``QueueQuery``. Every bad value is
named (a key of the interface strings) and left out; nothing typed can raise."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from starlette.datastructures import QueryParams

from ticketd.routing.codes import key
from ticketd.routing.commands import TYPES
from ticketd.routing.model import Priority, Status
from ticketd.routing.workspace import QueueQuery, QueueRow, Sort, Tab

MAX_TEXT = 320
MAX_QUERY = 200
MAX_LIMIT = 200
_ADDRESS = re.compile(r"[^\s@<>\"]{1,64}@[^\s@<>\"]{1,255}")
_DOMAIN = re.compile(r"@[A-Za-z0-9.-]{1,253}")
_CURSOR = re.compile(r"[A-Za-z0-9._~=:,+/-]{1,400}")
E = TypeVar("E", Tab, Sort, Priority)


@dataclass(frozen=True, slots=True)
class Filters:
    """A read query, the search words (API only) and the problems found, in order."""

    query: QueueQuery
    words: str
    problems: tuple[str, ...]

    def from_the_start(self) -> Filters:
        """The same filters from the first page: the cursor was not one the reader gave."""
        problems = tuple(dict.fromkeys((*self.problems, "bad_cursor")))
        return Filters(replace(self.query, cursor=None), self.words, problems)


def _choice(kind: type[E], text: str | None, problem: str, problems: list[str]) -> E | None:
    if not text:
        return None
    try:
        return kind(text)
    except ValueError:
        problems.append(problem)
        return None


def _day(text: str | None, problem: str, problems: list[str]) -> date | None:
    if not text:
        return None
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
    except ValueError:
        pass
    problems.append(problem)
    return None


def _statuses(params: QueryParams, problems: list[str]) -> tuple[Status, ...]:
    found: list[Status] = []
    for value in params.getlist("status"):
        for part in filter(None, value.split(",")):
            try:
                status = Status(part.strip())
            except ValueError:
                problems.append("bad_status")
                continue
            if status not in found:
                found.append(status)
    return tuple(found)


def read_filters(params: QueryParams, zone: ZoneInfo, default_tab: Tab, limit: int = 50) -> Filters:
    """The query the parameters ask for; dates are whole days in the service's timezone
    (``until`` included); ``limit`` (1 to ``MAX_LIMIT``) replaces the page size."""
    problems: list[str] = []
    asked = params.get("limit")
    if asked is not None:
        if asked.isdigit() and 1 <= int(asked) <= MAX_LIMIT:
            limit = int(asked)
        else:
            problems.append("bad_limit")
    tab = _choice(Tab, params.get("tab"), "bad_tab", problems) or default_tab
    sort = _choice(Sort, params.get("sort"), "bad_sort", problems) or Sort.AGE
    priority = _choice(Priority, params.get("priority"), "bad_priority", problems)
    kind = params.get("type") or None
    if kind is not None and kind not in TYPES:
        problems.append("bad_type")
        kind = None
    owner = (params.get("owner") or "").strip().lower() or None
    if owner is not None and not (len(owner) <= MAX_TEXT and _ADDRESS.fullmatch(owner)):
        problems.append("bad_owner")
        owner = None
    requester = (params.get("requester") or "").strip().lower() or None
    if requester is not None and not (
        len(requester) <= MAX_TEXT
        and (_ADDRESS.fullmatch(requester) or _DOMAIN.fullmatch(requester))
    ):
        problems.append("bad_requester")
        requester = None
    since_day = _day(params.get("since"), "bad_since", problems)
    until_day = _day(params.get("until"), "bad_until", problems)
    if since_day and until_day and since_day > until_day:
        problems.append("bad_period")
        since_day = until_day = None
    cursor = params.get("cursor") or None
    if cursor is not None and not _CURSOR.fullmatch(cursor):
        problems.append("bad_cursor")
        cursor = None
    words = (params.get("q") or "").strip()
    if len(words) > MAX_QUERY:
        problems.append("bad_query")
        words = ""
    query = QueueQuery(
        tab=tab,
        status=_statuses(params, problems),
        owner=owner,
        priority=priority,
        type=kind,
        requester=requester,
        since=_start(since_day, zone),
        until=_start(until_day + timedelta(days=1), zone) if until_day else None,
        sort=sort,
        cursor=cursor,
        limit=limit,
        code=(params.get("code") or "").strip()[:MAX_TEXT] or None,
    )
    return Filters(query, words, tuple(dict.fromkeys(problems)))


def _start(day: date | None, zone: ZoneInfo) -> datetime | None:
    return datetime.combine(day, time(), zone) if day else None


def matches(row: QueueRow, query: QueueQuery) -> bool:
    """Whether a row (a search hit's) passes the query's filters other than the tab."""
    requester = query.requester or ""
    return (
        (not query.status or row.status in query.status)
        and (query.owner is None or (row.owner or "").lower() == query.owner)
        and (query.priority is None or row.priority == query.priority)
        and (query.type is None or row.type == query.type)
        and (
            not requester
            or row.requester.lower() == requester
            or (requester.startswith("@") and row.requester.lower().endswith(requester))
        )
        and (query.since is None or row.created_at >= query.since)
        and (query.until is None or row.created_at < query.until)
        and (query.code is None or in_code(row.code, query.code))
    )


def in_code(code: str | None, path: str) -> bool:
    """Whether a ticket's code is ``path`` or below it (canonical paths)."""
    wanted, mine = key(path), key(code or "")
    return bool(code) and (mine == wanted or mine.startswith(f"{wanted}/"))
