"""``ticketd run`` as systemd and a reverse proxy see it: sd_notify datagrams on a socket
the test binds, and forwarded headers believed only from trusted proxies."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.support import Workspace, write_config
from tests.netutil import free_port, wait_for_port

SECRET_LINE = 'secret_key = "test-secret-key-0123456789"'
UNIT = Path(__file__).resolve().parents[2] / "contrib" / "ticketd.service"


def web_config(root: Path, web: str) -> tuple[Workspace, int]:
    port = free_port()
    ws = write_config(root)
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


def stop(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()


def test_sd_notify_and_spoofed_forwarded_for_from_loopback(tmp_path: Path) -> None:
    ws, port = web_config(tmp_path, "rate_limit_per_minute = 10")
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
        assert "web server: loop=uvloop http=httptools" in (ws.root / "daemon.log").read_text()
        assert stop(process) == 0
        while "STOPPING=1" not in messages:
            messages += listener.recv(4096).decode().splitlines()
    finally:
        if process.poll() is None:
            process.kill()
        listener.close()


def test_a_trusted_proxy_names_the_client_that_is_limited(tmp_path: Path) -> None:
    ws, port = web_config(tmp_path, 'rate_limit_per_minute = 3\ntrusted_proxies = ["127.0.0.1"]')
    process = start(ws, port, {**os.environ})
    try:
        rotating = [status(port, "/t/SUP-0000-0000", f"198.51.100.{i}") for i in range(8)]
        assert 429 not in rotating
        one = [status(port, "/t/SUP-0000-0000", "203.0.113.9, 127.0.0.1") for _ in range(5)]
        assert one.count(429) == 2, one
        assert status(port, "/t/SUP-0000-0000", "203.0.113.10") != 429
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
