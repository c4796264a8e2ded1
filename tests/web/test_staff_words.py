"""The staff ticket page and its JSON say why a ticket was assigned and why its status
changed in the viewer's language (Korean by the service's default, English by choice)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.builders import claim
from tests.web.staff_support import Desk, desk
from tests.web.test_staff_ticket import receive


@pytest.fixture
def d(tmp_path: Path) -> Iterator[Desk]:
    with desk(tmp_path, stored=True) as opened:
        opened.clock.at = datetime.now(UTC)  # the pipeline's resend window reads the wall clock
        yield opened


def summaries(d: Desk, tracking: str, query: str = "") -> list[str]:
    found = d.client.get(f"/staff/api/tickets/{tracking}{query}").json()
    return [e["summary"] for e in found["events"] if e["type"] in ("assigned", "status_changed")]


def test_assignment_and_status_reasons_read_in_the_viewers_language(d: Desk) -> None:
    tracking = receive(d, claim(subject="로그인 문의", body="로그인이 안 됩니다."))
    csrf = d.sign_in("bob@example.com")
    body = {"commands": ["#assign bob@example.com", "#resolve"], "text": "", "version": 0}
    body["version"] = d.client.get(f"/staff/api/tickets/{tracking}").json()["version"]
    answer = d.client.post(
        f"/staff/api/tickets/{tracking}/actions", json=body, headers={"X-CSRF-Token": csrf}
    )
    assert answer.status_code == 200, answer.text
    assert summaries(d, tracking) == [
        "alice@example.com: 근무 중인 엔지니어 가운데 맡은 티켓이 가장 적음",
        "bob@example.com: bob@example.com이 배정",
        "접수됨 → 해결됨: bob@example.com이 변경",
    ]
    page = d.client.get(f"/staff/t/{tracking}").text
    assert "bob@example.com: bob@example.com이 배정" in page
    assert "접수됨 → 해결됨: bob@example.com이 변경" in page
    assert summaries(d, tracking, "?lang=en") == [
        "alice@example.com: least-loaded engineer on duty",
        "bob@example.com: assigned by bob@example.com",
        "Received → Resolved: by bob@example.com",
    ]
    assert "assigned by bob@example.com" in d.client.get(f"/staff/t/{tracking}?lang=en").text
