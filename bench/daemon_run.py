"""A ``ticketd run`` daemon under a benchmark: start it, watch how far its mailbox is, read
its peak RSS, stop it."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from bench.ingest import BenchError, ticketd_argv


def vmhwm_mib(pid: int) -> float:
    """The process's peak resident set (``VmHWM``; it starts afresh at exec) in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def mailbox_last_uid(database: Path) -> int:
    """The last UID the daemon committed for its mailbox (0 before the first batch)."""
    uri = f"file:{database}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=30)) as db:
        try:
            row = db.execute("SELECT max(last_uid) FROM mailbox_state").fetchone()
        except sqlite3.OperationalError:  # not created yet
            return 0
    return int(row[0] or 0)


def wait_until(done: Callable[[], bool], timeout: float, what: str, step: float = 0.1) -> float:
    """Poll ``done`` until it holds; the seconds that took. ``BenchError`` after ``timeout``."""
    started = time.monotonic()
    while not done():
        if time.monotonic() - started > timeout:
            raise BenchError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(step)
    return time.monotonic() - started


@contextlib.contextmanager
def running_daemon(config: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``ticketd run`` on an initialised database, its output in ``daemon.log`` next to the
    config; stopped with SIGTERM at the end. ``BenchError`` if it exits by itself."""
    log = config.parent / "daemon.log"
    with log.open("ab") as out:
        daemon = subprocess.Popen(ticketd_argv(config, "run"), stdout=out, stderr=out)
    try:
        yield daemon
        if daemon.poll() is not None:
            raise BenchError(f"ticketd run exited {daemon.returncode}; see {log}")
    finally:
        daemon.terminate()
        try:
            daemon.wait(30)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
