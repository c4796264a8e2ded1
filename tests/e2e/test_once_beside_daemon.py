"""``run --once`` beside a running daemon (on either database): refused with one line naming
the running poller, so no mail is processed or sent twice; once the daemon has stopped,
``run --once`` does the cycle."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from tests.e2e.support import write_config
from tests.e2e.test_scale_out import send
from tests.fixtures.smtp_sink import SmtpSink
from tests.netutil import free_port, wait_for_port


def test_run_once_is_refused_while_a_daemon_polls_the_database(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    port = free_port()
    listener = f'[smtp_listener]\nlisten = "127.0.0.1:{port}"\n'
    ws = write_config(tmp_path, listener=listener, relay_port=smtp_sink.port)
    daemon = subprocess.Popen(
        ["ticketd", "--config", str(ws.config), "run"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_port(port)
        send(port, "printer on fire")
        deadline = time.monotonic() + 20
        while not smtp_sink.messages() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1)
        delivered = len(smtp_sink.messages())
        assert delivered >= 1
        result = ws.subprocess("run", "--once")
        assert result.returncode == 1
        assert result.stderr.splitlines() == [result.stderr.strip()]
        assert result.stderr.startswith(f"error: ticketd run (pid {daemon.pid} on ")
        assert "is the poller for this database" in result.stderr
        assert len(smtp_sink.messages()) == delivered
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=15)
    result = ws.subprocess("run", "--once")
    assert result.returncode == 0, result.stderr
    assert len(smtp_sink.messages()) == delivered
