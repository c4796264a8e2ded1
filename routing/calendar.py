"""Business time (pure): the weekly opening hours, the holidays and the extra workdays an
SLA clock runs in, and exact arithmetic on it in the service's timezone.

Without opening hours every day is open round the clock (``00:00-24:00``), so a calendar
without holidays is the wall clock. An extra workday (a Saturday worked in place of a
bridge holiday) keeps its own weekday's hours, or when that weekday is closed the hours of
the first open weekday, Monday first. Local times are turned into instants by ``zoneinfo``,
so a day that a DST change shortens or lengthens counts as long as it really is."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Range = tuple[time, time | None]
"""An opening range, local start to local end (``None``: midnight at the end of the day)."""

ROUND_THE_CLOCK: tuple[Range, ...] = ((time(0), None),)
MAX_CLOSED_DAYS = 3660
"""How far ``add`` looks for an open day before it gives up (a calendar that never opens)."""


def parse_ranges(text: str) -> tuple[Range, ...] | str:
    """``"09:00-12:00,13:00-18:00"`` as ranges, ``""`` as closed; a problem as a string."""
    ranges: list[Range] = []
    last = 0
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        start_text, _, end_text = part.partition("-")
        start, end = _minutes(start_text), _minutes(end_text)
        if start is None or end is None or start >= DAY_MINUTES:
            return f"expected ranges like 09:00-18:00, got {part!r}"
        if end <= start:
            return f"a range must end after it starts: {part!r}"
        if start < last:
            return f"ranges must be in order and not overlap: {text!r}"
        last = end
        ranges.append((_time(start), None if end == DAY_MINUTES else _time(end)))
    return tuple(ranges)


DAY_MINUTES = 24 * 60


def _minutes(text: str) -> int | None:
    """``"HH:MM"`` (``24:00`` included) as minutes since midnight."""
    hours, colon, minutes = text.strip().partition(":")
    if not (colon and hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        return None
    value = int(hours) * 60 + int(minutes)
    return value if int(minutes) < 60 and value <= DAY_MINUTES else None


def _time(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """When SLA clocks run: ``week`` maps ``mon``…``sun`` to opening ranges (a missing or
    empty day is closed; no week at all is round the clock)."""

    timezone: str = "UTC"
    week: Mapping[str, tuple[Range, ...]] | None = None
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_zone", ZoneInfo(self.timezone))

    @property
    def wall_clock(self) -> bool:
        """Every instant counts (no opening hours, no holidays)."""
        return self.week is None and not self.holidays

    def hours_on(self, day: date) -> tuple[Range, ...]:
        """The opening ranges of one local date."""
        if day in self.holidays and day not in self.workdays:
            return ()
        if self.week is None:
            return ROUND_THE_CLOCK
        own = self.week.get(WEEKDAYS[day.weekday()], ())
        if own or day not in self.workdays:
            return own
        return next((self.week[d] for d in WEEKDAYS if self.week.get(d)), ())

    def describe(self, at: datetime) -> str:
        """An instant as people at the desk read it (``2027-02-15 12:00 KST``)."""
        return at.astimezone(self._zone).strftime("%Y-%m-%d %H:%M %Z")

    def add(self, start: datetime, hours: float) -> datetime:
        """The instant ``hours`` of business time after ``start`` (to the microsecond)."""
        if self.wall_clock:
            return start + timedelta(hours=hours)
        left = timedelta(hours=hours)
        for opens, closes in self._open_spans(start):
            if closes - opens >= left:
                return opens + left
            left -= closes - opens
        raise ValueError("the business calendar has no open time")

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """The business time between two instants (zero when ``end`` is not later)."""
        if end <= start:
            return timedelta(0)
        if self.wall_clock:
            return end - start
        total = timedelta(0)
        for opens, closes in self._open_spans(start):
            if opens >= end:
                break
            total += min(closes, end) - opens
        return total

    def is_open(self, at: datetime) -> bool:
        """Whether the clock runs at ``at``."""
        span = next(self._open_spans(at), None)
        return span is not None and span[0] == at.astimezone(UTC)

    def _open_spans(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The open spans from ``start`` on, in UTC, clipped to begin no earlier."""
        start = start.astimezone(UTC)
        day = start.astimezone(self._zone).date() - timedelta(days=1)
        closed = 0
        while closed <= MAX_CLOSED_DAYS:
            ranges = self.hours_on(day)
            closed = 0 if ranges else closed + 1
            for begin, end in ranges:
                opens = self._instant(day, begin)
                closes = self._closing(day, end)
                if closes > start:
                    yield max(opens, start), closes
            day += timedelta(days=1)

    def _closing(self, day: date, end: time | None) -> datetime:
        """A range's end (``None``: the next midnight, however long the day was)."""
        if end is None:
            return self._instant(day + timedelta(days=1), time(0))
        return self._instant(day, end)

    def _instant(self, day: date, at: time) -> datetime:
        return datetime.combine(day, at, tzinfo=self._zone).astimezone(UTC)


ALWAYS = BusinessCalendar()
