"""HTML of the workspace: Jinja2 with autoescaping over ``web/templates/staff``, in the
viewer's language (``?lang=``, then the ``ticketd_lang`` cookie, then ``[service].language``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from ticketd.routing.labels import LANGUAGES, priority_label, status_label
from ticketd.routing.outcome_words import event_summary
from ticketd.routing.text import neutralise_shown
from ticketd.web.pages import TEMPLATES
from ticketd.web.ports import WebSettings
from ticketd.web.staff.auth import CSRF_FIELD, NO_STORE, Viewer
from ticketd.web.staff.i18n import STAFF_STRINGS

LANG_COOKIE = "ticketd_lang"


class StaffRenderer:
    """Renders workspace pages; every shown value passes ``neutralise_shown``."""

    def __init__(self, settings: WebSettings) -> None:
        self.settings = settings
        self.zone = ZoneInfo(settings.timezone)
        self.templates = Environment(
            loader=FileSystemLoader(str(TEMPLATES / "staff")),
            autoescape=select_autoescape(default=True, default_for_string=True),
            auto_reload=False,
            finalize=neutralise_shown,
        )
        self.templates.filters["local"] = self.local_time

    def local_time(self, at: datetime | None) -> str:
        return at.astimezone(self.zone).strftime("%Y-%m-%d %H:%M") if at else ""

    def language(self, request: Request) -> str:
        for choice in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
            if choice in LANGUAGES:
                return choice
        return self.settings.language

    def plain(self, request: Request, key: str, status: int) -> Response:
        """A short plain-text answer (a key of ``STAFF_STRINGS``) in the viewer's language."""
        return Response(STAFF_STRINGS[self.language(request)][key], status, headers=NO_STORE)

    def page(
        self,
        request: Request,
        name: str,
        viewer: Viewer | None = None,
        status: int = 200,
        **context: Any,
    ) -> Response:
        """A page for ``viewer`` (None on the sign-in pages); a ``?lang=`` choice is kept
        in a cookie for the next pages."""
        language = self.language(request)
        html = self.templates.get_template(name).render(
            t=STAFF_STRINGS[language],
            lang=language,
            other_lang="en" if language == "ko" else "ko",
            service_name=self.settings.service_name,
            viewer=viewer,
            csrf_field=CSRF_FIELD,
            label=lambda status: status_label(status, language),
            priority_label=lambda priority: priority_label(priority, language),
            summary=lambda event: event_summary(event.kind, event.summary, language),
            **context,
        )
        response = HTMLResponse(html, status_code=status, headers=NO_STORE)
        if request.query_params.get("lang") in LANGUAGES:
            response.set_cookie(LANG_COOKIE, language, path="/staff", samesite="lax", httponly=True)
        return response
