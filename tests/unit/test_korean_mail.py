"""Korean customer mail has no English in it besides what came from outside: tracking
numbers, links, addresses and the names and texts of the input."""

from __future__ import annotations

import re

import pytest

from tests.unit.test_render import CONTEXT
from ticketd.notifications.render import Renderer
from ticketd.routing.effects import ENGINEER_NOTICES, NoticeKind

CUSTOMER_NOTICES = sorted(set(NoticeKind) - ENGINEER_NOTICES, key=lambda kind: kind.value)
FROM_OUTSIDE = re.compile(
    r"https?://\S+|\S+@\S+|[A-Z]{2,5}-[0-9A-Z]{4}-[0-9A-Z]{4}|^Re:|"
    + "|".join(re.escape(str(CONTEXT[key])) for key in ("service_name", "owner_name")),
    re.MULTILINE,
)


@pytest.mark.parametrize("kind", CUSTOMER_NOTICES, ids=lambda kind: kind.value)
@pytest.mark.parametrize("new_status", ["", "resolved", "waiting"])
def test_korean_customer_mail_has_no_english_words(kind: NoticeKind, new_status: str) -> None:
    context = {**CONTEXT, "new_status": new_status, "fee": None}
    renderer = Renderer.default()
    mail = renderer.render(kind.value, "ko", context)
    html = renderer.html(kind.value, "ko", context)
    shown = re.sub(r"<[^>]+>", " ", html.split("<body", 1)[1].split(">", 1)[1])
    for text in (mail.subject, mail.text, shown):
        words = re.findall(r"[A-Za-z]{2,}", FROM_OUTSIDE.sub(" ", text))
        assert words == [], f"{kind.value}: English words {words}"
