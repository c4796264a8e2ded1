"""The running daemon on a moved clock (libfaketime): a claim on Friday evening in Seoul
is reminded on Monday morning and breached at Monday noon, four business hours later,
each once, across restarts."""

from __future__ import annotations

import glob
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.builders import claim
from tests.e2e.support import Workspace, listening_config, running, write_mbox
from tests.e2e.test_daemon_recovery import eventually

WORKDAYS = ", ".join(f'{day} = "09:00-18:00"' for day in ("mon", "tue", "wed", "thu", "fri"))
BUSINESS = f'business_hours = {{ {WORKDAYS}, sat = "", sun = "" }}\nholidays = "KR"\n'
FRIDAY_EVENING = "@2027-01-08 08:00:00"  # 17:00 in Seoul
SPEED = 60
"""The daemon's clock runs this much faster: its 5-minute job interval takes 5 s."""
MONDAY_1115 = "@2027-01-11 02:15:00"  # reminder due at 11:00 (75 % of 4 business hours)
MONDAY_1215 = "@2027-01-11 03:15:00"  # breach due at 12:00
TUESDAY = "@2027-01-12 03:15:00"

LIBFAKETIME = next(iter(glob.glob("/usr/lib/*/faketime/libfaketimeMT.so.1")), None)
pytestmark = pytest.mark.skipif(LIBFAKETIME is None, reason="needs Debian faketime")


def faked(at: str, speed: int = 1) -> list[str]:
    """The command prefix running a program on libfaketime's clock, in its own process
    (so that its signals and its exit are the program's own, as with ``faketime``)."""
    return ["env", f"LD_PRELOAD={LIBFAKETIME}", f"FAKETIME={at} x{speed}"]


def count(ws: Workspace, address: str, words: str) -> int:
    return len([m for m in ws.sent_mail() if address in str(m["To"]) and words in m["Subject"]])


def daemon_at(ws: Workspace, at: str, ports: tuple[int, int], until: Callable[[], object]) -> None:
    """``ticketd run`` from ``at`` on until ``until()`` holds and two more job intervals
    have passed (time to repeat anything), then SIGTERM."""
    with running(ws, *ports, under=faked(at, SPEED)) as process:
        eventually(until)
        time.sleep(2 * 300 / SPEED)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0


def test_reminder_then_breach_fire_once_in_business_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "UTC")  # the faked instants below are UTC
    ws, smtp_port, web_port = listening_config(tmp_path)
    text = ws.config.read_text().replace("first_response_hours = 24", "first_response_hours = 4")
    ws.config.write_text(text + BUSINESS)
    mbox = write_mbox(tmp_path / "claim.mbox", [claim()])
    command = [*faked(FRIDAY_EVENING), "ticketd", "--config", str(ws.config), "import", str(mbox)]
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    ports = (smtp_port, web_port)

    daemon_at(ws, MONDAY_1115, ports, lambda: count(ws, "alice@example.com", "기한 임박"))
    assert count(ws, "bob@example.com", "SLA") == 0
    daemon_at(ws, MONDAY_1215, ports, lambda: count(ws, "bob@example.com", "SLA"))
    log = tmp_path / "daemon.log"
    daemon_at(ws, TUESDAY, ports, lambda: "elected as the poller" in log.read_text())

    assert count(ws, "alice@example.com", "기한 임박") == 1
    assert count(ws, "alice@example.com", "SLA") == 1
    assert count(ws, "bob@example.com", "SLA") == 1
