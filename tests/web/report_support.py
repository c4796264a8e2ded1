"""A ``ReportReader`` for tests: a report computed from a list of in-memory period
figures (those starting in the asked range), with fixed previous figures and state now."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from ticketd.routing.reports import (
    Csat,
    OwnerFigures,
    PeriodFigures,
    Report,
    ReportRequest,
)


def _sum(figures: Sequence[PeriodFigures], name: str) -> dict[str, int]:
    total: Counter[str] = Counter()
    for period in figures:
        total.update(getattr(period, name))
    return dict(total)


def total_of(start: date, figures: Sequence[PeriodFigures]) -> PeriodFigures:
    """The counts of ``figures`` added up (hours and ratios: the first period's)."""
    first = figures[0] if figures else PeriodFigures(start)
    owners: dict[str, OwnerFigures] = {}
    for period in figures:
        for email, owner in period.by_owner.items():
            seen = owners.get(email, OwnerFigures())
            owners[email] = OwnerFigures(
                owner.open,
                seen.handled + owner.handled,
                owner.first_response_median_hours,
            )
    code_types: dict[str, Counter[str]] = {}
    for period in figures:
        for code, types in period.code_types.items():
            code_types.setdefault(code, Counter()).update(types)
    return PeriodFigures(
        start,
        **{
            name: sum(getattr(p, name) for p in figures)
            for name in ("new", "resolved", "closed", "reopened", "duplicates")
        },
        first_response_median_hours=first.first_response_median_hours,
        first_response_p90_hours=first.first_response_p90_hours,
        sla_met_ratio=first.sla_met_ratio,
        by_code=_sum(figures, "by_code"),
        by_type=_sum(figures, "by_type"),
        by_owner=owners,
        by_channel=_sum(figures, "by_channel"),
        code_types={code: dict(types) for code, types in code_types.items()},
        csat=Csat(sum(p.csat.good for p in figures), sum(p.csat.bad for p in figures)),
    )


@dataclass
class MemoryReports:
    """``web.staff.ports.ReportReader`` over in-memory figures; remembers the requests."""

    figures: list[PeriodFigures]
    previous: PeriodFigures
    status_now: Mapping[str, int] = field(default_factory=dict)
    open_by_owner: Mapping[str, int] = field(default_factory=dict)
    asked: list[ReportRequest] = field(default_factory=list)

    def report(self, request: ReportRequest, now: datetime) -> Report:
        self.asked.append(request)
        periods = [p for p in self.figures if request.start <= p.start <= request.end]
        return Report(
            request,
            periods,
            total_of(request.start, periods),
            self.previous,
            self.status_now,
            self.open_by_owner,
        )
