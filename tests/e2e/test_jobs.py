"""Scheduled work through ``run --once`` on the wall clock: SLA reminder, breach, auto-close."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from tests.builders import claim
from tests.e2e.support import Workspace, write_config, write_mbox
from ticketd.store.db import make_engine
from ticketd.store.schema import tickets

Capsys = pytest.CaptureFixture[str]


def age(ws: Workspace, **values: object) -> None:
    engine = make_engine(ws.database_url)
    with engine.begin() as connection:
        connection.execute(update(tickets).values(**values))
    engine.dispose()


def created(ws: Workspace, hours_ago: float) -> None:
    """Move the tickets' creation, and their stored round-the-clock 24 h clock, back."""
    at = datetime.now(UTC) - timedelta(hours=hours_ago)
    age(ws, created_at=at, first_response_remind_at=at + timedelta(hours=18),
        first_response_due_at=at + timedelta(hours=24))  # fmt: skip


def subjects_to(ws: Workspace, address: str) -> list[str]:
    return [m["Subject"] for m in ws.sent_mail() if address in str(m["To"])]


@pytest.fixture
def ws(tmp_path: Path, capsys: Capsys) -> Workspace:
    ws = write_config(tmp_path)
    ws.cli(capsys, "import", str(write_mbox(tmp_path / "a.mbox", [claim()])))
    ws.cli(capsys, "run", "--once")
    return ws


def test_reminder_at_75_percent_and_breach_at_100_percent_once(
    ws: Workspace, capsys: Capsys
) -> None:
    [ticket] = ws.cli_json(capsys, "ticket", "list")
    owner = ticket["owner"]
    created(ws, 19)
    ws.cli(capsys, "run", "--once")
    ws.cli(capsys, "run", "--once")
    assert len([s for s in subjects_to(ws, owner) if "기한 임박" in s]) == 1
    created(ws, 25)
    ws.cli(capsys, "run", "--once")
    ws.cli(capsys, "run", "--once")
    shown = ws.cli_json(capsys, "ticket", "show", ticket["tracking"])
    assert [e["type"] for e in shown["events"]].count("sla_breached") == 1
    assert len([s for s in subjects_to(ws, "bob@example.com") if "SLA" in s]) == 1
    if owner != "bob@example.com":
        assert len([s for s in subjects_to(ws, owner) if "SLA" in s]) == 1


def test_public_reply_stops_the_clock(ws: Workspace, capsys: Capsys) -> None:
    age(ws, created_at=datetime.now(UTC) - timedelta(hours=30), first_response_at=datetime.now(UTC))
    ws.cli(capsys, "run", "--once")
    [ticket] = ws.cli_json(capsys, "ticket", "list")
    shown = ws.cli_json(capsys, "ticket", "show", ticket["tracking"])
    assert "sla_breached" not in [e["type"] for e in shown["events"]]


def test_resolved_ticket_auto_closes_and_the_customer_is_told_once(
    ws: Workspace, capsys: Capsys
) -> None:
    week_ago = datetime.now(UTC) - timedelta(days=8)
    age(ws, status="resolved", resolved_at=week_ago, last_customer_at=week_ago,
        first_response_at=week_ago)  # fmt: skip
    ws.cli(capsys, "run", "--once")
    ws.cli(capsys, "run", "--once")
    [ticket] = ws.cli_json(capsys, "ticket", "list")
    assert ticket["status"] == "closed"
    assert len([s for s in subjects_to(ws, "kim@acme.co.kr") if "Closed" in s]) == 1


def test_a_backlog_is_worked_off_in_bounded_chunks_and_stops_on_request(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ticketd.daemon import once, scheduler
    from ticketd.daemon.config import load_config
    from ticketd.daemon.wiring import build

    ws = write_config(tmp_path)
    claims = [claim(subject=f"Old {i}", body=f"old problem {i}", sender=f"c{i}@acme.co.kr")
              for i in range(5)]  # fmt: skip
    ws.cli(capsys, "import", "--no-notify", str(write_mbox(tmp_path / "o.mbox", claims)))
    created(ws, 30)
    monkeypatch.setattr(scheduler, "JOB_CHUNK", 2)
    components = build(load_config(ws.config))
    calls = itertools.chain([False], itertools.repeat(True))
    stopped = once.jobs(components, stop=lambda: next(calls))
    assert stopped.breaches == 2
    rest = once.jobs(components)
    components.close()
    assert rest.breaches == 3
    again = build(load_config(ws.config))
    assert once.jobs(again).breaches == 0
    again.close()
