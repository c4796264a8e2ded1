"""The report query layer: one ``SqlReports.report`` for ``ticketd report``, the dashboard
(``web/staff/ports.py`` ``ReportReader``) and the digest.

A report adds up local days (``store/report_days.py`` says what each day counts): the days
the cache keeps (``store/report_cache.py``) and, gathered live, the rest (today, and days
changed since they were kept). Periods are those days grouped into days, Monday weeks or
months; so a ticket resolved on two days of one week counts twice in that week's
``resolved`` (two resolutions). Per period, beyond the sums of its days:

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

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, func, select

from ticketd.routing.reports import (
    Csat,
    OwnerFigures,
    PeriodFigures,
    Report,
    ReportRequest,
    percentile,
    period_starts,
    previous_range,
)
from ticketd.store.report_cache import cached, days_between, first_day
from ticketd.store.report_days import OPEN, Day, gather
from ticketd.store.schema import codes, tickets


class SqlReports:
    """Report figures read on ``engine`` (``web/staff/ports.py`` ``ReportReader``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def report(self, request: ReportRequest, now: datetime) -> Report:
        """The request's periods, its whole range, the range before it and the state now."""
        before, _ = previous_range(request.start, request.end)
        today = now.astimezone(ZoneInfo(request.timezone)).date()
        last = max(today, request.end)
        with self.engine.connect() as connection:
            days = cached(connection, request.timezone, before, last)
            first = first_day(connection, request.timezone) or last + timedelta(days=1)
            missing = [day for day in days_between(before, last) if day not in days]
            days.update((day, Day()) for day in missing if day < first)
            days.update(gather(connection, [d for d in missing if d >= first], request.timezone))
            paths = _paths(connection)
            open_now = _open_by_owner(connection)
            status_now = _status_now(connection)
        sums = Sums(days, paths, now, open_now, last)
        starts = period_starts(request.start, request.end, request.by)
        ends = [*starts[1:], request.end + timedelta(days=1)]
        return Report(
            request=request,
            periods=tuple(sums.period(s, e) for s, e in zip(starts, ends, strict=True)),
            total=sums.period(request.start, request.end + timedelta(days=1)),
            previous=sums.period(before, request.start),
            status_now=status_now,
            open_by_owner=open_now,
        )


class Sums:
    """Periods added up from days (``start`` included, ``end`` not)."""

    def __init__(
        self,
        days: Mapping[date, Day],
        paths: Mapping[str, str],
        now: datetime,
        open_now: Mapping[str, int],
        last: date,
    ) -> None:
        self.days, self.paths, self.now, self.open_now = days, paths, now, open_now
        self.since: dict[date, dict[str, int]] = {}
        """Per day: owned tickets resolved or closed since its start, less those created
        since (what the owners' open tickets now are more than at that day's start)."""
        running: dict[str, int] = defaultdict(int)
        for day in reversed(list(days_between(min(days), last))):
            for owner, n in days[day].owner_done.items():
                running[owner] += n
            for owner, n in days[day].owner_created.items():
                running[owner] -= n
            self.since[day] = dict(running)

    def period(self, start: date, end: date) -> PeriodFigures:
        days = [self.days[day] for day in days_between(start, end - timedelta(days=1))]
        owners: dict[str, list[int]] = defaultdict(list)
        for day in days:
            for owner, taken in day.responses.items():
                owners[owner].extend(taken)
        responses = sorted(taken for each in owners.values() for taken in each)
        owners.pop("", None)
        handled = _add(day.handled for day in days)
        open_at_end = self._open_at(end)
        answered = sum(day.sla_answered for day in days)
        past_due = sum(
            1 for day in days for due in day.due_open if datetime.fromisoformat(due) < self.now
        )
        counted = answered + past_due
        code_types: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for day in days:
            for code, types in day.code_types.items():
                for kind, n in types.items():
                    code_types[self.paths.get(code, code)][kind] += n
        return PeriodFigures(
            start=start,
            new=sum(day.new for day in days),
            resolved=sum(day.resolved for day in days),
            closed=sum(day.closed for day in days),
            reopened=sum(day.reopened for day in days),
            duplicates=sum(day.duplicates for day in days),
            first_response_median_hours=_hours(percentile(responses, 0.5)),
            first_response_p90_hours=_hours(percentile(responses, 0.9)),
            sla_met_ratio=sum(day.sla_met for day in days) / counted if counted else None,
            by_code=_sorted(
                _add(
                    {self.paths.get(code, code): n for code, n in day.codes.items()} for day in days
                )
            ),
            by_type=_sorted(_add(day.types for day in days)),
            by_channel=_sorted(_add(day.channels for day in days)),
            code_types={code: _sorted(types) for code, types in sorted(code_types.items())},
            by_owner={
                owner: OwnerFigures(
                    open_at_end.get(owner, 0),
                    handled.get(owner, 0),
                    _hours(percentile(sorted(owners[owner]), 0.5)) if owner in owners else None,
                )
                for owner in sorted({*open_at_end, *handled, *owners})
            },
            csat=Csat(sum(day.good for day in days), sum(day.bad for day in days)),
        )

    def _open_at(self, end: date) -> dict[str, int]:
        """Open per owner at ``end``'s local midnight."""
        since = self.since.get(end, {})
        found = {}
        for owner in {*self.open_now, *since}:
            count = self.open_now.get(owner, 0) + since.get(owner, 0)
            if count:
                found[owner] = count
        return found


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 3600


def _add(counts: Iterable[Mapping[str, int]]) -> dict[str, int]:
    total: dict[str, int] = defaultdict(int)
    for each in counts:
        for key, n in each.items():
            total[key] += n
    return total


def _paths(connection: Connection) -> dict[str, str]:
    return {
        str(code_id): path for code_id, path in connection.execute(select(codes.c.id, codes.c.path))
    }


def _open_by_owner(connection: Connection) -> dict[str, int]:
    t = tickets.c
    query = (
        select(t.owner, func.count())
        .where(t.status.in_(OPEN), t.merged_into.is_(None), t.owner.is_not(None))
        .group_by(t.owner)
    )
    return {row[0]: row[1] for row in sorted(connection.execute(query).all())}


def _status_now(connection: Connection) -> dict[str, int]:
    t = tickets.c
    query = select(t.status, func.count()).group_by(t.status)
    return {row[0]: row[1] for row in sorted(connection.execute(query).all())}


def _sorted(counts: Mapping[str, int]) -> dict[str, int]:
    """Biggest first, then by name."""
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
