"""What the staff workspace shows: the queue, search results and the whole ticket, as
frozen values the store builds and the web renders (staff only: addresses, notes and
every event included)."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ticketd.routing.model import EngineerInfo, Priority, Role, Status
from ticketd.routing.sla import REMINDER_FRACTION

OPEN_STATUSES = (Status.OPEN, Status.PENDING, Status.WAITING)


class BadCursor(ValueError):
    """A paging cursor the queue or the search did not hand out (or for another sort)."""


RESOLVED_STATUSES = (Status.RESOLVED, Status.CLOSED)
RECENTLY_RESOLVED = timedelta(days=7)
"""How far back the ``resolved`` tab looks."""
HISTORY_LIMIT = 20
WEBMAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "naver.com",
        "daum.net",
        "hanmail.net",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "yahoo.com",
        "yahoo.co.kr",
        "icloud.com",
        "me.com",
        "kakao.com",
        "nate.com",
        "proton.me",
        "protonmail.com",
    }
)
"""Public mail providers: sharing one says nothing about a customer's company."""


class Tab(enum.StrEnum):
    """The queue's tabs. ``teams``: open tickets owned by anyone sharing a team with the
    viewer; ``open``: every open, pending or waiting ticket; ``resolved``: resolved or
    closed in the last 7 days."""

    MINE = "mine"
    UNOWNED = "unowned"
    TEAMS = "teams"
    OPEN = "open"
    WAITING = "waiting"
    RESOLVED = "resolved"


class Sort(enum.StrEnum):
    """``age``: oldest first; ``sla``: soonest due first (tickets without a due time last);
    ``activity``: most recently updated first."""

    AGE = "age"
    SLA = "sla"
    ACTIVITY = "activity"


class SlaState(enum.StrEnum):
    """The badge of a ticket's running first-response clock (none once answered)."""

    NONE = "none"
    OK = "ok"
    SOON = "soon"
    BREACHED = "breached"


@dataclass(frozen=True, slots=True)
class StaffUser:
    """A signed-in engineer (from the config's ``[[engineers]]``)."""

    email: str
    name: str
    role: Role
    teams: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class QueueQuery:
    """One view of the queue. ``requester`` is an address or ``@domain``; ``since`` and
    ``until`` bound the creation time; ``cursor`` is the opaque ``next`` of a previous page."""

    tab: Tab = Tab.MINE
    status: tuple[Status, ...] = ()
    owner: str | None = None
    priority: Priority | None = None
    type: str | None = None
    requester: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    sort: Sort = Sort.AGE
    cursor: str | None = None
    limit: int = 50
    code: str | None = None
    """A classification code's path: tickets with that code or one below it."""


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One ticket in a list (the queue, search results, a customer's history)."""

    tracking: str
    subject: str
    status: Status
    priority: Priority
    type: str | None
    requester: str
    requester_name: str
    owner: str | None
    created_at: datetime
    updated_at: datetime
    duplicate_count: int = 0
    sla_due: datetime | None = None
    sla_state: SlaState = SlaState.NONE
    code: str | None = None
    owner_away: bool = False
    """The owner is away while an SLA clock runs: at risk."""


@dataclass(frozen=True, slots=True)
class QueuePage:
    """A page of rows, the cursor of the next one (None at the end) and every tab's count
    for the same viewer and filters."""

    rows: tuple[QueueRow, ...]
    next: str | None
    counts: Mapping[Tab, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A ticket found by a search, with a short excerpt around the first match."""

    row: QueueRow
    excerpt: str
    where: str  # "subject" | "message" | "note"


@dataclass(frozen=True, slots=True)
class StaffAttachment:
    id: int
    filename: str
    content_type: str
    size: int
    removed: bool = False
    """Retention removed the file; its name, type and size stay."""


@dataclass(frozen=True, slots=True)
class StaffEvent:
    """One step of the timeline: every kind (messages, notes, status and owner changes,
    duplicates, bounces, automatic mail, rejected commands). ``text`` is the message or
    note's full text when there is one."""

    id: int
    kind: str
    at: datetime
    actor: str
    public: bool
    summary: str
    text: str | None = None
    attachments: tuple[StaffAttachment, ...] = ()
    value: str | None = None
    """The event's value where its kind has one (a ``csat`` event's rating)."""


@dataclass(frozen=True, slots=True)
class Follower:
    email: str
    name: str


@dataclass(frozen=True, slots=True)
class StaffTicket:
    """The whole ticket for staff. ``version`` changes whenever anything is recorded on it
    (the id of its newest event); ``history``: the requester's and the requester's company
    domain's other tickets, newest first."""

    row: QueueRow
    language: str
    version: int
    events: tuple[StaffEvent, ...]
    followers: tuple[Follower, ...]
    minutes_worked: int
    first_response_at: datetime | None
    merged_into: str | None
    history: tuple[QueueRow, ...]
    domain: str
    code_suggestion: str | None = None
    """The path a keyword rule suggested for the ticket, if any."""


def sla_state(
    status: Status,
    created_at: datetime,
    due: datetime | None,
    now: datetime,
    *,
    answered: bool,
    breached: bool,
) -> SlaState:
    """The first-response badge: ``soon`` once 75 % of the window from creation to ``due``
    has passed, ``breached`` at the due time or once the breach was recorded, ``none``
    once answered, without a due time, or when the ticket is not open."""
    if answered or due is None or status not in OPEN_STATUSES:
        return SlaState.NONE
    if breached or now >= due:
        return SlaState.BREACHED
    if now >= created_at + (due - created_at) * REMINDER_FRACTION:
        return SlaState.SOON
    return SlaState.OK


def company_domain(email: str) -> str | None:
    """The domain whose tickets make up a customer's company history (None for public
    webmail providers and addresses without a domain)."""
    domain = email.rpartition("@")[2].lower()
    return domain if domain and "@" in email and domain not in WEBMAIL_DOMAINS else None


def team_mates(viewer: StaffUser, engineers: Sequence[EngineerInfo]) -> tuple[str, ...]:
    """The addresses of the engineers sharing a team with ``viewer`` (the viewer included
    when in a team), sorted."""
    teams = set(viewer.teams) | {
        team for e in engineers if e.email == viewer.email for team in e.teams
    }
    mates = {e.email for e in engineers if teams & set(e.teams)}
    return tuple(sorted(mates | ({viewer.email} if teams else set())))
