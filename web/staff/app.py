"""The staff workspace's routes: sign-in and sign-out, the queue, search and the ticket
list JSON. ``StaffSite.routes()`` lists them; ``staff_mount`` puts any number of such
route lists under ``/staff`` with the workspace's headers."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ticketd.routing.commands import TYPES
from ticketd.routing.model import Priority, Status
from ticketd.routing.signin import LinkState, safe_next
from ticketd.routing.ticket_json import ticket_object
from ticketd.routing.workspace import BadCursor, QueuePage, SearchHit, Sort, Tab
from ticketd.web.forms import FIELD, FormGuard
from ticketd.web.ports import WebSettings
from ticketd.web.ratelimit import RateLimiter
from ticketd.web.staff.access import StaffAccess
from ticketd.web.staff.auth import NO_STORE, SESSION_COOKIE, StaffAuth, Viewer
from ticketd.web.staff.filters import Filters, matches, read_filters
from ticketd.web.staff.ports import Searcher, StaffReader
from ticketd.web.staff.render import StaffRenderer

SIGN_IN_REQUESTS_PER_CLIENT = 10
SIGN_IN_WINDOW_SECONDS = 600.0
"""At most this many sign-in requests per client address in this many seconds."""
PAGE_SIZE = 50
FILTERS = ("status", "owner", "priority", "type", "requester", "since", "until", "code")
STAFF_HEADERS = ((b"x-robots-tag", b"noindex"), (b"cache-control", b"no-store"))


class StaffHeaders:
    """Adds ``X-Robots-Tag: noindex`` and ``Cache-Control: no-store`` to every response
    (the security headers of every page are added outside, by ``web.security``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    h for h in message.get("headers", []) if h[0].lower() != b"cache-control"
                ]
                message["headers"] = headers + list(STAFF_HEADERS)
            await send(message)

        await self.app(scope, receive, send_marked)


def staff_mount(route_lists: Iterable[Sequence[BaseRoute]]) -> Mount:
    """Every staff route under ``/staff``, with the workspace's headers."""
    routes = [route for routes in route_lists for route in routes]
    return Mount("/staff", app=StaffHeaders(Router(routes, redirect_slashes=True)))


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _url(path: str, params: QueryParams, **changed: str | None) -> str:
    """``path`` with the request's parameters, some changed (None drops one)."""
    values = {k: v for k, v in params.multi_items() if k not in changed and k != "lang"}
    items = list(values.items()) + [(k, v) for k, v in changed.items() if v is not None]
    return path + ("?" + urlencode(items) if items else "")


class StaffSite:
    """The workspace's endpoints, holding their collaborators."""

    def __init__(
        self,
        settings: WebSettings,
        access: StaffAccess,
        reader: StaffReader,
        searcher: Searcher,
        session_hours: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.access = access
        self.reader = reader
        self.searcher = searcher
        self.now = now
        self.zone = ZoneInfo(settings.timezone)
        self.auth = StaffAuth(access, settings.secret_key, settings.base_url, session_hours)
        self.render = StaffRenderer(settings)
        self.forms = FormGuard(settings.secret_key, settings.base_url)
        self.limiter = RateLimiter(SIGN_IN_REQUESTS_PER_CLIENT, clock, SIGN_IN_WINDOW_SECONDS)

    def routes(self) -> list[BaseRoute]:
        auth = self.auth
        return [
            Route("/login", self.login_form, methods=["GET"]),
            Route("/login", self.request_link, methods=["POST"]),
            Route("/login/{token}", self.sign_in, methods=["GET"]),
            Route("/logout", auth.form(self.sign_out), methods=["POST"]),
            Route("/", auth.page(self.queue), methods=["GET"]),
            Route("/search", auth.page(self.search), methods=["GET"]),
            Route("/api/tickets", auth.api(self.api_tickets), methods=["GET"]),
        ]

    # --- sign-in ------------------------------------------------------------------------

    def login_page(
        self,
        request: Request,
        status: int = 200,
        next_path: str | None = None,
        **context: str | bool,
    ) -> Response:
        """The sign-in form, its token bound to the visitor's form cookie."""
        nonce, new = self.forms.nonce(request)
        response = self.render.page(
            request,
            "login.html",
            None,
            status,
            form_token=self.forms.token(nonce),
            next_path=safe_next(next_path or request.query_params.get("next")),
            **context,
        )
        if new:
            self.forms.remember(response, nonce)
        return response

    async def login_form(self, request: Request) -> Response:
        return self.login_page(request)

    async def request_link(self, request: Request) -> Response:
        """The same answer for any address; the link is mailed (or not) afterwards."""
        form = await request.form()
        next_path = safe_next(str(form.get("next", "")))
        if not self.forms.allows(request, str(form.get(FIELD, ""))):
            return self.login_page(request, 403, next_path, error="form_expired")
        wait = self.limiter.check(_client(request))
        if wait is not None:
            response = self.login_page(request, 429, next_path, error="too_many")
            response.headers["Retry-After"] = str(int(wait))
            return response
        email = str(form.get("email", ""))[:320]
        response = self.login_page(request, next_path=next_path, sent=True)
        response.background = BackgroundTask(self.access.request_link, email, next_path)
        return response

    async def sign_in(self, request: Request) -> Response:
        """Spend the link and open a session: a new id at every sign-in, and the session
        this browser had before (if any) ended."""
        token = request.path_params["token"][:100]
        opened = await run_in_threadpool(self.access.sign_in, token)
        if isinstance(opened, str):
            problem = "link_spent" if opened == LinkState.SPENT else "link_unknown"
            status = 410 if opened == LinkState.SPENT else 400
            return self.login_page(request, status, problem=problem)
        previous = request.cookies.get(SESSION_COOKIE, "")[:100]
        if previous:
            await run_in_threadpool(self.access.sign_out, previous)
        response = RedirectResponse(opened.next_path, 303, headers=NO_STORE)
        self.auth.remember(response, opened.session_id)
        return response

    async def sign_out(self, request: Request, viewer: Viewer) -> Response:
        await run_in_threadpool(self.access.sign_out, viewer.session_id)
        response = RedirectResponse("/staff/login", 303)
        self.auth.forget(response)
        return response

    # --- the queue and search -----------------------------------------------------------

    def filters(self, request: Request, limit: int = PAGE_SIZE) -> Filters:
        return read_filters(request.query_params, self.zone, Tab.MINE, limit)

    def day(self, at: datetime | None) -> str:
        return at.astimezone(self.zone).date().isoformat() if at else ""

    async def queue(self, request: Request, viewer: Viewer) -> Response:
        """One page of a tab, with every tab's count; bad filters are named and left out."""
        filters = self.filters(request)
        try:
            page: QueuePage = await run_in_threadpool(
                self.reader.queue, viewer.user, filters.query, self.now()
            )
        except BadCursor:
            filters = filters.from_the_start()
            page = await run_in_threadpool(
                self.reader.queue, viewer.user, filters.query, self.now()
            )
        query = filters.query
        params = request.query_params
        tabs = [
            (tab, page.counts.get(tab, 0), _url("/staff/", params, tab=tab.value, cursor=None))
            for tab in Tab
        ]
        return self.render.page(
            request,
            "queue.html",
            viewer,
            section="queue",
            query=query,
            problems=filters.problems,
            tabs=tabs,
            rows=page.rows,
            filtered=any(name in params for name in FILTERS),
            since=self.day(query.since),
            until=self.day(query.until - timedelta(days=1) if query.until else None),
            statuses=[s.value for s in Status],
            priorities=[p.value for p in Priority],
            types=TYPES,
            sorts=[s.value for s in Sort],
            next_url=_url("/staff/", params, cursor=page.next) if page.next else None,
            first_url=_url("/staff/", params, cursor=None),
        )

    async def search(self, request: Request, viewer: Viewer) -> Response:
        """Hits with their excerpt and where they matched; no words: the form alone."""
        filters = self.filters(request)
        hits: Sequence[SearchHit] = ()
        following = None
        if filters.words:
            try:
                hits, following = await run_in_threadpool(
                    self.searcher.search, filters.words, filters.query.cursor, PAGE_SIZE, self.now()
                )
            except BadCursor:
                filters = filters.from_the_start()
                hits, following = await run_in_threadpool(
                    self.searcher.search, filters.words, None, PAGE_SIZE, self.now()
                )
        params = request.query_params
        return self.render.page(
            request,
            "search.html",
            viewer,
            section="search",
            words=filters.words,
            problems=filters.problems,
            rows=[hit.row for hit in hits],
            excerpts=[(hit.excerpt, hit.where) for hit in hits],
            next_url=_url("/staff/search", params, cursor=following) if following else None,
        )

    # --- JSON ---------------------------------------------------------------------------

    async def api_tickets(self, request: Request, viewer: Viewer) -> Response:
        """``{"tickets": [...], "next": cursor|null}``; ``q`` searches (other filters then
        narrow the hits); ``code`` keeps a code's path and the codes below it."""
        params = request.query_params
        filters = read_filters(params, self.zone, Tab.OPEN, PAGE_SIZE)
        if filters.problems:
            return JSONResponse(
                {"error": "bad parameters", "problems": list(filters.problems)},
                400,
                headers=NO_STORE,
            )
        query = filters.query
        try:
            if filters.words:
                hits, following = await run_in_threadpool(
                    self.searcher.search, filters.words, query.cursor, query.limit, self.now()
                )
                rows = [hit.row for hit in hits if matches(hit.row, query)]
            else:
                page = await run_in_threadpool(self.reader.queue, viewer.user, query, self.now())
                rows, following = list(page.rows), page.next
        except BadCursor:
            refused = {"error": "bad parameters", "problems": ["bad_cursor"]}
            return JSONResponse(refused, 400, headers=NO_STORE)
        body = {"tickets": [ticket_object(row) for row in rows], "next": following}
        return JSONResponse(body, headers=NO_STORE)
