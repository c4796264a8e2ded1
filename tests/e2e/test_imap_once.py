"""``run --once`` against a real Dovecot: fetch, process, checkpoint, never twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.builders import claim
from tests.e2e.support import Workspace, write_config

pytestmark = pytest.mark.dovecot
Capsys = pytest.CaptureFixture[str]


def imap_workspace(tmp_path: Path, server: object, start: str = "all") -> Workspace:
    section = f"""
[mailbox]
address = "support@example.com"
host = "{server.host}"
port = {server.port}
security = "none"
username = "{server.user}"
password = "{server.password}"
folder = "INBOX"
poll_interval = 1
idle = true
start = "{start}"
"""  # type: ignore[attr-defined]
    return write_config(tmp_path, mailbox_section=section)


def test_run_once_imports_new_mail_exactly_once(tmp_path: Path, dovecot, capsys: Capsys) -> None:  # type: ignore[no-untyped-def]
    for i in range(3):
        dovecot.deliver(claim(subject=f"Claim {i}", body=f"Problem number {i}"))
    dovecot.deliver(claim(subject="Claim 0", body="Problem number 0"))
    ws = imap_workspace(tmp_path, dovecot)
    code, out, err = ws.cli(capsys, "run", "--once")
    assert code == 0, err
    assert "processed 4 messages" in out
    assert len(ws.cli_json(capsys, "ticket", "list")) == 3
    acks_and_notices = len(ws.sent_mail())
    assert acks_and_notices == 6

    code, out, _ = ws.cli(capsys, "run", "--once")
    assert code == 0 and "processed 0 messages" in out

    dovecot.deliver(claim(subject="Late claim", body="Arrived later"))
    code, out, _ = ws.cli(capsys, "run", "--once")
    assert "processed 1 messages" in out
    assert len(ws.cli_json(capsys, "ticket", "list")) == 4
    assert len(ws.sent_mail()) == 8


def test_start_now_skips_the_mailbox_history(tmp_path: Path, dovecot, capsys: Capsys) -> None:  # type: ignore[no-untyped-def]
    dovecot.deliver(claim(subject="Old claim", body="From last year"))
    ws = imap_workspace(tmp_path, dovecot, start="now")
    assert ws.cli(capsys, "run", "--once")[0] == 0
    assert ws.cli_json(capsys, "ticket", "list") == []
    dovecot.deliver(claim(subject="New claim", body="Today"))
    ws.cli(capsys, "run", "--once")
    assert [t["subject"] for t in ws.cli_json(capsys, "ticket", "list")] == ["New claim"]


def test_mail_stays_unread_in_the_mailbox(tmp_path: Path, dovecot, capsys: Capsys) -> None:  # type: ignore[no-untyped-def]
    from imapclient import IMAPClient

    dovecot.deliver(claim())
    ws = imap_workspace(tmp_path, dovecot)
    ws.cli(capsys, "run", "--once")
    with IMAPClient(dovecot.host, port=dovecot.port, ssl=False) as client:
        client.login(dovecot.user, dovecot.password)
        client.select_folder("INBOX", readonly=True)
        flags = client.get_flags(client.search("ALL"))
    assert all(b"\\Seen" not in f for f in flags.values())
    assert len(flags) == 1
