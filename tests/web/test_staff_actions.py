"""Acting from the workspace through the real app on the real store: the same planner,
permissions and notifications as engineer mail, the version check, CSRF, the form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.builders import claim
from tests.e2e.support import text_of
from tests.fixtures.smtp_sink import SmtpSink
from tests.web.staff_support import Desk, desk
from ticketd.mail.message import RawMessage, Source
from ticketd.store.workspace import SqlStaffReader


@pytest.fixture
def d(tmp_path: Path, smtp_sink: SmtpSink) -> Iterator[Desk]:
    with desk(tmp_path, stored=True, sink=smtp_sink) as opened:
        yield opened


def receive(
    d: Desk,
    sender: str = "kim@acme.co.kr",
    subject: str = "결제 오류",
    body: str = "결제가 되지 않습니다.",
) -> str:
    """A customer's mail through the real pipeline; the tracking number of its ticket."""
    data = claim(subject=subject, body=body, sender=sender)
    d.components.ingestor.enqueue(RawMessage(data, Source.SMTP, datetime.now(UTC)))
    d.components.ingestor.process_pending()
    return latest(d)["tracking"]


def latest(d: Desk, tracking: str | None = None) -> dict[str, object]:
    """The ticket as the staff reader has it (``tracking`` None: the newest ticket)."""
    reader = SqlStaffReader(d.components.store.engine, d.components.config.engineers)
    if tracking is None:
        with d.components.store.engine.connect() as connection:
            tracking = connection.exec_driver_sql(
                "SELECT tracking FROM tickets ORDER BY id DESC LIMIT 1"
            ).scalar_one()
    ticket = reader.ticket(tracking, datetime.now(UTC))
    assert ticket is not None
    return {"tracking": tracking, "version": ticket.version, "ticket": ticket}


def version(d: Desk, tracking: str) -> int:
    return int(latest(d, tracking)["version"])  # type: ignore[call-overload]


def events(d: Desk, tracking: str) -> list[tuple[str, str]]:
    ticket = latest(d, tracking)["ticket"]
    return [(e.kind, e.actor) for e in ticket.events]  # type: ignore[attr-defined]


def mail_to(sink: SmtpSink, d: Desk, address: str) -> list[EmailMessage]:
    d.flush()
    return [m for m in sink.messages() if address in str(m["To"])]


def act(d: Desk, tracking: str, body: object, csrf: str | None, **headers: str):  # type: ignore[no-untyped-def]
    if csrf is not None:
        headers["X-CSRF-Token"] = csrf
    return d.client.post(f"/staff/api/tickets/{tracking}/actions", json=body, headers=headers)


def test_assign_priority_and_reply_are_applied_as_the_engineer_and_mailed(
    d: Desk, smtp_sink: SmtpSink
) -> None:
    tracking = receive(d)
    csrf = d.sign_in("bob@example.com")
    body = {
        "commands": ["#assign alice@example.com", "#priority high"],
        "text": "확인해 보겠습니다. 잠시만 기다려 주세요.",
        "version": version(d, tracking),
    }
    answer = act(d, tracking, body, csrf)
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["refused"] == []
    assert "#assign alice@example.com" in result["done"]
    assert result["version"] == version(d, tracking)
    recorded = events(d, tracking)
    for kind in ("assigned", "priority_changed", "reply_sent"):
        assert (kind, "bob@example.com") in recorded
    assert [m for m in mail_to(smtp_sink, d, "alice@example.com") if tracking in m["Subject"]]
    [reply] = [m for m in mail_to(smtp_sink, d, "kim@acme.co.kr") if "확인해" in text_of(m)]
    assert tracking in reply["Subject"]
    assert not [m for m in mail_to(smtp_sink, d, "bob@example.com") if tracking in m["Subject"]]


def test_a_note_stays_internal_and_refused_lines_say_why(d: Desk, smtp_sink: SmtpSink) -> None:
    tracking = receive(d)
    before = len(mail_to(smtp_sink, d, "kim@acme.co.kr"))
    csrf = d.sign_in("bob@example.com")
    body = {
        "commands": ["#note", "#priority sky-high", "please call the customer"],
        "text": "내부 메모: 결제 대행사 장애",
        "version": version(d, tracking),
    }
    result = act(d, tracking, body, csrf).json()
    assert "(내부 메모를 기록했습니다)" in result["done"]
    refused = "\n".join(result["refused"])
    assert "#priority sky-high  -- 거부: 'sky-high'는 알 수 없는 우선순위입니다" in refused
    assert "please call the customer  -- 거부: 명령 줄이 아닙니다" in refused
    assert ("note", "bob@example.com") in events(d, tracking)
    assert len(mail_to(smtp_sink, d, "kim@acme.co.kr")) == before
    shown = latest(d, tracking)["ticket"].events  # type: ignore[attr-defined]
    assert [e.public for e in shown if e.kind == "note"] == [False]
    assert "결제 대행사" not in d.client.get(f"/t/{tracking}").text


def test_an_agent_on_anothers_ticket_gets_403_with_the_mail_paths_words(d: Desk) -> None:
    tracking = receive(d, sender="lee@bigcorp.co.kr")
    assert latest(d, tracking)["ticket"].row.owner == "bob@example.com"  # type: ignore[attr-defined]
    csrf = d.sign_in("alice@example.com")
    body = {"commands": ["#priority urgent"], "text": "hello", "version": version(d, tracking)}
    answer = act(d, tracking, body, csrf)
    assert answer.status_code == 403
    reason = "이 티켓의 담당은 bob@example.com입니다. 에이전트는 자기 티켓에만 명령할 수 있습니다"
    assert answer.json()["error"] == reason
    english = d.client.post(
        f"/staff/api/tickets/{tracking}/actions?lang=en", json=body, headers={"X-CSRF-Token": csrf}
    )
    reason = "the ticket belongs to bob@example.com; agents act only on their own tickets"
    assert english.status_code == 403 and english.json()["error"] == reason
    assert ("priority_changed", "alice@example.com") not in events(d, tracking)


EVERY_ACTION = [
    ([], "답변드립니다."),
    (["#assign alice@example.com"], ""),
    (["#status resolved"], ""),
    (["#priority high"], ""),
    (["#type bug"], ""),
    (["#time 30m"], ""),
    (["#cc add park@acme.co.kr"], ""),
    (["#merge OTHER"], ""),
]


@pytest.mark.parametrize(("commands", "text"), EVERY_ACTION)
def test_agents_act_only_on_their_own_tickets_and_managers_on_any(
    d: Desk, commands: list[str], text: str
) -> None:
    other = receive(d, sender="choi@acme.co.kr", subject="다른 문의")
    bobs = receive(d, sender="lee@bigcorp.co.kr")
    alices = receive(d, sender="kim@acme.co.kr", subject="세 번째 문의")
    assert latest(d, alices)["ticket"].row.owner == "alice@example.com"  # type: ignore[attr-defined]
    lines = [line.replace("OTHER", other) for line in commands]
    agent = d.sign_in("alice@example.com")
    before = version(d, bobs)
    body = {"commands": lines, "text": text, "version": before}
    refused = act(d, bobs, body, agent)
    assert refused.status_code == 403 and "자기 티켓에만" in refused.json()["error"]
    assert version(d, bobs) == before
    d.client.post("/staff/logout", data={"csrf_token": agent})
    manager = d.sign_in("bob@example.com")
    body = {"commands": lines, "text": text, "version": version(d, alices)}
    done = act(d, alices, body, manager)
    assert done.status_code == 200 and done.json()["done"] and not done.json()["refused"]
    assert version(d, alices) > body["version"]  # type: ignore[operator]


def test_a_bearer_token_acts_and_a_manager_may_act_on_any_ticket(
    d: Desk, capsys: pytest.CaptureFixture[str]
) -> None:
    tracking = receive(d)
    d.client.post(f"/staff/api/tickets/{tracking}/actions")  # warm nothing
    code, out, err = d.ws.cli(capsys, "token", "create", "bob@example.com")
    assert code == 0, err
    token = out.strip().split()[-1]
    body = {"commands": ["#status pending"], "text": "", "version": version(d, tracking)}
    answer = act(d, tracking, body, None, Authorization=f"Bearer {token}")
    assert answer.status_code == 200, answer.text
    assert ("status_changed", "bob@example.com") in events(d, tracking)


def test_a_stale_version_is_409_with_the_newer_events_and_nothing_applied(d: Desk) -> None:
    tracking = receive(d)
    csrf = d.sign_in("bob@example.com")
    seen = version(d, tracking)
    assert receive(d, subject=f"Re: [{tracking}] 결제 오류", body="아직도 안 됩니다!") == tracking
    body = {"commands": ["#priority low"], "text": "해결되었습니다", "version": seen}
    before = events(d, tracking)
    answer = act(d, tracking, body, csrf)
    assert answer.status_code == 409
    conflict = answer.json()
    assert conflict["version"] == version(d, tracking) != seen
    assert any(e["text"] and "아직도" in e["text"] for e in conflict["events"])
    assert all(e["id"] > seen for e in conflict["events"])
    assert events(d, tracking) == before


@pytest.mark.parametrize("csrf", [None, "", "forged"])
def test_without_the_csrf_header_nothing_changes(d: Desk, csrf: str | None) -> None:
    tracking = receive(d)
    d.sign_in("bob@example.com")
    before = events(d, tracking)
    body = {"commands": ["#priority low"], "text": "", "version": version(d, tracking)}
    assert act(d, tracking, body, csrf).status_code == 403
    assert events(d, tracking) == before


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        {"commands": "#take", "version": 1},
        {"commands": [], "text": 3, "version": 1},
        {"commands": [], "version": "1"},
        {"commands": ["#take"] * 51, "version": 1},
        {"commands": [], "text": "가" * 40_000, "version": 1},
    ],
)
def test_malformed_bodies_are_400(d: Desk, body: object) -> None:
    tracking = receive(d)
    csrf = d.sign_in("bob@example.com")
    if isinstance(body, str):
        answer = d.client.post(
            f"/staff/api/tickets/{tracking}/actions",
            content=body,
            headers={"X-CSRF-Token": csrf},
        )
    else:
        answer = act(d, tracking, body, csrf)
    assert answer.status_code == 400


def test_an_unknown_ticket_is_404(d: Desk) -> None:
    csrf = d.sign_in("bob@example.com")
    assert act(d, "SUP-0000-0000", {"version": 0}, csrf).status_code == 404


def test_the_form_replies_with_a_file_that_reaches_the_customer(
    d: Desk, smtp_sink: SmtpSink
) -> None:
    tracking = receive(d)
    csrf = d.sign_in("bob@example.com")
    form = {
        "csrf_token": csrf,
        "version": str(version(d, tracking)),
        "commands": "#priority high",
        "text": "설명서를 첨부합니다.",
        "mode": "reply",
    }
    files = {"files": ("안내.pdf", b"%PDF-1.4 manual", "application/pdf")}
    answer = d.client.post(f"/staff/t/{tracking}/act", data=form, files=files)
    assert answer.status_code == 303
    location = answer.headers["location"]
    assert location.startswith(f"/staff/t/{tracking}?") and "done=" in location
    [reply] = [m for m in mail_to(smtp_sink, d, "kim@acme.co.kr") if "설명서" in text_of(m)]
    [part] = list(reply.iter_attachments())
    assert part.get_content() == b"%PDF-1.4 manual"


def test_the_form_keeps_the_draft_on_a_conflict_and_refuses_without_csrf(d: Desk) -> None:
    tracking = receive(d)
    csrf = d.sign_in("bob@example.com")
    seen = version(d, tracking)
    d.client.post(
        f"/staff/api/tickets/{tracking}/actions",
        json={"commands": ["#note"], "text": "동료의 메모 <b>", "version": seen},
        headers={"X-CSRF-Token": csrf},
    )
    form = {"version": str(seen), "commands": "#priority high", "text": "제 초안 <script>"}
    before = events(d, tracking)
    refused = d.client.post(f"/staff/t/{tracking}/act", data=form)
    assert refused.status_code == 403 and events(d, tracking) == before
    answer = d.client.post(f"/staff/t/{tracking}/act", data={**form, "csrf_token": csrf})
    assert answer.status_code == 409
    assert "제 초안 &lt;script&gt;" in answer.text and "동료의 메모 &lt;b&gt;" in answer.text
    current = re.search(r'name="version" value="(\d+)"', answer.text)
    assert current and int(current.group(1)) == version(d, tracking)
    assert events(d, tracking) == before
