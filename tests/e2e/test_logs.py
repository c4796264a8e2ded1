"""Logs: JSON lines naming the ticket and message id, configured secrets never shown, the
level validated, and the start-up line listing where the daemon listens."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.builders import claim
from tests.e2e.support import listening_config, running, write_config, write_mbox

SECRET_KEY = "test-secret-key-0123456789"
RELAY_PASSWORD = "relay-password-Zq81"


def test_json_logs_name_ticket_and_message_and_never_show_secrets(tmp_path: Path) -> None:
    ws = write_config(tmp_path)
    text = ws.config.read_text()
    text = text.replace('timezone = "Asia/Seoul"', 'timezone = "Asia/Seoul"\nlog_format = "json"')
    text = text.replace('from = "Example', f'password = "{RELAY_PASSWORD}"\nfrom = "Example')
    ws.config.write_text(text)
    mail = claim(
        "Printer jammed",
        "Confidential body: the vault code is 4471.",
        message_id=f"<{SECRET_KEY}.{RELAY_PASSWORD}@acme.co.kr>",
    )
    mbox = write_mbox(tmp_path / "in.mbox", [mail])
    ran = ws.subprocess("--log-level", "info", "import", "--no-notify", str(mbox))
    assert ran.returncode == 0, ran.stderr
    once = ws.subprocess("run", "--once")
    assert once.returncode == 0 and once.stderr, once.stderr
    lines = [json.loads(line) for line in ran.stderr.splitlines()]
    assert lines and all({"ts", "level", "logger", "message"} <= set(line) for line in lines)
    assert all(line["level"] in ("debug", "info", "warning", "error") for line in lines)
    processed = [line for line in lines if line["message_id"]]
    assert processed and processed[0]["ticket"].startswith("SUP-")
    assert "[redacted]" in processed[0]["message_id"]
    for leak in (SECRET_KEY, RELAY_PASSWORD, "vault code", "4471"):
        assert leak not in ran.stderr + once.stderr


def test_bad_log_levels_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = write_config(tmp_path)
    code, _, err = ws.cli(capsys, "--log-level", "loud", "ticket", "list")
    assert code == 2 and err.startswith("error: argument --log-level") and err.count("\n") == 1
    ws.config.write_text(
        ws.config.read_text().replace('language = "ko"', 'language = "ko"\nlog_level = "loud"')
    )
    code, out, _ = ws.cli(capsys, "check-config")
    assert code == 2 and "service.log_level: must be one of" in out


def test_the_start_up_line_lists_every_address_at_info(tmp_path: Path) -> None:
    ws, smtp_port, web_port = listening_config(tmp_path)
    with running(ws, smtp_port, web_port):
        deadline = time.monotonic() + 20
        log = ""
        while "ticketd running" not in log and time.monotonic() < deadline:
            time.sleep(0.2)
            log = (ws.root / "daemon.log").read_text()
    line = next(line for line in log.splitlines() if "ticketd running" in line)
    assert " INFO " in line
    assert f"web http://127.0.0.1:{web_port}" in line
    assert f"smtp 127.0.0.1:{smtp_port}" in line and "mailbox none" in line
