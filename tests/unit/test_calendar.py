"""Business time: exact due instants across weekends, Korean lunar holidays, extra
workdays, lunch breaks and DST, and the SLA policy's per-priority and next-reply targets."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ticketd.daemon.business_calendar import public_holidays
from ticketd.routing.calendar import BusinessCalendar, parse_ranges
from ticketd.routing.model import Priority
from ticketd.routing.sla import SlaPolicy

SEOUL = ZoneInfo("Asia/Seoul")
WEEK = {day: parse_ranges("09:00-18:00") for day in ("mon", "tue", "wed", "thu", "fri")}
WEEK = {**WEEK, "sat": (), "sun": ()}  # type: ignore[dict-item]
KR_2027 = public_holidays("KR", range(2027, 2028))


def kst(*args: int) -> datetime:
    return datetime(*args, tzinfo=SEOUL)  # type: ignore[misc]


def korea(**kwargs: object) -> BusinessCalendar:
    return BusinessCalendar("Asia/Seoul", WEEK, KR_2027, **kwargs)  # type: ignore[arg-type]


def test_friday_evening_claim_with_four_hours_is_due_monday_noon() -> None:
    calendar = korea()
    due = calendar.add(kst(2027, 1, 8, 17), 4)
    assert due == kst(2027, 1, 11, 12)
    assert calendar.elapsed(kst(2027, 1, 8, 17), due) == timedelta(hours=4)
    assert not calendar.is_open(kst(2027, 1, 9, 12))
    assert calendar.is_open(kst(2027, 1, 11, 9, 30))


def test_seollal_2027_stops_the_clock_until_the_next_workday() -> None:
    assert {date(2027, 2, 8), date(2027, 2, 9)} <= KR_2027
    assert korea().add(kst(2027, 2, 5, 17), 4) == kst(2027, 2, 10, 12)


def test_chuseok_2027_stops_the_clock_for_three_days() -> None:
    assert korea().add(kst(2027, 9, 13, 17), 4) == kst(2027, 9, 17, 12)


def test_an_extra_workday_on_a_saturday_has_mondays_hours() -> None:
    calendar = korea(workdays=frozenset({date(2027, 2, 13)}))
    assert calendar.add(kst(2027, 2, 12, 17), 4) == kst(2027, 2, 13, 12)
    assert korea().add(kst(2027, 2, 12, 17), 4) == kst(2027, 2, 15, 12)


def test_an_extra_holiday_is_closed() -> None:
    calendar = BusinessCalendar("Asia/Seoul", WEEK, frozenset({date(2027, 5, 4)}))
    assert calendar.add(kst(2027, 5, 3, 17), 2) == kst(2027, 5, 5, 10)


def test_a_lunch_break_is_not_counted_and_a_claim_at_night_starts_at_opening() -> None:
    week = {"mon": parse_ranges("09:00-12:00,13:00-18:00")}
    calendar = BusinessCalendar("Asia/Seoul", week)  # type: ignore[arg-type]
    assert calendar.add(kst(2027, 1, 11, 11), 2) == kst(2027, 1, 11, 14)
    assert calendar.add(kst(2027, 1, 10, 23, 59, 30), 0.5) == kst(2027, 1, 11, 9, 30)
    assert calendar.add(kst(2027, 1, 11, 17, 59, 59), 2 / 3600) == kst(2027, 1, 18, 9, 0, 1)


def test_business_hours_across_a_dst_change_count_the_real_hours() -> None:
    york = ZoneInfo("America/New_York")
    calendar = BusinessCalendar("America/New_York", WEEK)
    friday = datetime(2026, 3, 6, 17, tzinfo=york)
    assert calendar.add(friday, 4) == datetime(2026, 3, 9, 12, tzinfo=york)
    always = BusinessCalendar("America/New_York", None, frozenset({date(2026, 3, 10)}))
    saturday = datetime(2026, 3, 7, tzinfo=york)
    assert always.add(saturday, 48) - saturday == timedelta(hours=48)
    assert always.add(saturday, 48).astimezone(york) == datetime(2026, 3, 9, 1, tzinfo=york)
    assert always.add(saturday, 72) == datetime(2026, 3, 11, 1, tzinfo=york)


def test_round_the_clock_is_the_wall_clock() -> None:
    start = datetime(2027, 2, 6, 18, tzinfo=UTC)
    assert BusinessCalendar().add(start, 24) == start + timedelta(hours=24)
    assert BusinessCalendar().is_open(start)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("9-18", "expected ranges"),
        ("18:00-09:00", "must end after"),
        ("13:00-18:00,09:00-12:00", "in order"),
        ("09:00-25:00", "expected ranges"),
    ],
)
def test_bad_ranges_are_explained(text: str, problem: str) -> None:
    assert problem in str(parse_ranges(text))


def test_an_urgent_ticket_gets_its_own_target_and_the_reminder_falls_at_75_percent() -> None:
    policy = SlaPolicy(24, {Priority.URGENT: 4, Priority.HIGH: 8}, 8, korea())
    urgent = policy.first_response(kst(2027, 1, 8, 17), Priority.URGENT)
    assert (urgent.remind_at, urgent.due_at) == (kst(2027, 1, 11, 11), kst(2027, 1, 11, 12))
    normal = policy.first_response(kst(2027, 1, 8, 17), Priority.NORMAL)
    assert normal.due_at == kst(2027, 1, 13, 14)
    following = policy.next_response(kst(2027, 9, 13, 17))
    assert following is not None and following.due_at == kst(2027, 9, 17, 16)
    assert SlaPolicy().next_response(kst(2027, 1, 8)) is None
