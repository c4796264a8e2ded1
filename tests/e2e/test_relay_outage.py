"""The relay's outage is the relay's state: when it answers again, everything goes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.builders import claim
from tests.e2e.support import write_config, write_mbox
from tests.fixtures.smtp_sink import SmtpSink

Capsys = pytest.CaptureFixture[str]


def test_run_once_sends_every_pending_mail_as_soon_as_the_relay_is_back(
    tmp_path: Path, capsys: Capsys
) -> None:
    sink = SmtpSink()
    ws = write_config(tmp_path, relay_port=sink.port)
    claims = [claim(subject=f"Claim {i}", body=f"Problem {i}") for i in range(2)]
    assert ws.cli(capsys, "import", str(write_mbox(tmp_path / "in.mbox", claims)))[0] == 0
    code, out, _ = ws.cli(capsys, "run", "--once")
    assert code == 0 and "mail sent=0" in out and "relay unreachable" in out
    sink.start()
    try:
        code, out, _ = ws.cli(capsys, "run", "--once")
    finally:
        sink.stop()
    assert code == 0 and "mail sent=4" in out
    assert len({r.message["Message-ID"] for r in sink.received}) == 4
