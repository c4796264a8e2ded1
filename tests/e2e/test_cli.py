"""The command line as a user meets it: the installed script and ``python -m ticketd``."""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.builders import claim
from tests.e2e.support import Workspace, listening_config, write_config, write_mbox
from ticketd import __version__


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return write_config(tmp_path)


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)


def imported(ws: Workspace, *mails: bytes) -> None:
    mbox = write_mbox(ws.root / "in.mbox", mails)
    result = ws.subprocess("import", str(mbox), "--no-notify")
    assert result.returncode == 0, result.stderr


def test_ticketd_alone_prints_the_help_and_version_answers() -> None:
    alone = run("ticketd")
    assert alone.returncode == 0, alone.stderr
    assert alone.stdout.startswith("usage: ticketd")
    for command in ("init", "run", "import", "check-config", "ticket", "quarantine", "token"):
        assert f"    {command} " in alone.stdout
    for version in (run("ticketd", "--version"), run(sys.executable, "-m", "ticketd", "--version")):
        assert version.returncode == 0, version.stderr
        assert version.stdout.strip() == f"ticketd {__version__}"


def test_the_help_never_sends_the_user_outside_the_repository() -> None:
    pages = [run("ticketd", "--help").stdout]
    pages += [run("ticketd", command, "--help").stdout for command in ("run", "report", "ticket")]
    pages.append(run("ticketd", "ticket", "list", "--help").stdout)
    for page in pages:
        assert page.startswith("usage: ")
        assert "CONTRACT" not in page and "../" not in page


def test_python_m_ticketd_is_the_same_cli_with_config_after_the_command(ws: Workspace) -> None:
    imported(ws, claim(subject="Cannot log in"))
    for command in (
        [sys.executable, "-m", "ticketd", "ticket", "list", "--config", str(ws.config)],
        ["ticketd", "ticket", "list", "--config", str(ws.config)],
        ["ticketd", "ticket", "--config", str(ws.config), "list"],
    ):
        result = run(*command)
        assert result.returncode == 0, result.stderr
        assert "Cannot log in" in result.stdout


def test_ticket_list_has_a_header_and_refuses_an_unknown_status(ws: Workspace) -> None:
    imported(ws, claim(subject="Cannot log in"))
    listed = ws.subprocess("ticket", "list", "--status", "open")
    assert listed.returncode == 0, listed.stderr
    header, row, footer = listed.stdout.splitlines()
    assert header.split() == ["TRACKING", "STATUS", "PRIORITY", "UPDATED", "OWNER", "SUBJECT"]
    assert row.startswith("SUP-") and "Cannot log in" in row and "KST" in row
    assert footer == "1 ticket"
    bad = ws.subprocess("ticket", "list", "--status", "opne")
    assert bad.returncode != 0 and bad.stdout == ""
    assert bad.stderr.startswith("error: ") and bad.stderr.count("\n") == 1
    assert "opne" in bad.stderr and "open" in bad.stderr


def test_ticket_show_prints_message_texts_and_local_times(ws: Workspace) -> None:
    sent = datetime(2026, 3, 2, 0, 15, tzinfo=UTC)
    imported(
        ws,
        claim(
            body="어제부터 관리자 페이지에 로그인할 수 없습니다.\n\x1b[2Jsecond line",
            date=sent,
        ),
    )
    listed = ws.subprocess("ticket", "list")
    number = listed.stdout.splitlines()[1].split()[0]
    shown = ws.subprocess("ticket", "show", number.lower())
    assert shown.returncode == 0, shown.stderr
    assert "      어제부터 관리자 페이지에 로그인할 수 없습니다." in shown.stdout
    assert "second line" in shown.stdout and "\x1b" not in shown.stdout
    created = next(line for line in shown.stdout.splitlines() if line.startswith("created_at"))
    assert created.endswith(" KST"), created
    assert shown.stdout.rstrip().endswith("times in Asia/Seoul")


def test_a_busy_port_is_one_error_line_naming_the_key(tmp_path: Path) -> None:
    ws, _, web_port = listening_config(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", web_port))
        busy.listen()
        result = ws.subprocess("run", timeout=60)
    assert result.returncode != 0
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("error: ")
    assert f"127.0.0.1:{web_port} ([web].listen): address already in use" in result.stderr


def test_a_busy_smtp_port_names_the_listener_key(tmp_path: Path) -> None:
    ws, smtp_port, _ = listening_config(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", smtp_port))
        busy.listen()
        result = ws.subprocess("run", timeout=60)
    assert result.returncode != 0
    assert result.stderr.count("\n") == 1, result.stderr
    assert "([smtp_listener].listen): address already in use" in result.stderr


def test_log_level_is_validated_before_or_after_the_command(ws: Workspace) -> None:
    for args in (("--log-level", "loud", "check-config"), ("check-config", "--log-level", "x")):
        result = ws.subprocess(*args)
        assert result.returncode == 2
        assert result.stderr.startswith("error: argument --log-level: invalid log level")
        assert result.stderr.count("\n") == 1
    assert ws.subprocess("check-config", "--log-level", "debug").returncode == 0
