"""The dashboard's cards built from a ``Report``: each a title, a chart and its data as
tables whose ticket counts link to the drill-down list of exactly those tickets. Pure: the
page's strings come in, markup and links go out."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote_plus, urlencode

from markupsafe import Markup

from ticketd.routing.commands import TYPES
from ticketd.routing.dashboard import Measure, period_ends
from ticketd.routing.model import OPEN_STATUSES, Status
from ticketd.routing.reports import Granularity, PeriodFigures, Report, previous_range
from ticketd.web.staff.charts import Series, bar_chart, hbar, line_chart, number, stacked_bars

VOLUME = (Measure.NEW, Measure.RESOLVED, Measure.CLOSED, Measure.REOPENED, Measure.DUPLICATES)
CHANNELS = ("imap", "smtp", "import", "workspace")


@dataclass(frozen=True, slots=True)
class Cell:
    """One table cell: its text, a link (a drill-down) and a class (``num``, ``up``…)."""

    text: str
    url: str | None = None
    css: str = ""


@dataclass(frozen=True, slots=True)
class Table:
    """A card's data: the column headers and the rows (the first cell heads its row)."""

    headers: Sequence[str]
    rows: Sequence[Sequence[Cell]]


@dataclass(frozen=True, slots=True)
class Card:
    """One view: its anchor, title, chart markup and tables."""

    key: str
    title: str
    chart: Markup
    tables: Sequence[Table]


def drill_url(measure: Measure, start: date, end: date, key: str = "") -> str:
    """The drill-down list of one figure (a page has thousands: the measure's name and the
    ISO dates need no quoting, only the key does)."""
    url = f"/staff/dashboard/tickets?measure={measure.value}&start={start}&end={end}"
    return f"{url}&key={quote_plus(key)}" if key else url


def change(now: float, before: float) -> Cell:
    """The change against the previous range: ▲/▼ with the percentage (— from zero)."""
    if now == before:
        return Cell("0%", css="num flat")
    if not before:
        return Cell("▲ —", css="num up")
    percent = (now - before) / before * 100
    arrow = "▲" if percent > 0 else "▼"
    return Cell(f"{arrow} {abs(percent):,.0f}%", css="num " + ("up" if percent > 0 else "down"))


def percent(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio * 100:,.1f}%"


class DashboardView:
    """Cards for one report in one language: ``t`` the interface strings, ``status`` the
    status names."""

    def __init__(self, report: Report, t: Mapping[str, str], status: Callable[[str], str]):
        self.report = report
        self.t = t
        self.status = status
        request = report.request
        self.periods = report.periods
        self.ends = period_ends(tuple(p.start for p in report.periods), request.end)
        self.labels = [self.label(p.start) for p in report.periods]

    def label(self, start: date) -> str:
        if self.report.request.by is Granularity.MONTH:
            return start.strftime("%Y-%m")
        return start.isoformat()

    def count(self, value: int, measure: Measure, start: date, end: date, key: str = "") -> Cell:
        return Cell(number(value), drill_url(measure, start, end, key), "num")

    def whole(self) -> tuple[date, date]:
        return self.report.request.start, self.report.request.end

    def before(self) -> tuple[date, date]:
        return previous_range(*self.whole())

    def cards(self) -> list[Card]:
        return [
            self.volume(),
            self.status_now(),
            self.codes(),
            self.types(),
            self.first_response(),
            self.owners(),
            self.duplicates_and_channels(),
            self.satisfaction(),
        ]

    def per_period(
        self, cells: Callable[[PeriodFigures, date, date], list[Cell]]
    ) -> list[list[Cell]]:
        """A row per period and one for the whole range."""
        rows = [
            [Cell(label), *cells(period, period.start, end)]
            for label, period, end in zip(self.labels, self.periods, self.ends, strict=True)
        ]
        start, end = self.whole()
        rows.append(
            [Cell(self.t["dash_total"], css="total"), *cells(self.report.total, start, end)]
        )
        return rows

    def volume(self) -> Card:
        t = self.t
        names = [t["measure_" + m.value] for m in VOLUME]
        series = [
            Series(t["measure_" + m.value], [getattr(p, m.value) for p in self.periods])
            for m in VOLUME
        ]
        rows = self.per_period(
            lambda p, s, e: [self.count(getattr(p, m.value), m, s, e) for m in VOLUME],
        )
        total, previous = self.report.total, self.report.previous
        rows.append(
            [
                Cell(t["dash_previous"]),
                *(self.count(getattr(previous, m.value), m, *self.before()) for m in VOLUME),
            ]
        )
        rows.append(
            [
                Cell(t["dash_change"]),
                *(change(getattr(total, m.value), getattr(previous, m.value)) for m in VOLUME),
            ]
        )
        chart = bar_chart(t["card_volume"], self.labels, series)
        return Card("volume", t["card_volume"], chart, [Table([t["dash_period"], *names], rows)])

    def status_now(self) -> Card:
        t = self.t
        found = self.report.status_now
        items = [(self.status(s.value), float(found.get(s.value, 0))) for s in Status]
        rows = [
            [
                Cell(self.status(s.value)),
                Cell(
                    number(found.get(s.value, 0)),
                    f"/staff/?tab=open&status={s.value}" if s in OPEN_STATUSES else None,
                    "num",
                ),
            ]
            for s in Status
        ]
        chart = hbar(t["card_status"], items)
        return Card(
            "status", t["card_status"], chart, [Table([t["status"], t["dash_count"]], rows)]
        )

    def codes(self) -> Card:
        t = self.t
        total, previous = self.report.total, self.report.previous
        top = sorted(total.by_code.items(), key=lambda item: (-item[1], item[0]))
        top = top[: self.report.request.top]
        start, end = self.whole()
        rows = [
            [
                Cell(code),
                self.count(n, Measure.CODE, start, end, code),
                self.count(previous.by_code.get(code, 0), Measure.CODE, *self.before(), code),
                change(n, previous.by_code.get(code, 0)),
                *(Cell(number(total.code_types.get(code, {}).get(k, 0)), css="num") for k in TYPES),
            ]
            for code, n in top
        ]
        headers = [t["dash_code"], t["dash_count"], t["dash_previous"], t["dash_change"]]
        headers += [t["type_" + k] for k in TYPES]
        items = [(code, total.code_types.get(code, {})) for code, _ in top]
        chart = stacked_bars(t["card_codes"], items, TYPES, [t["type_" + k] for k in TYPES])
        return Card("codes", t["card_codes"], chart, [Table(headers, rows)])

    def types(self) -> Card:
        t = self.t
        names = [t["type_" + k] for k in TYPES]
        series = [
            Series(t["type_" + k], [p.by_type.get(k, 0) for p in self.periods]) for k in TYPES
        ]
        rows = self.per_period(
            lambda p, s, e: [self.count(p.by_type.get(k, 0), Measure.TYPE, s, e, k) for k in TYPES],
        )
        chart = bar_chart(t["card_types"], self.labels, series)
        return Card("types", t["card_types"], chart, [Table([t["dash_period"], *names], rows)])

    def first_response(self) -> Card:
        t = self.t
        hours = [
            Series(t["dash_median"], [p.first_response_median_hours for p in self.periods]),
            Series(t["dash_p90"], [p.first_response_p90_hours for p in self.periods]),
        ]
        met = [
            Series(
                t["dash_sla_met"],
                [None if p.sla_met_ratio is None else p.sla_met_ratio * 100 for p in self.periods],
            )
        ]
        rows = self.per_period(
            lambda p, s, e: [
                Cell(number(p.first_response_median_hours, 1), css="num"),
                Cell(number(p.first_response_p90_hours, 1), css="num"),
                Cell(percent(p.sla_met_ratio), css="num"),
                Cell(t["dash_breached_list"], drill_url(Measure.SLA_BREACHED, s, e)),
            ],
        )
        headers = [t["dash_period"], t["dash_median"], t["dash_p90"], t["dash_sla_met"], ""]
        chart = Markup(
            line_chart(t["card_first_response"], self.labels, hours)
            + line_chart(t["dash_sla_met"], self.labels, met)
        )
        return Card("first-response", t["card_first_response"], chart, [Table(headers, rows)])

    def owners(self) -> Card:
        t = self.t
        total = self.report.total
        emails = sorted(set(total.by_owner) | set(self.report.open_by_owner))
        start, end = self.whole()
        rows = []
        for email in emails:
            figures = total.by_owner.get(email)
            handled = figures.handled if figures else 0
            rows.append(
                [
                    Cell(email),
                    Cell(
                        number(self.report.open_by_owner.get(email, 0)),
                        "/staff/?" + urlencode({"tab": "open", "owner": email}),
                        "num",
                    ),
                    self.count(handled, Measure.OWNER, start, end, email),
                    Cell(
                        number(figures.first_response_median_hours if figures else None, 1),
                        css="num",
                    ),
                ]
            )
        series = [
            Series(t["dash_open_now"], [self.report.open_by_owner.get(e, 0) for e in emails]),
            Series(
                t["dash_handled"],
                [total.by_owner[e].handled if e in total.by_owner else 0 for e in emails],
            ),
        ]
        headers = [t["owner"], t["dash_open_now"], t["dash_handled"], t["dash_median"]]
        chart = bar_chart(t["card_owners"], emails, series)
        return Card("owners", t["card_owners"], chart, [Table(headers, rows)])

    def duplicates_and_channels(self) -> Card:
        t = self.t
        rates = [
            Series(
                t["dash_duplicate_rate"],
                [
                    None if p.duplicate_rate is None else p.duplicate_rate * 100
                    for p in self.periods
                ],
            )
        ]
        rate_rows = self.per_period(
            lambda p, s, e: [
                self.count(p.duplicates, Measure.DUPLICATES, s, e),
                Cell(percent(p.duplicate_rate), css="num"),
            ],
        )
        total = self.report.total
        names = list(CHANNELS) + sorted(set(total.by_channel) - set(CHANNELS))
        start, end = self.whole()
        channel_rows = [
            [
                Cell(self.t.get("channel_" + c, c)),
                self.count(total.by_channel.get(c, 0), Measure.CHANNEL, start, end, c),
            ]
            for c in names
        ]
        items = [(self.t.get("channel_" + c, c), float(total.by_channel.get(c, 0))) for c in names]
        chart = Markup(
            line_chart(t["dash_duplicate_rate"], self.labels, rates)
            + hbar(t["dash_channel"], items)
        )
        tables = [
            Table([t["dash_period"], t["measure_duplicates"], t["dash_duplicate_rate"]], rate_rows),
            Table([t["dash_channel"], t["dash_count"]], channel_rows),
        ]
        return Card("duplicates", t["card_duplicates"], chart, tables)

    def satisfaction(self) -> Card:
        t = self.t
        series = [
            Series(t["csat_good"], [p.csat.good for p in self.periods]),
            Series(t["csat_bad"], [p.csat.bad for p in self.periods]),
        ]
        rows = self.per_period(
            lambda p, s, e: [
                self.count(p.csat.good, Measure.CSAT_GOOD, s, e),
                self.count(p.csat.bad, Measure.CSAT_BAD, s, e),
                Cell(percent(_share(p)), css="num"),
            ],
        )
        headers = [t["dash_period"], t["csat_good"], t["csat_bad"], t["dash_good_share"]]
        chart = bar_chart(t["card_csat"], self.labels, series)
        return Card("csat", t["card_csat"], chart, [Table(headers, rows)])


def _share(period: PeriodFigures) -> float | None:
    rated = period.csat.good + period.csat.bad
    return period.csat.good / rated if rated else None
