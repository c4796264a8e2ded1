"""``ticketd run`` through failures: no message stops the mailbox, a worker that dies comes
back, an outage shows on ``/healthz`` while it lasts, and the relay's return is noticed."""

from __future__ import annotations

import json
import smtplib
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.builders import claim
from tests.e2e.support import Workspace, write_config
from tests.e2e.test_imap_once import utf8_claim
from tests.fixtures.dovecot import DovecotServer
from tests.fixtures.postgres import PostgresServer, start_postgres
from tests.fixtures.smtp_sink import SmtpSink
from tests.netutil import free_port, wait_for_port

pytestmark = pytest.mark.slow


def mailbox_section(server: DovecotServer) -> str:
    return (
        f'[mailbox]\naddress = "support@example.com"\nhost = "{server.host}"\n'
        f'port = {server.port}\nsecurity = "none"\nusername = "{server.user}"\n'
        f'password = "{server.password}"\npoll_interval = 1\n'
    )


@contextmanager
def running(ws: Workspace) -> Iterator[int]:
    """``ticketd run`` on the workspace; yields its web port."""
    web_port = free_port()
    text = ws.config.read_text().replace("127.0.0.1:0", f"127.0.0.1:{web_port}")
    ws.config.write_text(text)
    process = subprocess.Popen(
        ["ticketd", "--config", str(ws.config), "run"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_port(web_port)
        yield web_port
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        if process.stderr is not None:
            process.stderr.close()


def healthz(port: int) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def eventually(check: Callable[[], object], timeout: float = 30) -> Any:
    """The first truthy result of ``check``, polled until ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout} s")


def healthz_when(port: int, status: int, timeout: float = 30) -> dict[str, Any]:
    """The ``/healthz`` body, once it answers ``status``."""
    found: tuple[int, dict[str, Any]] = eventually(
        lambda: (answer := healthz(port))[0] == status and answer, timeout
    )
    return found[1]


def subjects(ws: Workspace) -> list[str]:
    result = ws.subprocess("ticket", "list", "--json")
    assert result.returncode == 0, result.stderr
    return sorted(t["subject"] for t in json.loads(result.stdout))


@pytest.mark.dovecot
def test_a_utf8_message_id_does_not_stop_the_mailbox_watcher(
    tmp_path: Path, dovecot: DovecotServer
) -> None:
    ws = write_config(tmp_path, mailbox_section=mailbox_section(dovecot))
    with running(ws) as port:
        dovecot.deliver(utf8_claim("메시지.1@acme.co.kr", "UTF-8 id"))
        eventually(lambda: subjects(ws) == ["UTF-8 id"])
        dovecot.deliver(claim(subject="Behind it", body="the next customer"))
        eventually(lambda: subjects(ws) == ["Behind it", "UTF-8 id"])
        status, body = healthz(port)
        assert status == 200 and body["workers"]["imap"]["restarts"] == 0


@pytest.mark.dovecot
def test_a_mailbox_outage_shows_on_healthz_and_ingestion_resumes(
    tmp_path: Path, dovecot: DovecotServer
) -> None:
    ws = write_config(tmp_path, mailbox_section=mailbox_section(dovecot))
    with running(ws) as port:
        eventually(lambda: (healthz(port)[1].get("watcher") or {}).get("connected"))
        dovecot.stop_process()
        body = healthz_when(port, 503)
        assert body["status"] == "degraded"
        assert any(p.startswith("mailbox unreachable") for p in body["problems"])
        dovecot.start_process()
        dovecot.deliver(claim(subject="After the outage", body="still there?"))
        eventually(lambda: subjects(ws) == ["After the outage"], timeout=60)
        body = healthz_when(port, 200)
        assert body["problems"] == [] and body["watcher"]["connected"]


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server of this test's own, to stop and start again."""
    pytest.importorskip("psycopg")
    try:
        server = start_postgres()
    except FileNotFoundError:
        pytest.skip("PostgreSQL is not installed")
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.dovecot
@pytest.mark.postgres
def test_a_watcher_killed_by_a_database_restart_is_restarted(
    tmp_path: Path, dovecot: DovecotServer, own_postgres: PostgresServer
) -> None:
    """The poller's lock ends with its session when the database restarts: the watcher
    cannot store meanwhile, the process stops polling (or the watcher's loop raises and is
    restarted with backoff), is elected again once the database is back, and picks the mail
    up."""
    url = own_postgres.create_database("recovery")
    ws = write_config(tmp_path, mailbox_section=mailbox_section(dovecot))
    ws.config.write_text(ws.config.read_text().replace(ws.database_url, url))
    assert ws.subprocess("init").returncode == 0
    with running(ws) as port:
        dovecot.deliver(claim(subject="Before", body="first"))
        eventually(lambda: subjects(ws) == ["Before"])
        own_postgres.stop_process()
        dovecot.deliver(claim(subject="During", body="while the database restarts"))
        time.sleep(3)
        own_postgres.start_process()
        eventually(lambda: subjects(ws) == ["Before", "During"], timeout=90)
        body = healthz_when(port, 200)
        assert body["role"] == "poller"
        assert body["workers"]["imap"]["running"] and body["problems"] == []


def test_mail_waiting_for_the_relay_goes_at_the_first_probe_after_it_returns(
    tmp_path: Path,
) -> None:
    sink = SmtpSink()
    smtp_port = free_port()
    ws = write_config(
        tmp_path,
        listener=f'[smtp_listener]\nlisten = "127.0.0.1:{smtp_port}"\n',
        relay_port=sink.port,
    )
    ws.config.write_text(
        ws.config.read_text().replace("timeout = 5", "timeout = 5\nretry_seconds = 2")
    )
    with running(ws) as port:
        wait_for_port(smtp_port)
        for i in range(3):
            with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as client:
                client.sendmail(
                    f"c{i}@acme.co.kr",
                    ["support@example.com"],
                    claim(subject=f"Claim {i}", sender=f"c{i}@acme.co.kr"),
                )
        status, body = eventually(
            lambda: (
                (answer := healthz(port))[1].get("outbox_backlog") == 6
                and not answer[1]["relay"]["reachable"]
                and answer
            )
        )
        assert status == 503 and any("relay" in p for p in body["problems"])
        sink.start()
        try:
            eventually(lambda: len(sink.received) == 6, timeout=15)
            body = healthz_when(port, 200)
        finally:
            sink.stop()
        assert body["relay"]["reachable"] and body["outbox_backlog"] == 0
