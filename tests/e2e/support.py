"""Helpers for end-to-end tests: a config in a temp dir, mail builders, CLI calls."""

from __future__ import annotations

import json
import mailbox
import subprocess
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from pathlib import Path
from typing import Any

import pytest

from tests.builders import SUPPORT
from tests.fixtures.database import sqlite_database
from tests.fixtures.smtp_sink import Received, SmtpSink
from tests.netutil import free_port, wait_for_port
from ticketd.daemon.cli import main

NEW_DATABASE: Callable[[Path], str] = sqlite_database
"""The database of the lane (tests/conftest.py sets it for each test)."""


@dataclass
class Workspace:
    """A ticketd installation in a temp dir: config, database, outbox Maildir."""

    root: Path
    config: Path
    database_url: str = ""

    @property
    def outbox(self) -> Path:
        return self.root / "var" / "outbox"

    def cli(self, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
        """Run ``ticketd --config … ARGS`` in this process."""
        code = main(["--config", str(self.config), *args])
        out, err = capsys.readouterr()
        return code, out, err

    def cli_json(self, capsys: pytest.CaptureFixture[str], *args: str) -> Any:
        code, out, err = self.cli(capsys, *args, "--json")
        assert code == 0, err
        return json.loads(out)

    def subprocess(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run the installed console script, as a user would."""
        return subprocess.run(
            ["ticketd", "--config", str(self.config), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def sent_mail(self) -> list[EmailMessage]:
        """Every mail the Maildir transport wrote, parsed."""
        folder = self.outbox / "new"
        if not folder.is_dir():
            return []
        parser = BytesParser(policy=default)
        return [parser.parsebytes(p.read_bytes()) for p in sorted(folder.iterdir())]  # type: ignore[misc]


def text_of(mail: EmailMessage) -> str:
    """The plain-text body of a mail (customers' mail also has an HTML alternative)."""
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def write_config(
    root: Path,
    *,
    extra: str = "",
    mailbox_section: str = "",
    listener: str = "",
    relay_port: int | None = None,
    relay_retry_seconds: float | None = None,
) -> Workspace:
    """A config with SQLite, Maildir outbound (or SMTP to 127.0.0.1:``relay_port``, probed
    every ``relay_retry_seconds`` while down), two engineers and one routing rule."""
    outbound = 'transport = "maildir"\nmaildir = "var/outbox"'
    if relay_port is not None:
        outbound = f'transport = "smtp"\nhost = "127.0.0.1"\nport = {relay_port}\ntimeout = 5'
    if relay_retry_seconds is not None:
        outbound += f"\nretry_seconds = {relay_retry_seconds}"
    config = root / "ticketd.toml"
    database_url = NEW_DATABASE(root)
    config.write_text(
        f"""
[service]
name = "Example Support"
tracking_prefix = "SUP"
language = "ko"
timezone = "Asia/Seoul"
address = "{SUPPORT}"

[database]
url = "{database_url}"

{mailbox_section}

{listener}

[outbound]
{outbound}
from = "Example Support <{SUPPORT}>"

[web]
listen = "127.0.0.1:0"
base_url = "http://127.0.0.1:8080"
secret_key = "test-secret-key-0123456789"

[security]
trusted_authserv_ids = ["mx.example.com"]

[[engineers]]
email = "alice@example.com"
name = "Alice"
role = "agent"
teams = ["general"]

[[engineers]]
email = "bob@example.com"
name = "Bob"
role = "manager"
teams = ["billing"]

[[routing.rules]]
from_domain = "bigcorp.co.kr"
owner = "bob@example.com"

[sla]
first_response_hours = 24
auto_close_days = 7
{extra}
""",
        encoding="utf-8",
    )
    return Workspace(root, config, database_url)


def listening_config(root: Path, listener: str = "") -> tuple[Workspace, int, int]:
    """``write_config`` with the SMTP listener (plus the ``listener`` lines) and the web
    server on free loopback ports; returns the workspace and the two ports."""
    smtp_port, web_port = free_port(), free_port()
    ws = write_config(
        root, listener=f'[smtp_listener]\nlisten = "127.0.0.1:{smtp_port}"\n{listener}\n'
    )
    text = ws.config.read_text().replace(
        'listen = "127.0.0.1:0"', f'listen = "127.0.0.1:{web_port}"'
    )
    ws.config.write_text(text)
    return ws, smtp_port, web_port


@contextmanager
def running(
    ws: Workspace, *ports: int, open_files: int | None = None, under: Sequence[str] = ()
) -> Iterator[subprocess.Popen[str]]:
    """``ticketd run`` as a user starts it (with at most ``open_files`` file descriptors,
    run by the command ``under``, e.g. ``faketime``), once every port in ``ports`` accepts;
    its log goes to ``daemon.log``; killed at the end if still running."""
    command = [*under, "ticketd", "--config", str(ws.config), "run"]
    if open_files is not None:
        command = ["sh", "-c", f'ulimit -n {open_files} && exec "$@"', "sh", *command]
    with (ws.root / "daemon.log").open("w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, text=True)
        try:
            for port in ports:
                wait_for_port(port)
            yield process
        finally:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)


def write_mbox(path: Path, messages: Iterable[bytes]) -> Path:
    box = mailbox.mbox(path)
    box.lock()
    try:
        for data in messages:
            box.add(data)
        box.flush()
    finally:
        box.unlock()
        box.close()
    return path


class ImportDesk:
    """ticketd fed by ``import``, its outbox flushed by ``run --once`` to a real SMTP sink."""

    def __init__(self, ws: Workspace, sink: SmtpSink, capsys: pytest.CaptureFixture[str]) -> None:
        self.ws, self.sink, self.capsys = ws, sink, capsys
        self.batches = 0

    def feed(self, *mails: bytes) -> None:
        self.batches += 1
        mbox = write_mbox(self.ws.root / f"in-{self.batches}.mbox", mails)
        code, _, err = self.ws.cli(self.capsys, "import", str(mbox))
        assert code == 0, err
        code, _, err = self.ws.cli(self.capsys, "run", "--once")
        assert code == 0, err

    def sent_to(self, address: str) -> list[Received]:
        return [r for r in self.sink.received if address in r.rcpt_tos]
