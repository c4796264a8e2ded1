"""A killed daemon leaves no process behind: its parse worker follows it within a second."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.builders import claim
from tests.e2e.support import Workspace, running, write_config
from tests.fixtures.dovecot import DovecotServer

pytestmark = pytest.mark.dovecot


def children(pid: int) -> set[int]:
    """Every process whose parent is ``pid`` (read from /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rpartition(")")[2].split()[1]) == pid:
            found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def imap_workspace(root: Path, server: DovecotServer) -> Workspace:
    ws = write_config(
        root,
        mailbox_section=f"""
[mailbox]
address = "support@example.com"
host = "{server.host}"
port = {server.port}
security = "none"
username = "{server.user}"
password = "{server.password}"
poll_interval = 1
""",
        extra="[ingest]\nparse_workers = 1\n",
    )
    return ws


def test_sigkill_of_the_daemon_takes_its_parse_worker_along(
    tmp_path: Path, dovecot: DovecotServer
) -> None:
    dovecot.deliver_many(
        claim(subject=f"Claim {i}", body=f"Problem {i}", sender=f"c{i}@acme.co.kr")
        for i in range(120)
    )
    ws = imap_workspace(tmp_path, dovecot)
    with running(ws) as daemon:
        deadline = time.monotonic() + 60
        workers: set[int] = set()
        while time.monotonic() < deadline and not workers:
            workers = {
                pid
                for pid in children(daemon.pid)
                if b"multiprocessing" in Path(f"/proc/{pid}/cmdline").read_bytes()
            }
            time.sleep(0.2)
        assert workers, "the daemon never started a parse worker"
        os.kill(daemon.pid, signal.SIGKILL)
        daemon.wait(timeout=10)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(alive(pid) for pid in workers):
            time.sleep(0.1)
        survivors = [pid for pid in workers if alive(pid)]
        for pid in survivors:
            os.kill(pid, signal.SIGKILL)
        assert survivors == []
