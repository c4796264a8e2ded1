"""The report query layer: one ``SqlReports.report`` for ``ticketd report``, the dashboard
(``web/staff/ports.py`` ``ReportReader``) and the digest.

A report adds up local days (``store/report_days.py`` says what each day counts): the days
the cache keeps (``store/report_cache.py``, read as their largest kept blocks) and, gathered live,
the rest (today, and days changed since they were kept). Periods are those days grouped
into days, Monday weeks or months; so a ticket resolved on two days of one week counts
twice in that week's ``resolved`` (two resolutions). Per period, beyond the sums of its days:

- first response median and p90 hours over every response time of its days;
- ``sla_met_ratio``: among tickets created in it with a due time that were answered or are
  past due now, the share answered by their due time;
- ``by_owner``: ``open`` is the owner's tickets open at the period's end: their open
  tickets now, less those created since, plus those resolved or closed since (judged by
  the ticket's latest resolution, else its closing: a ticket reopened and resolved again
  counts as open in between only from its latest resolution's view); ``handled``: tickets
  resolved in it, by current owner; and the median first response of its tickets.

The whole range and the range of the same length before it are periods too;
``status_now`` and ``open_by_owner`` are the tickets as they are now.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, func, select, text

from ticketd.routing.reports import (
    Csat,
    OwnerFigures,
    PeriodFigures,
    Report,
    ReportRequest,
    counted_percentile,
    period_starts,
    previous_range,
)
from ticketd.store.report_blocks import cover
from ticketd.store.report_cache import (
    cached,
    days_between,
    first_day,
    kept_code_types,
    kept_counts,
    kept_responses,
)
from ticketd.store.report_days import CODE_TYPE, CODE_TYPE_MEASURE, Day, due_key, gather
from ticketd.store.schema import QUEUED, codes, tickets


@dataclass
class Tally:
    """A span of days added up: counts by measure and key (``report_cache.kept_counts``),
    response times by owner as seconds → how many."""

    counts: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    responses: defaultdict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))

    def add_day(self, day: Day, now: datetime) -> None:
        """A day gathered live, its due times judged against ``now`` as kept ones are."""
        later = due_key(now)
        for measure, key, n in day.counts():
            if measure != "due_at":
                self.counts[measure][key] += n
            elif key >= later:
                self.counts["due_later"][""] += n
        for owner, seconds, n in day.response_counts():
            self.responses[owner][seconds] += n

    def count(self, measure: str) -> int:
        return self.counts[measure][""]


class SqlReports:
    """Report figures read on ``engine`` (``web/staff/ports.py`` ``ReportReader``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def report(self, request: ReportRequest, now: datetime) -> Report:
        """The request's periods, its whole range, the range before it and the state now."""
        before, _ = previous_range(request.start, request.end)
        today = now.astimezone(ZoneInfo(request.timezone)).date()
        last = max(today, request.end)
        starts = period_starts(request.start, request.end, request.by)
        edges = [before, *starts, request.end + timedelta(days=1), last + timedelta(days=1)]
        with self.engine.connect() as connection:
            tallies, whole = _tallies(connection, request.timezone, edges, now)
            paths = _paths(connection)
            open_now = _open_by_owner(connection)
            status_now = _status_now(connection)
        periods = tallies[1:-1]
        figures = Figures(paths, open_now, _since(tallies))
        return Report(
            request=request,
            periods=tuple(
                figures.period(start, tally, span)
                for span, (start, tally) in enumerate(zip(starts, periods, strict=True), 1)
            ),
            total=figures.period(request.start, whole, len(periods), types=True),
            previous=figures.period(before, tallies[0], 0),
            status_now=status_now,
            open_by_owner=open_now,
        )


def _tallies(
    connection: Connection, timezone: str, edges: Sequence[date], now: datetime
) -> tuple[list[Tally], Tally]:
    """One tally per span of days between ``edges`` (the kept days read by block, the
    others gathered live), and the tally of the spans but the first and the last, the only
    one with code types (the range's kept ones summed by the database)."""
    last = edges[-1] - timedelta(days=1)
    kept = cached(connection, timezone, edges[0], last)
    first = first_day(connection, timezone) or edges[-1]
    live = [day for day in days_between(max(first, edges[0]), last) if day not in kept]
    spans = {
        (kind, start.isoformat()): span
        for span, (begin, end) in enumerate(pairwise(edges))
        for kind, start in cover(begin, end, kept, first)
    }
    tallies = [Tally() for _ in edges[1:]]
    whole = Tally()
    inner = range(1, len(tallies) - 1)
    for kind, start, measure, counts in kept_counts(connection, timezone, spans, now):
        span = spans[kind, start]
        tallies[span].counts[measure].update(counts)
        if span in inner:
            whole.counts[measure].update(counts)
    for kind, start, owner, taken in kept_responses(connection, timezone, spans):
        span = spans[kind, start]
        tallies[span].responses[owner].update(taken)
        if span in inner:
            whole.responses[owner].update(taken)
    blocks = [(kind, start.isoformat()) for kind, start in cover(edges[1], edges[-2], kept, first)]
    for key, n in kept_code_types(connection, timezone, blocks):
        whole.counts[CODE_TYPE_MEASURE][key] += n
    for day, figures in gather(connection, live, timezone).items():
        span = bisect_right(edges, day) - 1
        tallies[span].add_day(figures, now)
        if span in inner:
            whole.add_day(figures, now)
    return tallies, whole


def _since(tallies: Sequence[Tally]) -> list[Counter[str]]:
    """Per span: owned tickets resolved or closed since its start, less those created
    since (what the owners' open tickets now are more than at that span's start)."""
    running: Counter[str] = Counter()
    since = [Counter[str]()]
    for tally in reversed(tallies):
        running.update(tally.counts["owner_done"])
        running.subtract(tally.counts["owner_created"])
        since.append(Counter(running))
    return since[::-1]


@dataclass(frozen=True, slots=True)
class Figures:
    """Tallies turned into period figures."""

    paths: Mapping[str, str]
    open_now: Mapping[str, int]
    since: Sequence[Mapping[str, int]]

    def period(self, start: date, tally: Tally, span: int, types: bool = False) -> PeriodFigures:
        """The figures of ``tally``, a period ending where span ``span`` ends (with its
        code types split by ticket type when ``types``)."""
        owners = {owner: taken for owner, taken in tally.responses.items() if owner}
        everyone: Counter[int] = Counter()
        for taken in tally.responses.values():
            everyone.update(taken)
        responses = sorted(everyone.items())
        handled = tally.counts["handled"]
        open_at_end = self._open_at(span + 1)
        past_due = tally.count("due_open") - tally.count("due_later")
        counted = tally.count("sla_answered") + past_due
        code_types: dict[str, Counter[str]] = defaultdict(Counter)
        for key, n in tally.counts[CODE_TYPE_MEASURE].items() if types else ():
            code, kind = key.split(CODE_TYPE, 1)
            code_types[self.paths.get(code, code)][kind] += n
        return PeriodFigures(
            start=start,
            new=tally.count("new"),
            resolved=tally.count("resolved"),
            closed=tally.count("closed"),
            reopened=tally.count("reopened"),
            duplicates=tally.count("duplicates"),
            first_response_median_hours=_hours(counted_percentile(responses, 0.5)),
            first_response_p90_hours=_hours(counted_percentile(responses, 0.9)),
            sla_met_ratio=tally.count("sla_met") / counted if counted else None,
            by_code=_sorted(self._by_path(tally.counts["code"])),
            by_type=_sorted(tally.counts["type"]),
            by_channel=_sorted(tally.counts["channel"]),
            code_types={code: _sorted(types) for code, types in sorted(code_types.items())},
            by_owner={
                owner: OwnerFigures(
                    open_at_end.get(owner, 0),
                    handled.get(owner, 0),
                    _hours(counted_percentile(sorted(owners[owner].items()), 0.5))
                    if owner in owners
                    else None,
                )
                for owner in sorted({*open_at_end, *handled, *owners})
            },
            csat=Csat(tally.count("good"), tally.count("bad")),
        )

    def _by_path(self, counts: Mapping[str, int]) -> dict[str, int]:
        """Counts by code id as counts by code path."""
        total: dict[str, int] = defaultdict(int)
        for code, n in counts.items():
            total[self.paths.get(code, code)] += n
        return total

    def _open_at(self, span: int) -> dict[str, int]:
        """Open per owner at the start of span ``span``."""
        since = self.since[span]
        found = {}
        for owner in {*self.open_now, *since}:
            count = self.open_now.get(owner, 0) + since.get(owner, 0)
            if count:
                found[owner] = count
        return found


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 3600


def _paths(connection: Connection) -> dict[str, str]:
    return {
        str(code_id): path for code_id, path in connection.execute(select(codes.c.id, codes.c.path))
    }


def _open_by_owner(connection: Connection) -> dict[str, int]:
    """Open tickets by owner, counted on the queue's load index (its predicate as written,
    the unowned left out here rather than by a condition that picks another index)."""
    t = tickets.c
    query = select(t.owner, func.count()).where(text(QUEUED)).group_by(t.owner)
    owned = sorted((owner, n) for owner, n in connection.execute(query) if owner is not None)
    return dict(owned)


def _status_now(connection: Connection) -> dict[str, int]:
    t = tickets.c
    query = select(t.status, func.count()).group_by(t.status)
    return {row[0]: row[1] for row in sorted(connection.execute(query).all())}


def _sorted(counts: Mapping[str, int]) -> dict[str, int]:
    """Biggest first, then by name."""
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
