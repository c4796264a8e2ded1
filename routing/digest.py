"""The managers' daily digest: when one is due and for which days (``due_period``), and
what it says (``build_digest``), as frozen values built from figures the store gives.

A digest is sent on a configured weekday once the local time (``[service].timezone``)
has passed ``[digest].time``, and covers the days since the previous configured weekday
(every day: yesterday; Monday after a Friday: Friday to Sunday). Only the latest period is
ever due: after downtime the missed ones are skipped, never sent as a backlog, and a
period ending on or before the last one sent (a clock set back) is never due again."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ticketd.mail.message import Address
from ticketd.routing.assign import Availability, on_duty
from ticketd.routing.model import EngineerInfo, Status
from ticketd.routing.reports import Report
from ticketd.routing.workspace import SlaState, sla_state

DIGEST_KIND = "digest"
"""The digest's template and outbox kind."""
TOP_CODES = 5
LISTED = 20
"""Tickets named per section; the rest are counted."""


@dataclass(frozen=True, slots=True)
class DigestSettings:
    """``[digest]``: the local ``at`` time, the weekdays (0 = Monday) it is sent on, its
    language and recipients."""

    at: time
    timezone: str
    language: str
    recipients: tuple[Address, ...]
    weekdays: frozenset[int] = frozenset(range(7))


@dataclass(frozen=True, slots=True)
class DigestPeriod:
    """The local days a digest covers, ``start`` to ``end`` included; ``end`` is its key."""

    start: date
    end: date


@dataclass(frozen=True, slots=True)
class OpenTicketFact:
    """An open ticket as the store gives it: unowned, or with a running first-response
    clock."""

    tracking: str
    subject: str
    status: Status
    owner: str | None
    created_at: datetime
    due: datetime | None
    answered: bool
    breached: bool


@dataclass(frozen=True, slots=True)
class RatingFact:
    """A bad rating given in the period, with its comment."""

    tracking: str
    subject: str
    owner: str | None
    comment: str


@dataclass(frozen=True, slots=True)
class DigestFacts:
    """What the store knows for a digest: the period's report (``total`` the period,
    ``previous`` the same number of days before it), open tickets, bad ratings and the
    availability engineers set in the workspace."""

    report: Report
    open_tickets: tuple[OpenTicketFact, ...]
    bad_ratings: tuple[RatingFact, ...]
    availability: Mapping[str, Availability]


@dataclass(frozen=True, slots=True)
class DigestTicket:
    tracking: str
    subject: str
    owner: str | None
    due: datetime | None


@dataclass(frozen=True, slots=True)
class Listing:
    """The first ``LISTED`` tickets of a section, and how many there are in all."""

    tickets: tuple[DigestTicket, ...]
    count: int


@dataclass(frozen=True, slots=True)
class Change:
    """A figure of the period and of the same number of days before it."""

    now: int
    before: int

    @property
    def delta(self) -> int:
        return self.now - self.before


@dataclass(frozen=True, slots=True)
class Digest:
    """Everything one digest says."""

    period: DigestPeriod
    new: Change
    resolved: Change
    duplicates: Change
    open_by_owner: tuple[tuple[str, int], ...]
    breached: Listing
    at_risk: Listing
    unowned: Listing
    away_due: Listing
    top_codes: tuple[tuple[str, int], ...]
    bad_ratings: tuple[RatingFact, ...]


def due_period(
    now: datetime, settings: DigestSettings, last_sent: date | None
) -> DigestPeriod | None:
    """The period a digest is due for at ``now``, given the last period end sent, or None."""
    local = now.astimezone(ZoneInfo(settings.timezone))
    today = local.date()
    if today.weekday() not in settings.weekdays or local.time() < settings.at:
        return None
    end = today - timedelta(days=1)
    if last_sent is not None and end <= last_sent:
        return None
    gap = 1
    while (today - timedelta(days=gap)).weekday() not in settings.weekdays:
        gap += 1
    return DigestPeriod(today - timedelta(days=gap), end)


def build_digest(
    period: DigestPeriod, facts: DigestFacts, engineers: Sequence[EngineerInfo], now: datetime
) -> Digest:
    """The digest of ``period`` at ``now``: SLA badges as the workspace shows them,
    engineers away as ``[[engineers]].available`` and the workspace say."""
    total, previous = facts.report.total, facts.report.previous
    states = {
        fact.tracking: sla_state(
            fact.status,
            fact.created_at,
            fact.due,
            now,
            answered=fact.answered,
            breached=fact.breached,
        )
        for fact in facts.open_tickets
    }
    away = {e.email for e in on_duty(engineers, facts.availability, now) if not e.available}

    def listing(*wanted: SlaState, owners: set[str] | None = None) -> Listing:
        found = [
            fact
            for fact in facts.open_tickets
            if states[fact.tracking] in wanted and (owners is None or fact.owner in owners)
        ]
        found.sort(key=lambda fact: (fact.due or fact.created_at, fact.tracking))
        return _listing(found)

    unowned = sorted(
        (fact for fact in facts.open_tickets if fact.owner is None),
        key=lambda fact: (fact.created_at, fact.tracking),
    )
    return Digest(
        period=period,
        new=Change(total.new, previous.new),
        resolved=Change(total.resolved, previous.resolved),
        duplicates=Change(total.duplicates, previous.duplicates),
        open_by_owner=tuple(
            sorted(facts.report.open_by_owner.items(), key=lambda item: (-item[1], item[0]))
        ),
        breached=listing(SlaState.BREACHED),
        at_risk=listing(SlaState.SOON),
        unowned=_listing(unowned),
        away_due=listing(SlaState.OK, SlaState.SOON, SlaState.BREACHED, owners=away),
        top_codes=tuple(
            sorted(total.by_code.items(), key=lambda item: (-item[1], item[0]))[:TOP_CODES]
        ),
        bad_ratings=facts.bad_ratings,
    )


def _listing(found: Sequence[OpenTicketFact]) -> Listing:
    shown = tuple(DigestTicket(f.tracking, f.subject, f.owner, f.due) for f in found[:LISTED])
    return Listing(shown, len(found))
