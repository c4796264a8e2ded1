"""The queue and the ticket page mark tickets whose owner is away while an SLA promise
runs ("owner away" beside the SLA badge), on the real store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.builders import claim
from tests.web.staff_support import Desk, desk
from ticketd.mail.message import RawMessage, Source
from ticketd.routing.assign import Availability

BADGE = '<strong class="badge away">담당자 부재</strong>'


@pytest.fixture
def d(tmp_path: Path) -> Iterator[Desk]:
    with desk(tmp_path, stored=True) as opened:
        yield opened


def test_an_away_owners_open_tickets_carry_the_owner_away_badge(d: Desk) -> None:
    for n in range(2):
        data = claim(subject=f"Claim {n}", body=f"Order {n} is late.", sender="kim@acme.co.kr")
        d.components.ingestor.enqueue(RawMessage(data, Source.SMTP, datetime.now(UTC)))
    d.components.ingestor.process_pending()
    d.sign_in("bob@example.com")
    tickets = d.client.get("/staff/api/tickets", params={"tab": "open"}).json()["tickets"]
    alices = [t["tracking"] for t in tickets if t["owner"] == "alice@example.com"]
    bobs = [t["tracking"] for t in tickets if t["owner"] == "bob@example.com"]
    assert len(alices) == 1 and len(bobs) == 1
    assert BADGE not in d.client.get("/staff/", params={"tab": "open"}).text
    with d.components.store.write() as writer:
        writer.set_availability("alice@example.com", Availability(True), "bob@example.com")
    queue = d.client.get("/staff/", params={"tab": "open"}).text
    assert queue.count(BADGE) == 1
    [row] = [item for item in queue.split('<li class="row') if alices[0] in item]
    assert BADGE in row
    assert 'id="owner-away"' in d.client.get(f"/staff/t/{alices[0]}").text
    assert 'id="owner-away"' not in d.client.get(f"/staff/t/{bobs[0]}").text
