"""The staff ticket page, its file downloads and its JSON: ``GET /staff/t/{tracking}``,
``GET /staff/t/{tracking}/files/{id}`` and ``GET /staff/api/tickets/{tracking}``. The page
holds the forms that post to the action endpoint (``/staff/t/{tracking}/act``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ticketd.routing import tracking
from ticketd.routing.codes import CodeTree
from ticketd.routing.commands import TYPES
from ticketd.routing.macros import Macro
from ticketd.routing.model import EngineerInfo, Priority, Role, Status
from ticketd.routing.ticket_json import staff_ticket_object
from ticketd.routing.workspace import StaffTicket, StaffUser
from ticketd.web.downloads import download
from ticketd.web.staff.auth import NO_STORE, StaffAuth, Viewer
from ticketd.web.staff.ports import StaffReader
from ticketd.web.staff.render import StaffRenderer
from ticketd.web.staff.ticket_strings import TICKET_STRINGS

FILE_ID = re.compile(r"[1-9][0-9]{0,17}")
MAX_RESULTS = 20
"""At most this many ``done`` and ``refused`` lines are shown from a redirect back."""
MAX_RESULT_CHARS = 300


def may_act(viewer: StaffUser, owner: str | None) -> bool:
    """Agents act on their own and unowned tickets; managers on all."""
    return viewer.role == Role.MANAGER or owner is None or owner == viewer.email


def results(request: Request, name: str) -> list[str]:
    """The action endpoint's ``done`` or ``refused`` lines passed back in the query."""
    values = request.query_params.getlist(name)[:MAX_RESULTS]
    return [value[:MAX_RESULT_CHARS] for value in values]


class TicketPages:
    """The whole ticket for signed-in engineers, as HTML, downloads and JSON."""

    def __init__(
        self,
        auth: StaffAuth,
        render: StaffRenderer,
        reader: StaffReader,
        prefix: str,
        engineers: Callable[[], Sequence[EngineerInfo]],
        now: Callable[[], datetime],
        macros: Callable[[], Sequence[Macro]] = tuple,
        codes: Callable[[], CodeTree] = CodeTree,
    ) -> None:
        self.auth = auth
        self.render = render
        self.reader = reader
        self.prefix = prefix
        self.engineers = engineers
        self.now = now
        self.macros = macros
        self.codes = codes

    def routes(self) -> list[BaseRoute]:
        auth = self.auth
        return [
            Route("/t/{tracking}", auth.page(self.page), methods=["GET"]),
            Route("/t/{tracking}/files/{file}", auth.page(self.file), methods=["GET"]),
            Route("/api/tickets/{tracking}", auth.api(self.api_ticket), methods=["GET"]),
        ]

    async def ticket(self, typed: str) -> tuple[str | None, StaffTicket | None]:
        """The canonical number typed and its ticket (None, None when not a number)."""
        number = tracking.parse(typed[:40], self.prefix)
        if number is None:
            return None, None
        return number, await run_in_threadpool(self.reader.ticket, number, self.now())

    def not_found(self, request: Request, viewer: Viewer) -> Response:
        return self.render.page(
            request,
            "ticket_missing.html",
            viewer,
            404,
            tt=TICKET_STRINGS[self.render.language(request)],
        )

    async def page(self, request: Request, viewer: Viewer) -> Response:
        """The ticket; a number typed loosely is redirected to its canonical page."""
        typed = request.path_params["tracking"]
        number, found = await self.ticket(typed)
        if number is None or found is None:
            return self.not_found(request, viewer)
        if number != typed:
            query = f"?{request.url.query}" if request.url.query else ""
            return RedirectResponse(f"/staff/t/{quote(number)}{query}", 301, headers=NO_STORE)
        row = found.row
        macros = await run_in_threadpool(self.macros)
        codes = await run_in_threadpool(self.codes)
        code = codes.by_path(row.code, live=False) if row.code else None
        return self.render.page(
            request,
            "ticket.html",
            viewer,
            section="ticket",
            tt=TICKET_STRINGS[self.render.language(request)],
            ticket=found,
            row=row,
            may_act=may_act(viewer.user, row.owner),
            engineers=sorted(self.engineers(), key=lambda e: e.email),
            statuses=[s.value for s in Status],
            priorities=[p.value for p in Priority],
            types=TYPES,
            macros=[(m.name, m.text(found.language)) for m in macros],
            code=code,
            code_chain=codes.chain(code) if code else (),
            code_paths=[c.path for c in codes.live()],
            suggestion=found.code_suggestion if row.code is None else None,
            done=results(request, "done"),
            refused=[*results(request, "denied"), *results(request, "refused")],
        )

    async def file(self, request: Request, viewer: Viewer) -> Response:
        """Any attachment of this ticket (internal ones too) as a download; an id of
        another ticket's file is a 404 here."""
        number = tracking.parse(request.path_params["tracking"][:40], self.prefix)
        typed_id = request.path_params["file"]
        if number is None or not FILE_ID.fullmatch(typed_id):
            return self.not_found(request, viewer)
        found = await run_in_threadpool(self.reader.attachment, number, int(typed_id))
        if found is None:
            return self.not_found(request, viewer)
        return download(found.filename, found.data)

    async def api_ticket(self, request: Request, viewer: Viewer) -> Response:
        """The staff API's ticket object, or 404 JSON."""
        _, found = await self.ticket(request.path_params["tracking"])
        if found is None:
            return JSONResponse({"error": "no such ticket"}, 404, headers=NO_STORE)
        language = self.render.language(request)
        return JSONResponse(staff_ticket_object(found, language), headers=NO_STORE)
