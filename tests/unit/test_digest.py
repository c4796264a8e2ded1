"""The managers' digest in the core: when one is due (an injected clock) and what it
says, counted by hand on a small set."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ticketd.mail.message import Address
from ticketd.routing.assign import Availability
from ticketd.routing.digest import (
    DigestFacts,
    DigestPeriod,
    DigestSettings,
    OpenTicketFact,
    RatingFact,
    build_digest,
    due_period,
)
from ticketd.routing.model import EngineerInfo, Role, Status
from ticketd.routing.reports import Granularity, PeriodFigures, Report, ReportRequest

SEOUL = ZoneInfo("Asia/Seoul")
EVERY_DAY = DigestSettings(time(9, 0), "Asia/Seoul", "ko", (Address("bob@example.com", "Bob"),))
WORKDAYS = DigestSettings(time(9, 0), "Asia/Seoul", "ko", EVERY_DAY.recipients, frozenset(range(5)))


def seoul(day: int, hour: int, minute: int = 0) -> datetime:
    """December ``day``, 2026 (the 1st is a Tuesday) in Seoul, as UTC."""
    return datetime(2026, 12, day, hour, minute, tzinfo=SEOUL).astimezone(UTC)


def dec(day: int) -> date:
    return date(2026, 12, day)


def test_nothing_is_due_before_the_local_time() -> None:
    assert due_period(seoul(2, 8, 59), EVERY_DAY, None) is None


def test_after_the_time_yesterday_is_due_in_the_service_timezone() -> None:
    # 00:30 UTC is 09:30 in Seoul: the local day, not the UTC one, decides
    assert due_period(datetime(2026, 12, 2, 0, 30, tzinfo=UTC), EVERY_DAY, None) == DigestPeriod(
        dec(1), dec(1)
    )
    assert due_period(datetime(2026, 12, 1, 23, 30, tzinfo=UTC), EVERY_DAY, None) is None


def test_once_sent_the_day_is_not_due_again() -> None:
    assert due_period(seoul(2, 9), EVERY_DAY, None) == DigestPeriod(dec(1), dec(1))
    assert due_period(seoul(2, 9, 1), EVERY_DAY, dec(1)) is None
    assert due_period(seoul(2, 23, 59), EVERY_DAY, dec(1)) is None


def test_after_three_days_down_only_the_latest_day_is_due() -> None:
    assert due_period(seoul(5, 14), EVERY_DAY, dec(1)) == DigestPeriod(dec(4), dec(4))


def test_a_clock_set_back_never_resends() -> None:
    assert due_period(seoul(1, 10), EVERY_DAY, dec(1)) is None
    assert due_period(seoul(2, 10) - timedelta(days=2), EVERY_DAY, dec(1)) is None


def test_weekdays_skip_the_weekend_and_monday_covers_it() -> None:
    assert due_period(seoul(5, 10), WORKDAYS, dec(3)) is None  # Saturday
    assert due_period(seoul(6, 10), WORKDAYS, dec(3)) is None  # Sunday
    assert due_period(seoul(7, 10), WORKDAYS, dec(3)) == DigestPeriod(dec(4), dec(6))
    assert due_period(seoul(8, 10), WORKDAYS, dec(6)) == DigestPeriod(dec(7), dec(7))


NOW = seoul(2, 9)
ALICE, CAROL, DAVE = "alice@example.com", "carol@example.com", "dave@example.com"
ENGINEERS = (
    EngineerInfo(ALICE, "Alice"),
    EngineerInfo("bob@example.com", "Bob", Role.MANAGER),
    EngineerInfo(CAROL, "Carol", available=False),
    EngineerInfo(DAVE, "Dave"),
)


def ticket(
    tracking: str, owner: str | None, hours_ago: float, due_in: float | None, **more: object
) -> OpenTicketFact:
    created = NOW - timedelta(hours=hours_ago)
    due = NOW + timedelta(hours=due_in) if due_in is not None else None
    values: dict[str, object] = dict(
        tracking=tracking, subject=f"subject {tracking}", status=Status.OPEN, owner=owner,
        created_at=created, due=due, answered=False, breached=False,
    )  # fmt: skip
    values.update(more)
    return OpenTicketFact(**values)  # type: ignore[arg-type]


FACTS = DigestFacts(
    report=Report(
        request=ReportRequest(dec(1), dec(1), Granularity.DAY, "Asia/Seoul"),
        periods=(),
        total=PeriodFigures(
            start=dec(1),
            new=5,
            resolved=3,
            duplicates=1,
            by_code={"a": 1, "b": 4, "c": 2, "d": 2, "e": 1, "f": 3},
        ),
        previous=PeriodFigures(start=date(2026, 11, 30), new=2, resolved=3, duplicates=2),
        open_by_owner={ALICE: 3, DAVE: 1, CAROL: 3},
    ),
    open_tickets=(
        ticket("T-BREACHED", ALICE, 30, -6),  # past due
        ticket("T-RECORDED", ALICE, 2, 22, breached=True),  # breach recorded
        ticket("T-SOON", ALICE, 20, 4),  # 83 % of 24 h used
        ticket("T-OK", ALICE, 2, 22),  # 8 %
        ticket("T-ANSWERED", ALICE, 30, -6, answered=True),
        ticket("T-WAITING", ALICE, 30, -6, status=Status.RESOLVED),
        ticket("T-UNOWNED", None, 5, None),
        ticket("T-CAROL", CAROL, 1, 23),  # away by the TOML
        ticket("T-DAVE", DAVE, 20, 5),  # away in the workspace, at risk
    ),
    bad_ratings=(RatingFact("T-RATED", "slow", DAVE, "took a week"),),
    availability={DAVE: Availability(True), ALICE: Availability(True, NOW)},
)


def test_the_digest_counts_a_hand_made_day() -> None:
    digest = build_digest(DigestPeriod(dec(1), dec(1)), FACTS, ENGINEERS, NOW)
    assert (digest.new.now, digest.new.delta) == (5, 3)
    assert (digest.resolved.now, digest.resolved.delta) == (3, 0)
    assert (digest.duplicates.now, digest.duplicates.delta) == (1, -1)
    assert digest.open_by_owner == ((ALICE, 3), (CAROL, 3), (DAVE, 1))
    assert [t.tracking for t in digest.breached.tickets] == ["T-BREACHED", "T-RECORDED"]
    assert [t.tracking for t in digest.at_risk.tickets] == ["T-SOON", "T-DAVE"]
    assert [t.tracking for t in digest.unowned.tickets] == ["T-UNOWNED"]
    # Carol is away by the TOML, Dave in the workspace; Alice's absence ended at NOW
    assert [t.tracking for t in digest.away_due.tickets] == ["T-DAVE", "T-CAROL"]
    assert digest.top_codes == (("b", 4), ("f", 3), ("c", 2), ("d", 2), ("a", 1))
    assert [r.comment for r in digest.bad_ratings] == ["took a week"]


def test_long_sections_name_twenty_and_count_the_rest() -> None:
    many = tuple(ticket(f"T-{n:02}", None, n, None) for n in range(25))
    facts = DigestFacts(FACTS.report, many, (), {})
    unowned = build_digest(DigestPeriod(dec(1), dec(1)), facts, ENGINEERS, NOW).unowned
    assert unowned.count == 25 and len(unowned.tickets) == 20
    assert unowned.tickets[0].tracking == "T-24"  # oldest first
