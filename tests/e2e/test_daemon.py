"""``ticketd run`` as a user starts it: SMTP listener in, web out, clean stop on SIGTERM."""

from __future__ import annotations

import json
import signal
import smtplib
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.builders import claim
from tests.e2e.support import Workspace, listening_config, running, write_config
from tests.netutil import free_port, wait_for_port
from ticketd.daemon.config import load_config
from ticketd.daemon.wiring import build
from ticketd.mail.message import RawMessage, Source
from ticketd.store.db import make_engine
from ticketd.store.schema import inbound

pytestmark = pytest.mark.slow


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[tuple[Workspace, int, int, subprocess.Popen[str]]]:
    ws, smtp_port, web_port = listening_config(tmp_path)
    with running(ws, smtp_port, web_port) as process:
        yield ws, smtp_port, web_port, process


def tickets(ws: Workspace) -> list[dict[str, object]]:
    result = ws.subprocess("ticket", "list", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_mail_to_the_listener_becomes_a_ticket_and_sigterm_stops_cleanly(daemon) -> None:  # type: ignore[no-untyped-def]
    ws, smtp_port, web_port, process = daemon
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as client:
        client.sendmail("kim@acme.co.kr", ["support@example.com"], claim())
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            client.sendmail("kim@acme.co.kr", ["someone@elsewhere.org"], claim())
    deadline = time.monotonic() + 20
    while not tickets(ws) and time.monotonic() < deadline:
        time.sleep(0.3)
    [ticket] = tickets(ws)
    while not list((ws.outbox / "new").glob("*")) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert len(list((ws.outbox / "new").glob("*"))) == 2
    with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/healthz", timeout=5) as response:
        assert json.loads(response.read())["status"] == "ok"
    with urllib.request.urlopen(
        f"http://127.0.0.1:{web_port}/t/{ticket['tracking']}", timeout=5
    ) as response:
        page = response.read().decode()
    assert "kim@acme.co.kr" not in page
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0
    assert time.monotonic() - started < 10


@pytest.mark.dovecot
def test_daemon_watches_the_mailbox_with_idle(tmp_path: Path, dovecot) -> None:  # type: ignore[no-untyped-def]
    web_port = free_port()
    ws = write_config(
        tmp_path,
        mailbox_section=(
            f'[mailbox]\naddress = "support@example.com"\nhost = "{dovecot.host}"\n'
            f'port = {dovecot.port}\nsecurity = "none"\nusername = "{dovecot.user}"\n'
            f'password = "{dovecot.password}"\npoll_interval = 60\n'
        ),
    )
    ws.config.write_text(
        ws.config.read_text().replace('listen = "127.0.0.1:0"', f'listen = "127.0.0.1:{web_port}"')
    )
    process = subprocess.Popen(
        ["ticketd", "--config", str(ws.config), "run"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for_port(web_port)
        time.sleep(1)
        dovecot.deliver(claim(subject="IDLE claim", body="arrives while the daemon waits"))
        deadline = time.monotonic() + 15
        while not tickets(ws) and time.monotonic() < deadline:
            time.sleep(0.3)
        assert [t["subject"] for t in tickets(ws)] == ["IDLE claim"]
        with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/healthz", timeout=5) as resp:
            health = json.loads(resp.read())
        assert health["watcher"]["connected"] and health["watcher"]["idle"]
        assert health["mailbox"][0]["last_uid"] == 1
        with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/metrics", timeout=5) as resp:
            metrics = resp.read().decode()
        assert "ticketd_poll_latency_seconds" in metrics
        assert "ticketd_poll_duration_seconds_count" in metrics
        assert "ticketd_tickets_created_total 1.0" in metrics
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def test_sigkill_in_the_middle_of_a_batch_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    ws = write_config(tmp_path)
    components = build(load_config(ws.config))
    count = 400
    for i in range(count):
        mail = claim(subject=f"Claim {i}", body=f"Problem number {i}", sender=f"c{i}@acme.co.kr")
        components.ingestor.enqueue(RawMessage(mail, Source.SMTP, datetime.now(UTC)))
    working = select(func.count()).where(inbound.c.state == "processing")
    components.close()
    watcher = make_engine(ws.database_url, read_only=True)
    runner = subprocess.Popen(["ticketd", "--config", str(ws.config), "run", "--once"])
    with watcher.connect() as connection:
        deadline = time.monotonic() + 30
        while connection.execute(working).scalar() == 0 and time.monotonic() < deadline:
            connection.rollback()
        runner.send_signal(signal.SIGKILL)
        runner.wait(timeout=10)
        connection.rollback()
        assert connection.execute(working).scalar() > 0
    watcher.dispose()
    rerun = ws.subprocess("run", "--once", timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    listed = tickets(ws)
    assert sorted(str(t["subject"]) for t in listed) == sorted(f"Claim {i}" for i in range(count))
    assert json.loads(ws.subprocess("quarantine", "list", "--json").stdout) == []
    acks: dict[str, int] = {}
    for path in (ws.outbox / "new").iterdir():
        recipient = next(
            line for line in path.read_text(errors="replace").splitlines()
            if line.startswith("To: ")
        )  # fmt: skip
        acks[recipient] = acks.get(recipient, 0) + 1
    customers = {r: n for r, n in acks.items() if "acme.co.kr" in r}
    assert len(customers) == count and set(customers.values()) == {1}
