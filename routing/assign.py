"""Owner assignment: routing rules first, then the least-loaded engineer on duty.

Who is on duty: an engineer's stored availability (set in the workspace) when there is
one, else the TOML ``available`` and ``away_until``. "Away until D" lasts through the day D in the
service's timezone; from the next midnight there the engineer is on duty again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ticketd.mail.message import InboundMessage
from ticketd.routing.model import EngineerInfo, RoutingRuleSpec
from ticketd.routing.outcomes import AssignKind, AssignReason


@dataclass(frozen=True, slots=True)
class Availability:
    """What an engineer (or a manager for them) set: away or not, and when away ends
    (``back_at``, aware UTC; None: until they come back)."""

    away: bool
    back_at: datetime | None = None

    def away_at(self, now: datetime) -> bool:
        return self.away and (self.back_at is None or now < self.back_at)


def back_at(until: date, timezone: str) -> datetime:
    """The instant "away until ``until``" ends: the next midnight in ``timezone``."""
    midnight = datetime.combine(until + timedelta(days=1), time(), ZoneInfo(timezone))
    return midnight.astimezone(ZoneInfo("UTC"))


def last_away_day(back: datetime, timezone: str) -> date:
    """The "until" day of an absence ending at ``back`` (the inverse of ``back_at``)."""
    return (back.astimezone(ZoneInfo(timezone)) - timedelta(days=1)).date()


def on_duty(
    engineers: Sequence[EngineerInfo], stored: Mapping[str, Availability], now: datetime
) -> tuple[EngineerInfo, ...]:
    """The engineers with ``available`` as it is at ``now``."""
    return tuple(
        replace(e, available=not stored[e.email].away_at(now))
        if e.email in stored
        else replace(e, available=e.available and not configured_away(e, now))
        for e in engineers
    )


def configured_away(engineer: EngineerInfo, now: datetime) -> bool:
    """Away at ``now`` by the TOML's ``away_until``."""
    return engineer.away_until is not None and now < engineer.away_until


@dataclass(frozen=True, slots=True)
class Assignment:
    owner: str | None
    reason: AssignReason


def rule_matches(rule: RoutingRuleSpec, msg: InboundMessage) -> bool:
    """All of a rule's given conditions hold (each condition: any of its words)."""
    sender = msg.from_addr.email if msg.from_addr else ""
    domain = sender.rpartition("@")[2]
    subject = msg.subject.casefold()
    body = msg.text.casefold()
    checks: tuple[tuple[tuple[str, ...], Callable[[str], bool]], ...] = (
        (rule.from_domain, lambda d: domain == d or domain.endswith("." + d)),
        (rule.from_address, lambda a: sender == a),
        (rule.subject_contains, lambda w: w in subject),
        (rule.body_contains, lambda w: w in body),
    )
    given = [(values, test) for values, test in checks if values]
    return bool(given) and all(any(test(v) for v in values) for values, test in given)


def least_loaded(
    candidates: Sequence[EngineerInfo], load: Mapping[str, int], last: str | None
) -> EngineerInfo | None:
    """The candidate with the fewest open tickets; ties go round-robin after ``last``."""
    if not candidates:
        return None
    fewest = min(load.get(e.email, 0) for e in candidates)
    tied = [e for e in candidates if load.get(e.email, 0) == fewest]
    order = [e.email for e in candidates]
    start = order.index(last) + 1 if last in order else 0
    return min(tied, key=lambda e: (order.index(e.email) - start) % len(order))


def choose_owner(
    msg: InboundMessage,
    rules: Sequence[RoutingRuleSpec],
    engineers: Sequence[EngineerInfo],
    load: Mapping[str, int],
    last: str | None,
) -> Assignment:
    """Decide the owner of a new ticket and say why; a rule naming an engineer who is
    away is passed over."""
    away = {e.email for e in engineers if not e.available}
    for index, rule in enumerate(rules):
        if not rule_matches(rule, msg) or rule.owner in away:
            continue
        if rule.owner:
            return Assignment(rule.owner, AssignReason(AssignKind.RULE_FIXED, index + 1))
        team = [e for e in engineers if rule.team in e.teams and e.available]
        pick = least_loaded(team, load, last)
        if pick:
            team_rule = AssignReason(AssignKind.RULE_TEAM, index + 1, rule.team or "")
            return Assignment(pick.email, team_rule)
    on_duty = [e for e in engineers if e.available]
    pick = least_loaded(on_duty, load, last)
    if pick:
        return Assignment(pick.email, AssignReason(AssignKind.LEAST_LOADED))
    return Assignment(None, AssignReason(AssignKind.NOBODY_ON_DUTY))
