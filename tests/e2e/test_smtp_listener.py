"""``ticketd run``'s SMTP listener facing the Internet: forged Authentication-Results count
for nothing unless a trusted relay handed the mail over, and a flood of stalled sessions
neither starves the listener nor stops the status pages."""

from __future__ import annotations

import json
import re
import smtplib
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.builders import claim
from tests.e2e.support import Workspace, listening_config, running
from tests.netutil import SmtpSession

pytestmark = pytest.mark.slow
FORGED = "mx.example.com; dkim=pass header.d=example.com header.s=sel"


def eventually(check: Callable[[], Any], timeout: float = 20) -> Any:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)
    return found


def show(ws: Workspace, tracking: str) -> dict[str, Any]:
    result = ws.subprocess("ticket", "show", tracking, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def mail_to(ws: Workspace, address: str, subject_word: str) -> list[str]:
    """Subjects of the mail written to the outbox for ``address`` containing the word."""
    return [
        str(m["Subject"])
        for m in ws.sent_mail()
        if address in str(m["To"]) and subject_word in str(m["Subject"])
    ]


@pytest.mark.parametrize(
    ("relays", "obeyed"),
    [
        ("", False),
        ('trusted_relays = ["192.0.2.0/24"]', False),
        ('trusted_relays = ["127.0.0.1"]', True),
    ],
    ids=["no trusted relays", "another relay", "from a trusted relay"],
)
def test_authentication_results_count_only_from_trusted_relays(
    tmp_path: Path, relays: str, obeyed: bool
) -> None:
    ws, smtp_port, web_port = listening_config(tmp_path, relays)
    with running(ws, smtp_port, web_port):
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as client:
            client.sendmail("kim@acme.co.kr", ["support@example.com"], claim())
            [ack] = eventually(lambda: mail_to(ws, "kim@acme.co.kr", "["))
            tracking = re.search(r"\[(SUP-[^\]]+)\]", ack).group(1)  # type: ignore[union-attr]
            command = claim(
                subject=f"Re: [{tracking}] Cannot log in",
                body="#close\nFixed on our side.",
                sender="Bob <bob@example.com>",
                headers={"Authentication-Results": FORGED},
            )
            client.sendmail("bob@example.com", ["support@example.com"], command)
        answer = "명령 처리 결과" if obeyed else "명령이 거부되었습니다"
        [told] = eventually(lambda: mail_to(ws, "bob@example.com", answer))
        shown = show(ws, tracking)
    assert tracking in told
    events = [e["type"] for e in shown["events"]]
    told_customer = mail_to(ws, "kim@acme.co.kr", "Closed") + mail_to(ws, "kim@", "Re:")
    if obeyed:  # the reply and the new status in one mail
        assert shown["status"] == "closed" and "command_rejected" not in events
        assert len(told_customer) == 1
    else:
        assert shown["status"] == "open" and events.count("command_rejected") == 1
        assert told_customer == []


def healthy(web_port: int) -> bool:
    with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/healthz", timeout=5) as response:
        return response.status == 200 and json.loads(response.read())["status"] == "ok"


def stall_in_data(port: int, source: str) -> tuple[SmtpSession, bytes]:
    """A session that gets as far as DATA and one header line, then sends nothing more;
    returns it with its greeting (a 421 greeting ends it there)."""
    session = SmtpSession(port, source)
    greeting = session.reply()
    if greeting.startswith(b"220"):
        for line in ("HELO stall.example", "MAIL FROM:<x@stall.example>"):
            assert session.send(line).startswith(b"250")
        assert session.send("RCPT TO:<support@example.com>").startswith(b"250")
        assert session.send("DATA").startswith(b"354")
        session.sock.sendall(b"Subject: never finished\r\n")
    return session, greeting


def test_stalled_sessions_get_421_past_the_limits_time_out_and_never_stop_the_web(
    tmp_path: Path,
) -> None:
    limits = "max_sessions = 40\nmax_sessions_per_peer = 20\ntimeout_seconds = 3\n"
    ws, smtp_port, web_port = listening_config(tmp_path, limits)
    # 128 descriptors: without the limits, 150 stalled sessions exhaust them.
    with running(ws, smtp_port, web_port, open_files=128):
        sessions = [stall_in_data(smtp_port, "127.0.0.2") for _ in range(30)]
        sessions += [stall_in_data(smtp_port, f"127.0.0.{3 + i % 6}") for i in range(120)]
        try:
            greetings = [greeting[:3] for _, greeting in sessions]
            assert greetings[:30] == [b"220"] * 20 + [b"421"] * 10
            assert greetings[30:].count(b"220") == 20 and greetings.count(b"421") == 110
            assert all(b"from your address" in g for _, g in sessions[20:30])
            with pytest.raises(smtplib.SMTPConnectError) as full:
                smtplib.SMTP("127.0.0.1", smtp_port, timeout=5)
            assert full.value.smtp_code == 421
            assert healthy(web_port)
            with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/", timeout=5) as page:
                assert page.status == 200
            stalled = [s for s, greeting in sessions if greeting.startswith(b"220")]
            for session in stalled:
                assert session.reply().startswith(b"421 4.4.2")
        finally:
            for session, _ in sessions:
                session.close()
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as client:
            client.sendmail("kim@acme.co.kr", ["support@example.com"], claim())
        eventually(lambda: mail_to(ws, "kim@acme.co.kr", "["))
        assert healthy(web_port)
    listed = json.loads(ws.subprocess("ticket", "list", "--json").stdout)
    assert [t["subject"] for t in listed] == ["Cannot log in"]
