"""``run --once`` against a real Dovecot: fetch, process, checkpoint, never twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.builders import claim
from tests.e2e.support import Workspace, write_config
from tests.fixtures.dovecot import DovecotServer

pytestmark = pytest.mark.dovecot
Capsys = pytest.CaptureFixture[str]


def imap_workspace(
    tmp_path: Path, server: object, start: str = "all", folder: str = "INBOX"
) -> Workspace:
    section = f"""
[mailbox]
address = "support@example.com"
host = "{server.host}"
port = {server.port}
security = "none"
username = "{server.user}"
password = "{server.password}"
folder = "{folder}"
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


def utf8_claim(message_id: str, subject: str) -> bytes:
    """A claim whose Message-ID is raw UTF-8 (RFC 6532), as some mailers write it."""
    return (
        "From: Kim Minsu <kim@acme.co.kr>\r\nTo: support@example.com\r\n"
        f"Subject: {subject}\r\nMessage-ID: <{message_id}>\r\n"
        "Date: Tue, 2 Jan 2024 10:00:00 +0900\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n로그인이 안 됩니다\r\n"
    ).encode()


def test_utf8_message_id_neither_stops_the_mailbox_nor_loses_its_claim(
    tmp_path: Path, dovecot: DovecotServer, capsys: Capsys
) -> None:
    dovecot.deliver_many(
        [
            utf8_claim("메시지.1@acme.co.kr", "UTF-8 id"),
            claim(subject="Behind it", body="The next customer"),
            utf8_claim("x" * 10_000 + "@acme.co.kr", "Long id"),
        ]
    )
    ws = imap_workspace(tmp_path, dovecot)
    code, _, err = ws.cli(capsys, "run", "--once")
    assert code == 0, err
    subjects = sorted(t["subject"] for t in ws.cli_json(capsys, "ticket", "list"))
    assert subjects == ["Behind it", "Long id", "UTF-8 id"]
    assert ws.cli_json(capsys, "quarantine", "list") == []
    reply = utf8_claim("답장.2@acme.co.kr", "Re: more").replace(
        b"Message-ID:", "In-Reply-To: <메시지.1@acme.co.kr>\r\nMessage-ID:".encode()
    )
    dovecot.deliver(reply)
    assert ws.cli(capsys, "run", "--once")[0] == 0
    assert len(ws.cli_json(capsys, "ticket", "list")) == 3


def test_renumbered_folder_processes_only_mail_not_stored_before(
    tmp_path: Path, dovecot: DovecotServer, capsys: Capsys
) -> None:
    """The folder is recreated (new UIDVALIDITY) with the same mail, one of them migrated
    with a changed header, plus one new claim: exactly one new ticket, nothing answered or
    held twice."""
    first = claim(subject="First claim", body="one", message_id="<first@acme.co.kr>")
    held = claim(subject="Out of office", body="away", headers={"Auto-Submitted": "auto-replied"})
    old = dovecot.recreate_folder("Support", [first, held])
    ws = imap_workspace(tmp_path, dovecot, folder="Support")
    assert ws.cli(capsys, "run", "--once")[0] == 0
    assert len(ws.cli_json(capsys, "ticket", "list")) == 1
    assert len(ws.cli_json(capsys, "quarantine", "list")) == 1
    assert len(ws.sent_mail()) == 2

    migrated = b"X-Migrated: yes\r\n" + first
    new = claim(subject="New claim", body="two", sender="lee@acme.co.kr")
    assert dovecot.recreate_folder("Support", [migrated, held, new]) != old
    code, out, _ = ws.cli(capsys, "run", "--once")
    assert code == 0 and "already-stored=2" in out
    assert sorted(t["subject"] for t in ws.cli_json(capsys, "ticket", "list")) == [
        "First claim",
        "New claim",
    ]
    assert len(ws.cli_json(capsys, "quarantine", "list")) == 1
    assert len(ws.sent_mail()) == 4


def test_renumbered_folder_with_start_now_continues_from_its_end(
    tmp_path: Path, dovecot: DovecotServer, capsys: Capsys
) -> None:
    history = [claim(subject=f"Old claim {i}", body=f"last year {i}") for i in range(3)]
    old = dovecot.recreate_folder("Support", history)
    ws = imap_workspace(tmp_path, dovecot, start="now", folder="Support")
    assert ws.cli(capsys, "run", "--once")[0] == 0
    today = claim(subject="Today's claim", body="now")
    dovecot.append("Support", today)
    assert ws.cli(capsys, "run", "--once")[0] == 0
    assert len(ws.cli_json(capsys, "ticket", "list")) == 1

    assert dovecot.recreate_folder("Support", [*history, today]) != old
    assert ws.cli(capsys, "run", "--once")[0] == 0
    assert [t["subject"] for t in ws.cli_json(capsys, "ticket", "list")] == ["Today's claim"]
    assert len(ws.sent_mail()) == 2
    dovecot.append("Support", claim(subject="Later claim", body="after the change"))
    assert ws.cli(capsys, "run", "--once")[0] == 0
    assert len(ws.cli_json(capsys, "ticket", "list")) == 2
