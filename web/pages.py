"""HTML rendering of the public pages, shared by live requests and pre-published pages.

A ticket's status page without the conversation depends only on the ticket and the
language, so the daemon renders it when the ticket changes (``ticket``) and the web serves
the stored copy; ``fingerprint`` names everything besides the ticket that the HTML depends
on, so a stored copy from other templates or settings is never served.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape

from ticketd.routing.csat import Rateable, RatingState
from ticketd.routing.labels import status_label
from ticketd.routing.page_time import moment
from ticketd.routing.text import neutralise_shown
from ticketd.web.i18n import STATUS_STEP, STEPS, STRINGS
from ticketd.web.ports import PublicAttachment, TicketPage, WebSettings
from ticketd.web.rating_strings import RATE_STRINGS

TEMPLATES = Path(__file__).resolve().parent / "templates"
Download = tuple[PublicAttachment, str]
"""An attachment listed on a page, with its signed download link."""


def file_size(size: int) -> str:
    """A byte count as people read it: ``532 B``, ``48 KB``, ``1.5 MB``."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


class PageRenderer:
    """Jinja2 (autoescaping) over the package templates, for one service's settings. Every
    value a template shows passes ``neutralise_shown``: no bidirectional control from a
    subject, a name or a message can reorder the page."""

    def __init__(self, settings: WebSettings) -> None:
        self.settings = settings
        self.zone = ZoneInfo(settings.timezone)
        self.templates = Environment(
            loader=FileSystemLoader(str(TEMPLATES)),
            autoescape=select_autoescape(default=True, default_for_string=True),
            auto_reload=False,
            finalize=neutralise_shown,
        )
        self.templates.filters["local"] = self.local_time
        self.templates.filters["file_size"] = file_size

    def local_time(self, at: datetime | None) -> str:
        """``at`` in the service's timezone, to the minute, with the zone named: its
        abbreviation where it has one (``KST``), else its UTC offset (``UTC+04:00``)."""
        if at is None:
            return ""
        local = at.astimezone(self.zone)
        zone = local.tzname() or ""
        if not zone.isalpha():
            offset = local.strftime("%z")
            zone = f"UTC{offset[:3]}:{offset[3:]}"
        return f"{local:%Y-%m-%d %H:%M} {zone}"

    def owner_shown(self, page: TicketPage) -> str | None:
        """The person handling the ticket, or the stable team name (``web.show_owner``)."""
        if self.settings.show_owner == "team":
            return self.settings.team_name or self.settings.service_name
        return page.owner_name

    def render(self, name: str, language: str, **context: Any) -> str:
        """Any page template in ``language``."""
        return self.templates.get_template(name).render(
            t=STRINGS[language],
            lang=language,
            other_lang="en" if language == "ko" else "ko",
            service_name=self.settings.service_name,
            support_address=self.settings.support_address,
            **context,
        )

    def ticket(
        self,
        page: TicketPage,
        language: str,
        *,
        conversation: bool,
        attachments: Sequence[Download] = (),
        rating: RatingState | None = None,
        key: str | None = None,
    ) -> str:
        """The status page; ``conversation`` adds the subject, the messages' text and
        their ``attachments``; ``rating`` (with the page's ``key``) the customer's rating
        and, while the ticket takes one, the links to give or change it."""
        current = STATUS_STEP.get(page.status, "received")
        return self.render(
            "ticket.html",
            language,
            page=page,
            owner=self.owner_shown(page),
            status_text=status_label(page.status, language),
            steps=[(step, STEPS.index(step) <= STEPS.index(current)) for step in STEPS],
            current=current,
            conversation=conversation,
            attachments=attachments,
            hours=f"{page.first_response_hours:g}",
            label=lambda status: status_label(status, language),
            moment=lambda at: moment(at, self.settings.timezone, language),
            rating=rating,
            rateable=rating is not None and rating.rateable == Rateable.OPEN,
            key=key,
            r=RATE_STRINGS[language],
        )

    def fingerprint(self) -> str:
        """A digest of the templates, the strings and the settings the pages show."""
        digest = hashlib.sha256()
        for name in sorted(self.templates.list_templates()):
            digest.update(name.encode() + b"\0" + (TEMPLATES / name).read_bytes())
        settings = self.settings
        shown = (
            settings.service_name,
            settings.timezone,
            settings.show_owner,
            settings.team_name,
            settings.support_address,
        )
        digest.update(json.dumps([STRINGS, RATE_STRINGS, shown], sort_keys=True).encode())
        return digest.hexdigest()
