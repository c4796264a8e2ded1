"""Rendering notices with Jinja2 templates: ``templates/<language>/<kind>.txt``.

A template's first line is ``Subject: …``, then a blank line, then the body. Operators may
override any template from a folder of their own, searched first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined

LANGUAGES = ("ko", "en")
STATUS_LABELS = {
    "en": {
        "open": "open",
        "pending": "in progress",
        "waiting": "waiting for your reply",
        "resolved": "resolved",
        "closed": "closed",
    },
    "ko": {
        "open": "접수됨",
        "pending": "처리 중",
        "waiting": "고객님의 답변 대기 중",
        "resolved": "해결됨",
        "closed": "종료됨",
    },
}


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str


def status_label(status: str, language: str) -> str:
    """A status as customers read it."""
    return STATUS_LABELS.get(language, STATUS_LABELS["en"]).get(status, status)


class Renderer:
    """Renders notice templates from a pre-built Jinja2 environment."""

    def __init__(self, environment: Environment) -> None:
        self.environment = environment

    @classmethod
    def default(cls, override_dir: Path | None = None) -> Renderer:
        """Package templates, with ``override_dir`` (if given) searched first."""
        loaders = [FileSystemLoader(str(override_dir))] if override_dir else []
        loaders.append(PackageLoader("ticketd.notifications", "templates"))
        environment = Environment(
            loader=ChoiceLoader(loaders),
            autoescape=False,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        environment.filters["status_label"] = status_label
        return cls(environment)

    def render(self, kind: str, language: str, context: Mapping[str, object]) -> RenderedMail:
        """Subject and body of ``kind`` in ``language`` (English when unknown)."""
        language = language if language in LANGUAGES else "en"
        template = self.environment.get_template(f"{language}/{kind}.txt")
        output = template.render({**context, "language": language})
        first, _, body = output.partition("\n")
        if not first.startswith("Subject:"):
            raise ValueError(f"template {language}/{kind}.txt must start with 'Subject:'")
        return RenderedMail(first.removeprefix("Subject:").strip(), body.strip("\n") + "\n")
