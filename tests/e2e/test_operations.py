"""``ticketd run`` as systemd and a reverse proxy see it: sd_notify datagrams on a socket
the test binds, and forwarded headers believed only from trusted proxies."""

from __future__ import annotations

import os
import shutil
import signal
import smtplib
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.builders import claim
from tests.e2e.support import SUPPORT, Workspace, write_config
from tests.netutil import free_port, wait_for_port

SECRET_LINE = 'secret_key = "test-secret-key-0123456789"'
UNIT = Path(__file__).resolve().parents[2] / "contrib" / "ticketd.service"


def web_config(root: Path, web: str, listener: str = "") -> tuple[Workspace, int]:
    port = free_port()
    ws = write_config(root, listener=listener)
    text = ws.config.read_text().replace('listen = "127.0.0.1:0"', f'listen = "127.0.0.1:{port}"')
    ws.config.write_text(text.replace(SECRET_LINE, f"{SECRET_LINE}\n{web}"))
    return ws, port


def status(port: int, path: str, forwarded_for: str | None = None) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if forwarded_for is not None:
        request.add_header("X-Forwarded-For", forwarded_for)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def start(ws: Workspace, port: int, env: dict[str, str]) -> subprocess.Popen[str]:
    command = ["ticketd", "--config", str(ws.config), "run"]
    with (ws.root / "daemon.log").open("w") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, text=True, env=env
        )
    wait_for_port(port)
    return process


def metric(port: int, name: str) -> float:
    """One sample's value from ``/metrics`` (0 when absent), parsed by prometheus_client."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                return float(sample.value)
    return 0.0


def stop(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()


def test_sd_notify_and_spoofed_forwarded_for_from_loopback(tmp_path: Path) -> None:
    smtp_port = free_port()
    listener_section = f'[smtp_listener]\nlisten = "127.0.0.1:{smtp_port}"\n'
    web = "rate_limit_per_minute = 10"  # and the default event loop: uvloop
    ws, port = web_config(tmp_path, web, listener_section)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(f"\0ticketd-test-{os.getpid()}-{port}")
    listener.settimeout(30)
    env = {
        **os.environ,
        "NOTIFY_SOCKET": f"@ticketd-test-{os.getpid()}-{port}",
        "WATCHDOG_USEC": "1000000",
    }
    process = start(ws, port, env)
    try:
        messages = []
        while "READY=1" not in messages:
            messages += listener.recv(4096).decode().splitlines()
        assert any(m.startswith("STATUS=") for m in messages)
        while "WATCHDOG=1" not in messages:
            messages += listener.recv(4096).decode().splitlines()
        assert status(port, "/livez") == 200 and status(port, "/readyz") == 200
        answers = [status(port, "/t/SUP-0000-0000", f"198.51.100.{i}") for i in range(20)]
        assert answers.count(429) == 10, answers
        log = (ws.root / "daemon.log").read_text()
        assert "INFO ticketd.daemon.web_server: web server: loop=uvloop http=httptools" in log
        wait_for_port(smtp_port)
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as client:
            client.sendmail("kim@acme.co.kr", [SUPPORT], claim())
        deadline = time.monotonic() + 20
        lag = "ticketd_mail_arrival_to_ticket_seconds_count"
        age = "ticketd_outbox_age_at_send_seconds_count"
        while not (metric(port, lag) and metric(port, age)) and time.monotonic() < deadline:
            time.sleep(0.3)
        assert metric(port, lag) == 1 and metric(port, age) >= 1
        assert metric(port, "ticketd_tickets_created_total") == 1
        assert stop(process) == 0
        while "STOPPING=1" not in messages:
            messages += listener.recv(4096).decode().splitlines()
    finally:
        if process.poll() is None:
            process.kill()
        listener.close()


def test_a_trusted_proxy_names_the_client_that_is_limited(tmp_path: Path) -> None:
    web = 'rate_limit_per_minute = 3\ntrusted_proxies = ["127.0.0.1"]\nevent_loop = "asyncio"'
    ws, port = web_config(tmp_path, web)
    process = start(ws, port, {**os.environ})
    try:
        rotating = [status(port, "/t/SUP-0000-0000", f"198.51.100.{i}") for i in range(8)]
        assert 429 not in rotating
        one = [status(port, "/t/SUP-0000-0000", "203.0.113.9, 127.0.0.1") for _ in range(5)]
        assert one.count(429) == 2, one
        assert status(port, "/t/SUP-0000-0000", "203.0.113.10") != 429
        assert "web server: loop=asyncio http=httptools" in (ws.root / "daemon.log").read_text()
        assert stop(process) == 0
    finally:
        if process.poll() is None:
            process.kill()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_the_unit_file_verifies(tmp_path: Path) -> None:
    unit = tmp_path / "ticketd.service"
    unit.write_text(
        UNIT.read_text().replace("/usr/local/bin/ticketd", shutil.which("ticketd") or "/bin/true")
    )
    found = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    problems = [line for line in found.stderr.splitlines() if str(unit) in line]
    assert not problems, found.stderr
