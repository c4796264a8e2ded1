"""The ticket vocabulary shared by the core, the store, notifications and the web."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Status(enum.StrEnum):
    """Ticket status. ``OPEN_STATUSES`` count towards an engineer's load."""

    OPEN = "open"
    PENDING = "pending"
    WAITING = "waiting"
    RESOLVED = "resolved"
    CLOSED = "closed"


OPEN_STATUSES: frozenset[Status] = frozenset({Status.OPEN, Status.PENDING, Status.WAITING})


class Priority(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Role(enum.StrEnum):
    AGENT = "agent"
    MANAGER = "manager"


@dataclass(frozen=True, slots=True)
class EngineerInfo:
    """An engineer as the core sees one: who, what role, which teams, on duty or not."""

    email: str
    name: str
    role: Role = Role.AGENT
    teams: tuple[str, ...] = ()
    available: bool = True


@dataclass(frozen=True, slots=True)
class RoutingRuleSpec:
    """One ``[[routing.rules]]`` entry: conditions (all lower-cased) and a target."""

    from_domain: tuple[str, ...] = ()
    from_address: tuple[str, ...] = ()
    subject_contains: tuple[str, ...] = ()
    body_contains: tuple[str, ...] = ()
    owner: str | None = None
    team: str | None = None


@dataclass(frozen=True, slots=True)
class TicketRef:
    """The little the core needs to know about an existing ticket."""

    id: int
    tracking: str
    status: Status
    owner: str | None
    requester: str
    subject: str
    language: str
