"""The status-page application: ``create_app`` wires settings and ports into Starlette."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from ticketd.routing import tracking
from ticketd.routing.labels import LANGUAGES
from ticketd.routing.links import (
    attachment_signature,
    status_token,
    verify_attachment_signature,
    verify_status_token,
)
from ticketd.web.downloads import download
from ticketd.web.forms import FIELD, FormGuard
from ticketd.web.i18n import STRINGS, choose_language, ticket_language
from ticketd.web.metrics import HttpMetrics, build_registry
from ticketd.web.openapi import SCHEMA
from ticketd.web.pages import Download, PageRenderer
from ticketd.web.ports import (
    AttachmentReader,
    HealthProbe,
    LinkMailer,
    MetricsSource,
    Ratings,
    TicketPage,
    TicketReader,
    WebSettings,
)
from ticketd.web.proxy import ClientAddress, Network, networks
from ticketd.web.ratelimit import RateLimiter
from ticketd.web.rating import RatingPages
from ticketd.web.security import SecureAndCounted

HERE = Path(__file__).resolve().parent
DUMMY_TRACKING = "XX-0000-0000"
NO_STORE = {"Cache-Control": "no-store"}
ATTACHMENT_ID = re.compile(r"[1-9][0-9]{0,17}")


async def favicon(request: Request) -> Response:
    """The icon browsers ask for on their own (pages name ``/static/favicon.svg``)."""
    return RedirectResponse("/static/favicon.svg", status_code=301)


def _iso(at: datetime | None) -> str | None:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ") if at else None


class StatusSite:
    """The endpoints, holding their collaborators (no module-level state)."""

    def __init__(
        self,
        settings: WebSettings,
        reader: TicketReader,
        attachments: AttachmentReader,
        mailer: LinkMailer,
        health: HealthProbe,
        metrics: MetricsSource,
        clock: Callable[[], float],
        ratings: Ratings | None = None,
        collectors: Sequence[Collector] = (),
    ) -> None:
        self.settings = settings
        self.ratings = ratings
        self.reader = reader
        self.attachments = attachments
        self.mailer = mailer
        self.forms = FormGuard(settings.secret_key, settings.base_url)
        self.health_probe = health
        self.limiter = RateLimiter(settings.rate_limit_per_minute, clock)
        self.registry, self.http = build_registry(metrics, collectors)
        self.pages = PageRenderer(settings)

    def asked_language(self, request: Request) -> str | None:
        """The language the visitor chose with ``?lang=``, if any."""
        query = request.query_params.get("lang")
        return query if query in LANGUAGES else None

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

    def lookup_form(
        self,
        request: Request,
        status: int = 200,
        *,
        error: str | None = None,
        resent: bool = False,
        refused: bool = False,
    ) -> Response:
        """The lookup page with its forms, the resend form carrying the visitor's token
        (and the cookie it is bound to, the first time)."""
        nonce, new = self.forms.nonce(request)
        response = self.render(
            request,
            "lookup.html",
            status,
            error=error,
            resent=resent,
            refused=refused,
            form_token=self.forms.token(nonce),
        )
        if new:
            self.forms.remember(response, nonce)
        return response

    async def home(self, request: Request) -> Response:
        """The lookup form."""
        return self.lookup_form(request)

    async def lookup(self, request: Request) -> Response:
        """Form target: redirect to the canonical status page."""
        blocked = self.limited(request)
        if blocked:
            return blocked
        typed = request.query_params.get("tracking", "")
        number, page = self.lookup_page(typed)
        if number is None and tracking.mistyped(typed, self.settings.tracking_prefix):
            return self.lookup_form(request, 404, error="mistyped")
        if number is None or page is None:
            return self.lookup_form(request, 404, error="not_found_help")
        return RedirectResponse(self.page_url(request, number), status_code=303)

    def unknown(self, request: Request, token: str | None) -> Response:
        """The 404 of an unknown number, after the same key check a known one costs."""
        self.token_ok(DUMMY_TRACKING, token)
        return self.not_found(request)

    def not_found(self, request: Request) -> Response:
        return self.render(request, "not_found.html", 404)

    def downloads(self, number: str) -> list[Download]:
        """The ticket's public attachments with their signed download links."""
        secret = self.settings.secret_key
        key = status_token(secret, number)
        return [
            (
                found,
                f"/t/{number}/attachments/{found.id}"
                f"?k={key}&s={attachment_signature(secret, number, found.id)}",
            )
            for found in self.attachments.attachments(number)
        ]

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
        asked = self.asked_language(request)
        number = tracking.parse(typed, self.settings.tracking_prefix)
        if not token:
            published = self.reader.published_page(number or DUMMY_TRACKING, asked)
            if published is not None and number == typed:
                return HTMLResponse(published, headers=NO_STORE)
        page = self.page_of(number)
        if number is None or page is None:
            return self.unknown(request, token)
        language = asked or ticket_language(page, self.language(request))
        if number != typed:
            return RedirectResponse(self.page_url(request, number, token), status_code=301)
        conversation = self.token_ok(number, token)
        rating = self.ratings.rating(number) if conversation and self.ratings else None
        html = self.pages.ticket(
            page,
            language,
            conversation=conversation,
            attachments=self.downloads(number) if conversation else (),
            rating=rating,
            key=token if conversation else None,
        )
        return HTMLResponse(html, headers=NO_STORE)

    async def attachment(self, request: Request) -> Response:
        """One public attachment, as a download; with a wrong number, key or signature (or
        none), the same 404 as an unknown ticket."""
        blocked = self.limited(request)
        if blocked:
            return blocked
        typed = request.path_params["tracking"]
        typed_id = request.path_params["attachment"]
        number = tracking.parse(typed, self.settings.tracking_prefix) or DUMMY_TRACKING
        attachment_id = int(typed_id) if ATTACHMENT_ID.fullmatch(typed_id) else 0
        key_ok = self.token_ok(number, request.query_params.get("k"))
        signed = verify_attachment_signature(
            self.settings.secret_key, number, attachment_id, request.query_params.get("s", "")
        )
        if not (key_ok and signed and number == typed and attachment_id):
            return self.not_found(request)
        found = self.attachments.attachment(number, attachment_id)
        return download(found.filename, found.data) if found else self.not_found(request)

    async def resend(self, request: Request) -> Response:
        """Mail the link again when tracking number and address match. Only posts from our
        own form are taken; the answer is the same either way and goes out before the
        request is looked at: every well-formed one is handed to the mailer afterwards."""
        blocked = self.limited(request)
        if blocked:
            return blocked
        form = await request.form()
        if not self.forms.allows(request, str(form.get(FIELD, ""))):
            return self.lookup_form(request, 403, refused=True)
        number = tracking.parse(str(form.get("tracking", "")), self.settings.tracking_prefix)
        email = str(form.get("email", ""))[:320]
        response = self.lookup_form(request, resent=True)
        if number:
            response.background = BackgroundTask(self.mailer.resend_link, number, email)
        return response

    async def api_ticket(self, request: Request) -> Response:
        """A ticket's public status and timeline as JSON (``k`` adds the conversation)."""
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
            if entry.reason:
                item["reason"] = entry.reason
            if conversation:
                item["text"] = entry.text
            timeline.append(item)
        body: dict[str, Any] = {
            "tracking": page.tracking,
            "status": page.status,
            "owner_name": self.pages.owner_shown(page),
            "created_at": _iso(page.created_at),
            "updated_at": _iso(page.updated_at),
            "first_response_due": _iso(page.first_response_due),
            "last_reply_at": _iso(page.last_reply_at),
            "timeline": timeline,
        }
        if page.first_response_due is not None:
            body["first_response_due_at"] = _iso(page.first_response_due)
        if page.reason:
            body["reason"] = page.reason
        if conversation:
            body["attachments"] = [
                {"name": found.filename, "size": found.size, "at": _iso(found.at), "url": url}
                for found, url in self.downloads(number)
            ]
        return JSONResponse(body, headers=NO_STORE)

    async def healthz(self, request: Request) -> Response:
        """Database reachable and writable, mailbox state, outbox backlog (probed in a
        thread: a probe write may wait for the write lock)."""
        details: Mapping[str, object] = await run_in_threadpool(self.health_probe.health)
        ok = details.get("database") == "ok" and not details.get("problems")
        body = {"status": "ok" if ok else "degraded", **details}
        return JSONResponse(body, status_code=200 if ok else 503, headers=NO_STORE)

    async def livez(self, request: Request) -> Response:
        """Answered by the process loop itself: if this answers, the loop is alive."""
        return JSONResponse({"status": "alive"}, headers=NO_STORE)

    async def readyz(self, request: Request) -> Response:
        """Ready to serve: the database reachable and, for the poller, the mailbox
        connected and the outbox not stuck (``not_ready`` of the health probe)."""
        details: Mapping[str, object] = await run_in_threadpool(self.health_probe.health)
        reasons = list(details.get("not_ready") or ())  # type: ignore[call-overload]
        if details.get("database") != "ok":
            reasons.insert(0, f"database: {details.get('database')}")
        body = {"status": "not ready" if reasons else "ready", "reasons": reasons}
        return JSONResponse(body, status_code=503 if reasons else 200, headers=NO_STORE)

    async def metrics(self, request: Request) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)

    async def openapi(self, request: Request) -> Response:
        return JSONResponse(SCHEMA)


class StatusApp(Starlette):
    """Starlette with the security headers and the request counter outside everything,
    Starlette's own error handler included: an uncaught error's 500 carries them too."""

    def __init__(
        self,
        routes: list[BaseRoute],
        metrics: HttpMetrics,
        close: Callable[[], None],
        proxies: Sequence[Network] = (),
    ) -> None:
        @contextlib.asynccontextmanager
        async def lifespan(_: Starlette) -> AsyncIterator[None]:
            try:
                yield
            finally:
                close()

        super().__init__(routes=routes, lifespan=lifespan)
        self.http_metrics = metrics
        self.proxies = proxies

    def build_middleware_stack(self) -> ASGIApp:
        counted = SecureAndCounted(super().build_middleware_stack(), self.http_metrics)
        return ClientAddress(counted, self.proxies)


def create_app(
    settings: WebSettings,
    reader: TicketReader,
    *,
    attachments: AttachmentReader,
    mailer: LinkMailer,
    health: HealthProbe,
    metrics: MetricsSource,
    clock: Callable[[], float] = time.monotonic,
    close: Callable[[], None] = lambda: None,
    staff: Sequence[BaseRoute] = (),
    ratings: Ratings | None = None,
    collectors: Sequence[Collector] = (),
) -> Starlette:
    """The Starlette application with an explicit route table; ``staff`` adds the
    workspace's routes (``web.staff.app.staff_mount``); ``close`` releases the ports'
    resources when the application shuts down; ``ratings`` adds the satisfaction pages;
    ``collectors`` add the running daemon's metrics to ``/metrics``."""
    site = StatusSite(
        settings, reader, attachments, mailer, health, metrics, clock, ratings, collectors
    )
    rate = [] if ratings is None else RatingPages(site, ratings).routes()
    routes: list[BaseRoute] = [
        *rate,
        Route("/t/{tracking}", site.ticket, methods=["GET"]),
        Route("/t/{tracking}/attachments/{attachment}", site.attachment, methods=["GET"]),
        Route("/", site.home, methods=["GET"]),
        Route("/lookup", site.lookup, methods=["GET"]),
        Route("/resend", site.resend, methods=["POST"]),
        Route("/api/tickets/{tracking}", site.api_ticket, methods=["GET"]),
        Route("/healthz", site.healthz, methods=["GET"]),
        Route("/livez", site.livez, methods=["GET"]),
        Route("/readyz", site.readyz, methods=["GET"]),
        Route("/metrics", site.metrics, methods=["GET"]),
        Route("/openapi.json", site.openapi, methods=["GET"]),
        Route("/favicon.ico", favicon, methods=["GET"]),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
        *staff,
    ]
    return StatusApp(routes, site.http, close, networks(settings.trusted_proxies))
