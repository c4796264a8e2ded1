"""The manager dashboard (``GET /staff/dashboard``): the figures of a range as cards with
charts and tables, their CSV and JSON downloads, and the drill-down list behind each
count. Managers only (agents: 403); every parameter typed in a URL is checked, a bad one
named and replaced by its default."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ticketd.routing.dashboard import (
    KEYED,
    MAX_DAYS,
    DrillDown,
    Measure,
    default_range,
    presets,
)
from ticketd.routing.labels import status_label
from ticketd.routing.model import Role
from ticketd.routing.report_format import report_csv, report_json
from ticketd.routing.reports import Granularity, Report, ReportRequest
from ticketd.routing.workspace import BadCursor
from ticketd.web.staff.auth import NO_STORE, Endpoint, Handler, StaffAuth, Viewer
from ticketd.web.staff.dashboard_view import DashboardView
from ticketd.web.staff.i18n import STAFF_STRINGS
from ticketd.web.staff.macros import denied
from ticketd.web.staff.ports import ReportReader, TicketLists
from ticketd.web.staff.render import StaffRenderer

DEFAULT_TOP = 10
MAX_TOP = 50
MAX_KEY = 320
PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class Asked:
    """The report a dashboard URL asks for and the problems found in it."""

    request: ReportRequest
    problems: tuple[str, ...]


def _day(text: str | None) -> date | None:
    if not text or len(text) != 10:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def read_request(params: QueryParams, today: date, timezone: str) -> Asked:
    """``from``, ``to`` (days, the last 30 by default), ``by`` and ``top``."""
    problems: list[str] = []
    start, end = default_range(today)
    asked_start, asked_end = _day(params.get("from")), _day(params.get("to"))
    if params.get("from") and asked_start is None:
        problems.append("bad_since")
    if params.get("to") and asked_end is None:
        problems.append("bad_until")
    start, end = asked_start or start, asked_end or end
    if start > end or (end - start).days >= MAX_DAYS:
        problems.append("bad_range")
        start, end = default_range(today)
    try:
        by = Granularity(params.get("by") or Granularity.DAY.value)
    except ValueError:
        problems.append("bad_by")
        by = Granularity.DAY
    top = DEFAULT_TOP
    top_text = params.get("top")
    if top_text:
        if len(top_text) <= 3 and top_text.isdigit() and 1 <= int(top_text) <= MAX_TOP:
            top = int(top_text)
        else:
            problems.append("bad_top")
    return Asked(ReportRequest(start, end, by, timezone, top), tuple(problems))


def read_drill(params: QueryParams, timezone: str) -> DrillDown | None:
    """The drill-down a list URL asks for, or None for one that names no figure."""
    try:
        measure = Measure(params.get("measure") or "")
    except ValueError:
        return None
    start, end = _day(params.get("start")), _day(params.get("end"))
    key = (params.get("key") or "").strip()
    if start is None or end is None or start > end or len(key) > MAX_KEY:
        return None
    if (measure in KEYED) != bool(key):
        return None
    return DrillDown(measure, start, end, timezone, key)


class DashboardPages:
    """The dashboard's routes on the workspace's sign-in and renderer."""

    def __init__(
        self,
        auth: StaffAuth,
        render: StaffRenderer,
        reports: ReportReader,
        lists: TicketLists,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.auth = auth
        self.render = render
        self.reports = reports
        self.lists = lists
        self.now = now
        self.timezone = render.settings.timezone

    def routes(self) -> list[BaseRoute]:
        def page(handler: Handler) -> Endpoint:
            return self.auth.page(self.managers(handler))

        return [
            Route("/dashboard", page(self.dashboard), methods=["GET"]),
            Route("/dashboard.csv", page(self.download_csv), methods=["GET"]),
            Route("/dashboard.json", page(self.download_json), methods=["GET"]),
            Route("/dashboard/tickets", page(self.tickets), methods=["GET"]),
        ]

    def managers(self, handler: Handler) -> Handler:
        """``handler`` for managers; 403 in the viewer's language for anyone else."""

        async def guarded(request: Request, viewer: Viewer) -> Response:
            if viewer.user.role == Role.MANAGER:
                return await handler(request, viewer)
            return denied(self.render, request, viewer, "dash_managers_only")

        return guarded

    def today(self) -> date:
        return self.now().astimezone(ZoneInfo(self.timezone)).date()

    async def report(self, request: Request) -> tuple[Report, Asked]:
        asked = read_request(request.query_params, self.today(), self.timezone)
        report = await run_in_threadpool(self.reports.report, asked.request, self.now())
        return report, asked

    async def dashboard(self, request: Request, viewer: Viewer) -> Response:
        report, asked = await self.report(request)
        language = self.render.language(request)
        t = STAFF_STRINGS[language]
        view = DashboardView(report, t, lambda status: status_label(status, language))
        query = {
            "from": asked.request.start.isoformat(),
            "to": asked.request.end.isoformat(),
            "by": asked.request.by.value,
            "top": str(asked.request.top),
        }
        ranges = [
            (name, "?" + urlencode({**query, "from": start.isoformat(), "to": end.isoformat()}))
            for name, start, end in presets(self.today())
        ]
        return self.render.page(
            request,
            "dashboard.html",
            viewer,
            section="dashboard",
            asked=asked.request,
            problems=asked.problems,
            cards=view.cards(),
            presets=ranges,
            granularities=[g.value for g in Granularity],
            download="?" + urlencode(query),
        )

    async def download_csv(self, request: Request, viewer: Viewer) -> Response:
        report, _ = await self.report(request)
        return _attachment(report_csv(report), "text/csv; charset=utf-8", report, "csv")

    async def download_json(self, request: Request, viewer: Viewer) -> Response:
        report, _ = await self.report(request)
        body = json.dumps(report_json(report), ensure_ascii=False, indent=2)
        return _attachment(body, "application/json", report, "json")

    async def tickets(self, request: Request, viewer: Viewer) -> Response:
        """One page of the tickets behind a figure (400 for a URL that names none)."""
        params = request.query_params
        drill = read_drill(params, self.timezone)
        if drill is None:
            return self.render.page(
                request, "dashboard_tickets.html", viewer, 400, section="dashboard", drill=None
            )
        cursor = params.get("cursor") or None
        problems: tuple[str, ...] = ()
        try:
            rows, following = await run_in_threadpool(
                self.lists.tickets, drill, cursor, PAGE_SIZE, self.now()
            )
        except BadCursor:
            problems, cursor = ("bad_cursor",), None
            rows, following = await run_in_threadpool(
                self.lists.tickets, drill, None, PAGE_SIZE, self.now()
            )
        base = {k: v for k, v in params.items() if k not in ("cursor", "lang")}
        return self.render.page(
            request,
            "dashboard_tickets.html",
            viewer,
            section="dashboard",
            drill=drill,
            key_label=_key_label(drill, STAFF_STRINGS[self.render.language(request)]),
            problems=problems,
            rows=rows,
            cursor=cursor,
            first_url="?" + urlencode(base),
            next_url="?" + urlencode({**base, "cursor": following}) if following else None,
        )


def _key_label(drill: DrillDown, t: Mapping[str, str]) -> str:
    """The drill-down's key as shown: a channel's or type's name, else as given."""
    if drill.measure in (Measure.CHANNEL, Measure.TYPE):
        return t.get(f"{drill.measure.value}_{drill.key}", drill.key)
    return drill.key


def _attachment(body: str, media_type: str, report: Report, suffix: str) -> Response:
    request = report.request
    name = f"ticketd-report-{request.start.isoformat()}-{request.end.isoformat()}.{suffix}"
    headers = {**NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body.encode("utf-8"), media_type=media_type, headers=headers)
