"""Who is asking: the staff session cookie or an API bearer token, resolved to a
``StaffUser`` for every request, and the CSRF token bound to the session.

A route gets the current engineer by wrapping its handler: ``auth.page(handler)`` (HTML:
no session → redirect to the sign-in page with ``next``), ``auth.api(handler)`` (JSON: no
session and no bearer token → 401; a POST with the cookie needs ``X-CSRF-Token``) or
``auth.form(handler)`` (a form POST: the session and the ``csrf_token`` field, else 403).
The handler is called as ``handler(request, viewer)``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from ticketd.routing.links import csrf_token, verify_csrf_token
from ticketd.routing.workspace import StaffUser
from ticketd.web.forms import from_own_site
from ticketd.web.staff.access import StaffAccess

SESSION_COOKIE = "ticketd_staff"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
MAX_SECRET = 100
NO_STORE = {"Cache-Control": "no-store"}


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in engineer; ``session_id`` and ``csrf`` are empty for a bearer token."""

    user: StaffUser
    session_id: str = ""
    csrf: str = ""


Handler = Callable[[Request, Viewer], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class StaffAuth:
    """Resolves viewers, sets and clears the session cookie, checks CSRF tokens."""

    def __init__(
        self, access: StaffAccess, secret: str, base_url: str, session_hours: float
    ) -> None:
        self.access = access
        self.secret = secret
        self.origin = base_url.rstrip("/").lower()
        self.secure = self.origin.startswith("https://")
        self.max_age = int(session_hours * 3600)

    def csrf(self, session_id: str) -> str:
        """The CSRF token of a session: every staff form's hidden ``csrf_token`` field and
        the JSON API's ``X-CSRF-Token`` header."""
        return csrf_token(self.secret, session_id)

    def csrf_ok(self, request: Request, viewer: Viewer, token: str) -> bool:
        """True for a request from our own pages carrying the session's token (a bearer
        viewer has no cookie a browser could send for it: always true)."""
        if not viewer.session_id:
            return True
        return from_own_site(request, self.origin) and verify_csrf_token(
            self.secret, viewer.session_id, token[:MAX_SECRET]
        )

    async def session_viewer(self, request: Request) -> Viewer | None:
        """The viewer of the request's session cookie, or None."""
        session_id = request.cookies.get(SESSION_COOKIE, "")[:MAX_SECRET]
        if not session_id:
            return None
        user = await run_in_threadpool(self.access.session, session_id)
        return Viewer(user, session_id, self.csrf(session_id)) if user else None

    async def viewer(self, request: Request) -> Viewer | None:
        """A bearer token's viewer when the request carries one, else the session's."""
        token = _bearer(request)
        if token is not None:
            user = await run_in_threadpool(self.access.bearer, token[:MAX_SECRET])
            return Viewer(user) if user else None
        return await self.session_viewer(request)

    def page(self, handler: Handler) -> Endpoint:
        """An HTML page for signed-in engineers; others go to the sign-in page."""

        async def endpoint(request: Request) -> Response:
            viewer = await self.session_viewer(request)
            if viewer is None:
                return self.to_sign_in(request)
            return await handler(request, viewer)

        return endpoint

    def form(self, handler: Handler) -> Endpoint:
        """A form POST: a session and its CSRF token, else 403 and nothing done."""

        async def endpoint(request: Request) -> Response:
            viewer = await self.session_viewer(request)
            if viewer is None:
                return self.to_sign_in(request)
            form = await request.form()
            if not self.csrf_ok(request, viewer, str(form.get(CSRF_FIELD, ""))):
                return Response("CSRF token missing or wrong", 403, headers=NO_STORE)
            return await handler(request, viewer)

        return endpoint

    def api(self, handler: Handler) -> Endpoint:
        """A JSON endpoint: a bearer token or the session (401 JSON without either); with
        the session, anything but GET and HEAD needs ``X-CSRF-Token`` (403 JSON)."""

        async def endpoint(request: Request) -> Response:
            viewer = await self.viewer(request)
            if viewer is None:
                return JSONResponse(
                    {"error": "authentication required"},
                    401,
                    headers={**NO_STORE, "WWW-Authenticate": "Bearer"},
                )
            unsafe = request.method not in ("GET", "HEAD")
            if unsafe and not self.csrf_ok(request, viewer, request.headers.get(CSRF_HEADER, "")):
                return JSONResponse({"error": "CSRF token missing or wrong"}, 403, headers=NO_STORE)
            return await handler(request, viewer)

        return endpoint

    def to_sign_in(self, request: Request) -> Response:
        """303 to the sign-in page, coming back here afterwards."""
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/staff/login?next={quote(here, safe='')}", 303)

    def remember(self, response: Response, session_id: str) -> None:
        """The session cookie: HttpOnly, SameSite=Lax, Secure on https, for the workspace."""
        response.set_cookie(
            SESSION_COOKIE,
            session_id,
            max_age=self.max_age,
            path="/staff",
            secure=self.secure,
            httponly=True,
            samesite="lax",
        )

    def forget(self, response: Response) -> None:
        response.delete_cookie(
            SESSION_COOKIE, path="/staff", secure=self.secure, httponly=True, samesite="lax"
        )
