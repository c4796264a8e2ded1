"""Rendering notices with Jinja2 templates: ``templates/<language>/<kind>.txt``.

A template's first line is ``Subject: …``, then a blank line, then the body. Mail to
customers also gets an HTML alternative: the same text in ``templates/html/layout.html``
(autoescaped; links made clickable) with a button to the status page. Operators may override
any template from a folder of their own, searched first. Every value a template shows (the
subject, names, the customer's and engineers' texts) passes ``neutralise_shown``: no
bidirectional control can reorder a notice.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
)
from markupsafe import Markup, escape

from ticketd.routing.labels import LANGUAGES, status_label
from ticketd.routing.particles import particle, with_particle
from ticketd.routing.text import neutralise_shown

BUTTON = {"ko": "진행 상황 보기", "en": "View your request"}
RATE_BUTTONS = {
    "ko": ("만족해요", "아쉬워요", "이번 처리에 만족하셨나요?"),
    "en": ("Good, I'm satisfied", "Not good", "How did we do?"),
}
TRACKING_STYLE = (
    "display:inline-block;margin:4px 0;padding:8px 14px;border:1px solid #d1d5db;"
    "border-radius:8px;background:#f9fafb;font-family:ui-monospace,Menlo,monospace;"
    "font-size:18px;font-weight:700;letter-spacing:0.06em;color:#111827;"
)
WRAP = {"text": "\n", "html": " "}
"""What a template's ``{{ wrap -}}`` (a line wrapped only to keep the text narrow) becomes:
a line break in the text part, a space in the HTML part (which the reader's window wraps)."""
URL = re.compile(r"https?://[^\s<>\"']+")


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str


def _linked(line: str) -> str:
    """One line escaped, with its http(s) links made clickable (HTML as ``str``)."""
    if "http" not in line:
        return escape(line)
    out, last = [], 0
    for found in URL.finditer(line):
        url = found.group().rstrip(".,;:)")
        link = escape(url)
        out += [escape(line[last : found.start()]), f'<a href="{link}">{link}</a>']
        last = found.start() + len(url)
    out.append(escape(line[last:]))
    return "".join(out)


def _paragraph(block: str, tracking: str) -> str:
    """One paragraph; the tracking number standing alone is set off in a box."""
    if tracking and block.strip() == tracking:
        return f'<p style="{TRACKING_STYLE}">{escape(tracking)}</p>'
    return "<p>" + "<br>\n".join(map(_linked, block.split("\n"))) + "</p>"


def paragraphs(text: str, tracking: str = "") -> Markup:
    """Plain text as HTML: blank-line separated paragraphs, line breaks kept (the
    templates' own wrapping is left out of the HTML rendering, see ``WRAP``). Built as one
    string and marked safe once (every piece is escaped)."""
    blocks = [block.strip("\n") for block in re.split(r"\n\s*\n", text) if block.strip()]
    return Markup("\n".join(_paragraph(block, tracking) for block in blocks))


class Renderer:
    """Renders notice templates from a pre-built Jinja2 environment."""

    def __init__(self, environment: Environment, html: Environment) -> None:
        self.environment = environment
        self.html_environment = html

    @classmethod
    def default(cls, override_dir: Path | None = None) -> Renderer:
        """Package templates, with ``override_dir`` (if given) searched first."""
        loaders: list[BaseLoader] = [FileSystemLoader(str(override_dir))] if override_dir else []
        loaders.append(PackageLoader("ticketd.notifications", "templates"))
        environment = Environment(
            loader=ChoiceLoader(loaders),
            autoescape=False,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            finalize=neutralise_shown,
        )
        environment.filters["status_label"] = status_label
        environment.filters["particle"] = particle
        environment.filters["with_particle"] = with_particle
        html = Environment(
            loader=ChoiceLoader(loaders),
            autoescape=True,
            undefined=StrictUndefined,
            finalize=neutralise_shown,
        )
        html.filters["paragraphs"] = paragraphs
        return cls(environment, html)

    def render(
        self, kind: str, language: str, context: Mapping[str, object], wrap: str = WRAP["text"]
    ) -> RenderedMail:
        """Subject and body of ``kind`` in ``language`` (English when unknown)."""
        language = language if language in LANGUAGES else "en"
        template = self.environment.get_template(f"{language}/{kind}.txt")
        output = template.render({**context, "language": language, "wrap": wrap})
        first, _, body = output.partition("\n")
        if not first.startswith("Subject:"):
            raise ValueError(f"template {language}/{kind}.txt must start with 'Subject:'")
        return RenderedMail(first.removeprefix("Subject:").strip(), body.strip("\n") + "\n")

    def html(self, kind: str, language: str, context: Mapping[str, object]) -> str:
        """The HTML alternative of a customer mail: its template rendered again with the
        template's own wrapping undone."""
        mail = self.render(kind, language, context, WRAP["html"])
        language = language if language in LANGUAGES else "en"
        return self.html_environment.get_template("html/layout.html").render(
            {
                **context,
                "language": language,
                "subject": mail.subject,
                "text": mail.text,
                "button": BUTTON[language],
                "rate_buttons": RATE_BUTTONS[language],
            }
        )
