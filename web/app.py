"""The status-page application: ``create_app`` wires settings and ports into Starlette."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.schemas import SchemaGenerator
from starlette.staticfiles import StaticFiles

from ticketd.routing import tracking
from ticketd.routing.links import verify_status_token
from ticketd.web.i18n import STRINGS, choose_language
from ticketd.web.metrics import build_registry
from ticketd.web.pages import PageRenderer
from ticketd.web.ports import (
    HealthProbe,
    LinkMailer,
    MetricsSource,
    TicketPage,
    TicketReader,
    WebSettings,
)
from ticketd.web.ratelimit import RateLimiter
from ticketd.web.security import SecureAndCounted

HERE = Path(__file__).resolve().parent
DUMMY_TRACKING = "XX-0000-0000"
NO_STORE = {"Cache-Control": "no-store"}
SCHEMAS = SchemaGenerator(
    {"openapi": "3.0.0", "info": {"title": "ticketd status API", "version": "1"}}
)


def _iso(at: datetime | None) -> str | None:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ") if at else None


class StatusSite:
    """The endpoints, holding their collaborators (no module-level state)."""

    def __init__(
        self,
        settings: WebSettings,
        reader: TicketReader,
        mailer: LinkMailer,
        health: HealthProbe,
        metrics: MetricsSource,
        clock: Callable[[], float],
    ) -> None:
        self.settings = settings
        self.reader = reader
        self.mailer = mailer
        self.health_probe = health
        self.limiter = RateLimiter(settings.rate_limit_per_minute, clock)
        self.registry, self.requests = build_registry(metrics)
        self.pages = PageRenderer(settings)

    def language(self, request: Request) -> str:
        return choose_language(
            request.query_params.get("lang"),
            request.headers.get("accept-language"),
            self.settings.language,
        )

    def render(
        self,
        request: Request,
        name: str,
        status: int = 200,
        language: str | None = None,
        **context: Any,
    ) -> Response:
        html = self.pages.render(name, language or self.language(request), **context)
        return HTMLResponse(html, status_code=status, headers=NO_STORE)

    def limited(self, request: Request) -> Response | None:
        client = request.client.host if request.client else "unknown"
        wait = self.limiter.check(client)
        if wait is None:
            return None
        language = self.language(request)
        return Response(
            STRINGS[language]["too_many"],
            status_code=429,
            headers={"Retry-After": str(int(wait)), "Cache-Control": "no-store"},
            media_type="text/plain; charset=utf-8",
        )

    def lookup_page(self, tracking_text: str) -> tuple[str | None, TicketPage | None]:
        """Canonical number and page; unknown and malformed numbers cost the same work."""
        number = tracking.parse(tracking_text, self.settings.tracking_prefix)
        return number, self.page_of(number)

    def page_of(self, number: str | None) -> TicketPage | None:
        page = self.reader.ticket_page(number or DUMMY_TRACKING)
        return page if number else None

    def token_ok(self, number: str, token: str | None) -> bool:
        """Constant-time check of ``k``; a missing key has nothing to compare."""
        return token is not None and verify_status_token(self.settings.secret_key, number, token)

    async def home(self, request: Request) -> Response:
        """The lookup form."""
        return self.render(request, "lookup.html", error=None, resent=False)

    async def lookup(self, request: Request) -> Response:
        """Form target: redirect to the canonical status page."""
        blocked = self.limited(request)
        if blocked:
            return blocked
        number, page = self.lookup_page(request.query_params.get("tracking", ""))
        if number is None or page is None:
            return self.render(request, "lookup.html", 404, error="not_found_help", resent=False)
        return RedirectResponse(self.page_url(request, number), status_code=303)

    def page_url(self, request: Request, number: str, token: str | None = None) -> str:
        query = []
        if token:
            query.append(f"k={token}")
        if "lang" in request.query_params:
            query.append(f"lang={self.language(request)}")
        return f"/t/{number}" + ("?" + "&".join(query) if query else "")

    async def ticket(self, request: Request) -> Response:
        """The status page: the copy published when the ticket last changed, else rendered
        now; with a valid ``k`` also the public conversation (always rendered now)."""
        blocked = self.limited(request)
        if blocked:
            return blocked
        typed = request.path_params["tracking"]
        token = request.query_params.get("k")
        language = self.language(request)
        number = tracking.parse(typed, self.settings.tracking_prefix)
        if not token:
            published = self.reader.published_page(number or DUMMY_TRACKING, language)
            if published is not None and number == typed:
                return HTMLResponse(published, headers=NO_STORE)
        page = self.page_of(number)
        if number is None or page is None:
            self.token_ok(DUMMY_TRACKING, token)
            return self.render(request, "not_found.html", 404, language)
        if number != typed:
            return RedirectResponse(self.page_url(request, number, token), status_code=301)
        html = self.pages.ticket(page, language, conversation=self.token_ok(number, token))
        return HTMLResponse(html, headers=NO_STORE)

    async def resend(self, request: Request) -> Response:
        """Mail the link again when tracking number and address match; same answer always."""
        blocked = self.limited(request)
        if blocked:
            return blocked
        form = await request.form()
        number = tracking.parse(str(form.get("tracking", "")), self.settings.tracking_prefix)
        email = str(form.get("email", ""))[:320]
        matches = self.reader.requester_matches(number or DUMMY_TRACKING, email)
        if number and matches:
            self.mailer.resend_link(number)
        return self.render(request, "lookup.html", error=None, resent=True)

    async def api_ticket(self, request: Request) -> Response:
        """A ticket's public status and timeline as JSON (``k`` adds the conversation).
        ---
        responses:
          200:
            description: tracking, status, owner_name, created_at, updated_at, timeline
          404:
            description: no such ticket
        """
        blocked = self.limited(request)
        if blocked:
            return blocked
        number, page = self.lookup_page(request.path_params["tracking"])
        if number is None or page is None:
            return JSONResponse({"error": "not found"}, status_code=404, headers=NO_STORE)
        conversation = self.token_ok(number, request.query_params.get("k"))
        timeline = []
        for entry in page.timeline:
            item: dict[str, Any] = {
                "at": _iso(entry.at),
                "kind": entry.kind,
                "summary": entry.summary,
                "author": entry.author,
            }
            if conversation:
                item["text"] = entry.text
            timeline.append(item)
        return JSONResponse(
            {
                "tracking": page.tracking,
                "status": page.status,
                "owner_name": self.pages.owner_shown(page),
                "created_at": _iso(page.created_at),
                "updated_at": _iso(page.updated_at),
                "first_response_due": _iso(page.first_response_due),
                "timeline": timeline,
            },
            headers=NO_STORE,
        )

    async def healthz(self, request: Request) -> Response:
        """Database reachable, mailbox state, outbox backlog.
        ---
        responses:
          200:
            description: database and mailbox state
          503:
            description: the database is unreachable, or a listed problem keeps ticketd from working
        """
        details: Mapping[str, object] = self.health_probe.health()
        ok = details.get("database") == "ok" and not details.get("problems")
        body = {"status": "ok" if ok else "degraded", **details}
        return JSONResponse(body, status_code=200 if ok else 503, headers=NO_STORE)

    async def metrics(self, request: Request) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)

    async def openapi(self, request: Request) -> Response:
        return JSONResponse(SCHEMAS.get_schema(routes=request.app.routes))


def create_app(
    settings: WebSettings,
    reader: TicketReader,
    *,
    mailer: LinkMailer,
    health: HealthProbe,
    metrics: MetricsSource,
    clock: Callable[[], float] = time.monotonic,
) -> Starlette:
    """The Starlette application with an explicit route table."""
    site = StatusSite(settings, reader, mailer, health, metrics, clock)
    routes = [
        Route("/t/{tracking}", site.ticket, methods=["GET"], include_in_schema=False),
        Route("/", site.home, methods=["GET"], include_in_schema=False),
        Route("/lookup", site.lookup, methods=["GET"], include_in_schema=False),
        Route("/resend", site.resend, methods=["POST"], include_in_schema=False),
        Route("/api/tickets/{tracking}", site.api_ticket, methods=["GET"]),
        Route("/healthz", site.healthz, methods=["GET"]),
        Route("/metrics", site.metrics, methods=["GET"], include_in_schema=False),
        Route("/openapi.json", site.openapi, methods=["GET"], include_in_schema=False),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    return Starlette(
        routes=routes,
        middleware=[Middleware(SecureAndCounted, counter=site.requests)],
    )
