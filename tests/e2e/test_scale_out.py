"""PostgreSQL scale-out: two ``ticketd run`` processes on one database, one elected poller;
when it stops, the other takes over. Both accept SMTP and serve pages."""

from __future__ import annotations

import json
import signal
import smtplib
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.builders import claim
from tests.e2e.support import Workspace, write_config
from tests.netutil import free_port, wait_for_port

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def instance(
    root: Path,
    url: str,
    relay_port: int | None = None,
    *,
    mailbox_section: str = "",
    relay_retry_seconds: float | None = None,
) -> tuple[Workspace, int, int, subprocess.Popen[str]]:
    """A ``ticketd run`` on ``url`` (sending through 127.0.0.1:``relay_port`` if given,
    watching the mailbox of ``mailbox_section`` if given): its workspace, SMTP and web
    ports, and process."""
    root.mkdir()
    smtp, web = free_port(), free_port()
    listener = f'[smtp_listener]\nlisten = "127.0.0.1:{smtp}"\n'
    ws = write_config(
        root,
        listener=listener,
        relay_port=relay_port,
        mailbox_section=mailbox_section,
        relay_retry_seconds=relay_retry_seconds,
    )
    text = ws.config.read_text()
    text = text.replace(f'url = "{ws.database_url}"', f'url = "{url}"')
    text = text.replace('listen = "127.0.0.1:0"', f'listen = "127.0.0.1:{web}"')
    ws.config.write_text(text)
    with (root / "stderr.log").open("w") as log:
        process = subprocess.Popen(
            ["ticketd", "--config", str(ws.config), "run"],
            stdout=subprocess.DEVNULL, stderr=log, text=True,
        )  # fmt: skip
    wait_for_port(smtp)
    wait_for_port(web)
    return ws, smtp, web, process


def role(web: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{web}/healthz", timeout=5) as response:
        return str(json.loads(response.read())["role"])


def send(port: int, subject: str) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.sendmail("kim@acme.co.kr", ["support@example.com"],
                        claim(subject=subject, body=f"body of {subject}"))  # fmt: skip


def tickets(ws: Workspace) -> list[dict[str, object]]:
    result = ws.subprocess("ticket", "list", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def wait_tickets(ws: Workspace, count: int) -> list[dict[str, object]]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = tickets(ws)
        if len(found) >= count:
            return found
        time.sleep(0.3)
    return tickets(ws)


def test_one_poller_and_failover(tmp_path: Path, postgres_url: str) -> None:
    first = instance(tmp_path / "a", postgres_url)
    time.sleep(1.5)
    second = instance(tmp_path / "b", postgres_url)
    processes = [first[3], second[3]]
    try:
        time.sleep(1.5)
        assert sorted([role(first[2]), role(second[2])]) == ["poller", "standby"]
        for index in range(6):
            send((first if index % 2 else second)[1], f"claim {index}")
        found = wait_tickets(first[0], 6)
        assert sorted(t["subject"] for t in found) == [f"claim {i}" for i in range(6)]
        poller, standby = (first, second) if role(first[2]) == "poller" else (second, first)
        poller[3].send_signal(signal.SIGTERM)
        assert poller[3].wait(timeout=10) == 0
        deadline = time.monotonic() + 20
        while role(standby[2]) != "poller" and time.monotonic() < deadline:
            time.sleep(0.5)
        assert role(standby[2]) == "poller"
        send(standby[1], "after failover")
        assert len(wait_tickets(standby[0], 7)) == 7
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            process.communicate(timeout=15)
