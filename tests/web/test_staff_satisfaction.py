"""A customer's rating in the staff ticket page (Korean and English): the rating and the
comment, in the timeline; the customer's own status page keeps the event out of its
public history."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.builders import claim
from tests.e2e.test_satisfaction import form_of
from tests.web.staff_support import Desk, desk
from ticketd.daemon.actions import StoreActions
from ticketd.mail.message import RawMessage, Source
from ticketd.routing.actions import ActionRequest
from ticketd.routing.links import status_token
from ticketd.routing.model import Role
from ticketd.routing.workspace import StaffUser


@pytest.fixture
def d(tmp_path: Path) -> Iterator[Desk]:
    with desk(tmp_path, stored=True) as opened:
        yield opened


def rated(d: Desk) -> tuple[str, str]:
    """A resolved ticket rated "bad" with a comment; its number and owner."""
    mail = claim("배송 문의", "주문한 상품이 오지 않았습니다.", sender="kim@acme.co.kr")
    d.components.ingestor.enqueue(RawMessage(mail, Source.SMTP, datetime.now(UTC)))
    d.components.ingestor.process_pending()
    d.flush()
    [ack] = [m for m in d.sent() if "kim@acme.co.kr" in str(m["To"])]
    found = re.search(r"\[(SUP-[0-9A-Z]{4}-[0-9A-Z]{4})\]", str(ack["Subject"]))
    assert found
    number = found.group(1)
    with d.components.store.write() as writer:
        ref = writer.lookup.ticket_to_act_on(number)
        assert ref is not None and ref.owner
        version = writer.lookup.version(ref.id)
    owner = next(e for e in d.components.config.engineers if e.email == ref.owner)
    user = StaffUser(owner.email, owner.name, Role(owner.role))
    StoreActions(d.components).act(user, number, version, ActionRequest(("#resolve",), ""))
    key = status_token(d.components.config.web.secret_key, number)
    fields = form_of(d.client.get(f"/t/{number}/rate?k={key}&r=bad").text)
    comment = {"r": "bad", "comment": "<b>답이 늦었어요</b>"}
    answer = d.client.post(f"/t/{number}/rate", data={**fields, **comment})
    assert answer.status_code == 200, answer.text
    return number, owner.email


@pytest.mark.parametrize(
    ("lang", "shown"),
    [("ko", "만족도: <strong>아쉬워요</strong>"), ("en", "Satisfaction: <strong>bad</strong>")],
)
def test_the_rating_and_its_comment_are_in_the_staff_timeline(
    d: Desk, lang: str, shown: str
) -> None:
    number, owner = rated(d)
    d.sign_in(owner)
    page = d.client.get(f"/staff/t/{number}?lang={lang}")
    assert page.status_code == 200
    assert shown in page.text
    assert "&lt;b&gt;답이 늦었어요&lt;/b&gt;" in page.text
    key = status_token(d.components.config.web.secret_key, number)
    status = d.client.get(f"/t/{number}?k={key}").text
    assert "답이 늦었어요" not in status and "아쉬워요" in status
    assert "답이 늦었어요" not in d.client.get(f"/t/{number}").text
