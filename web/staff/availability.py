"""Availability in the workspace (``GET/POST /staff/availability``): every engineer marks
themselves away, optionally until a day, or back on duty; managers see and set
everyone's (an agent setting someone else's gets 403). Assignment reads it at once."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ticketd.routing.assign import Availability, back_at, last_away_day
from ticketd.routing.model import EngineerInfo, Role
from ticketd.web.staff.auth import StaffAuth, Viewer
from ticketd.web.staff.macros import denied
from ticketd.web.staff.render import StaffRenderer


class AvailabilityBook(Protocol):
    """Engineers' availability, read and written (implemented on the database)."""

    def stored(self) -> Mapping[str, Availability]:
        """What engineers set, by email (the TOML ``available`` for the others)."""

    def set(self, email: str, state: Availability, actor: str) -> None:
        """From now on, ``email`` is away (until ``state.back_at``) or on duty."""


@dataclass(frozen=True, slots=True)
class Duty:
    """One engineer's availability as the page shows it."""

    engineer: EngineerInfo
    away: bool
    until: date | None


class AvailabilityPages:
    """The availability page and its form, on the workspace's sign-in and renderer."""

    def __init__(
        self,
        auth: StaffAuth,
        render: StaffRenderer,
        book: AvailabilityBook,
        engineers: Callable[[], Sequence[EngineerInfo]],
        timezone: str,
        now: Callable[[], datetime],
    ) -> None:
        self.auth = auth
        self.render = render
        self.book = book
        self.engineers = engineers
        self.timezone = timezone
        self.now = now

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/availability", self.auth.page(self.show), methods=["GET"]),
            Route("/availability", self.auth.form(self.change), methods=["POST"]),
        ]

    def duties(self, stored: Mapping[str, Availability]) -> list[Duty]:
        now, shown = self.now(), []
        for engineer in self.engineers():
            state = stored.get(engineer.email)
            if state is None:
                shown.append(Duty(engineer, not engineer.available, None))
                continue
            away = state.away_at(now)
            until = last_away_day(state.back_at, self.timezone) if state.back_at else None
            shown.append(Duty(engineer, away, until if away else None))
        return shown

    async def show(
        self, request: Request, viewer: Viewer, problem: str = "", status: int = 200
    ) -> Response:
        stored = await run_in_threadpool(self.book.stored)
        duties = self.duties(stored)
        manager = viewer.user.role == Role.MANAGER
        mine = next((d for d in duties if d.engineer.email == viewer.user.email), None)
        return self.render.page(
            request,
            "availability.html",
            viewer,
            status,
            section="availability",
            mine=mine,
            others=[d for d in duties if d.engineer.email != viewer.user.email] if manager else [],
            problem=problem,
            today=self.now().astimezone(ZoneInfo(self.timezone)).date().isoformat(),
        )

    async def change(self, request: Request, viewer: Viewer) -> Response:
        form = await request.form()
        email = str(form.get("email", "") or viewer.user.email).strip().lower()[:320]
        if email != viewer.user.email and viewer.user.role != Role.MANAGER:
            return denied(self.render, request, viewer, "availability_managers_only")
        if all(e.email != email for e in self.engineers()):
            return await self.show(request, viewer, "not_an_engineer", 400)
        state = self.state(str(form.get("state", "")), str(form.get("until", "")).strip())
        if isinstance(state, str):
            return await self.show(request, viewer, state, 400)
        await run_in_threadpool(self.book.set, email, state, viewer.user.email)
        return RedirectResponse("/staff/availability", 303)

    def state(self, choice: str, until: str) -> Availability | str:
        """The availability the form asks for, or the key of what is wrong with it."""
        if choice == "available":
            return Availability(away=False)
        if choice != "away":
            return "bad_availability"
        if not until:
            return Availability(away=True)
        try:
            day = date.fromisoformat(until[:10])
        except ValueError:
            return "bad_away_until"
        back = back_at(day, self.timezone)
        return Availability(True, back) if back > self.now() else "until_past"
