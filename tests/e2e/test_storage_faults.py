"""``ticketd run`` when storage fails under it: killed mid-stream, every message answered 250
is a ticket exactly once; on a full disk ``/healthz`` answers 503, the listener 451, the
IMAP checkpoint stays where the stored mail is, and everything resumes once there is room."""

from __future__ import annotations

import base64
import contextlib
import errno
import json
import os
import smtplib
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from starlette.testclient import TestClient

from tests.builders import SUPPORT, claim
from tests.e2e.support import Workspace, listening_config, running, write_config
from tests.e2e.test_daemon_recovery import eventually, healthz, healthz_when, mailbox_section
from tests.fixtures.dovecot import DovecotServer
from tests.netutil import free_port
from ticketd.daemon.config import load_config
from ticketd.daemon.web_server import build_web_app
from ticketd.daemon.wiring import build
from ticketd.mail.listener import InboundSMTPHandler, make_controller
from ticketd.mail.message import RawMessage, Source
from ticketd.mail.smtp_guard import ListenerSettings
from ticketd.store.db import make_engine
from ticketd.store.reader import Position, Reader

pytestmark = pytest.mark.slow

CLIENTS = 4
PER_CLIENT = 50


def tickets_by_subject(ws: Workspace) -> Counter[str]:
    result = ws.subprocess("ticket", "list", "--json")
    assert result.returncode == 0, result.stderr
    return Counter(t["subject"] for t in json.loads(result.stdout))


def numbered(n: int) -> tuple[str, bytes]:
    subject = f"Claim number {n}"
    sender = f"c{n % CLIENTS}@acme.co.kr"
    mid = f"<claim-{n}@acme.co.kr>"
    data = claim(subject=subject, body=f"Order {n} is lost.", sender=sender, message_id=mid)
    return subject, data


def send(port: int, data: bytes) -> str:
    """The server's answer to one message: "250", the 4xx/5xx code, or "lost"."""
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.sendmail("c@acme.co.kr", ["support@example.com"], data)
    except smtplib.SMTPResponseException as error:
        return str(error.smtp_code)
    except (OSError, smtplib.SMTPException):
        return "lost"
    return "250"


def test_every_message_answered_250_survives_a_sigkill_exactly_once(tmp_path: Path) -> None:
    ws, smtp_port, web_port = listening_config(tmp_path)
    assert ws.subprocess("init").returncode == 0
    answers: dict[int, str] = {}
    with running(ws, smtp_port, web_port) as process:

        def client(first: int) -> None:
            for n in range(first, first + PER_CLIENT):
                answers[n] = send(smtp_port, numbered(n)[1])
                if answers[n] == "lost":
                    return

        threads = [threading.Thread(target=client, args=(i * PER_CLIENT,)) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        eventually(lambda: list(answers.values()).count("250") >= 60, timeout=20)
        process.kill()
        for thread in threads:
            thread.join(timeout=20)
    accepted = {n for n, answer in answers.items() if answer == "250"}
    lost = {n for n, answer in answers.items() if answer != "250"}
    assert accepted and lost
    with running(ws, smtp_port, web_port):
        for n in sorted(lost):  # the client that lost its connection retries once
            assert send(smtp_port, numbered(n)[1]) == "250"
        expected = {numbered(n)[0] for n in accepted | lost}
        found = eventually(lambda: set(c := tickets_by_subject(ws)) >= expected and c, 20)
    assert set(found) == expected
    assert max(found.values()) == 1


@contextlib.contextmanager
def small_filesystem(path: Path, size: str = "8m") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``path`` (skips when mounting is not permitted)."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(path: Path) -> Path:
    """Write random bytes into ``path`` until its filesystem is full."""
    chunk = os.urandom(64 * 1024)
    with path.open("wb") as filler:
        while True:
            try:
                filler.write(chunk)
                filler.flush()
            except OSError as error:
                assert error.errno == errno.ENOSPC
                break
    for size in (4096, 512, 1):  # the last partial blocks
        with contextlib.suppress(OSError), path.open("ab") as filler:
            while True:
                filler.write(b"x" * size)
                filler.flush()
    return path


def last_uid(port: int) -> int:
    boxes = healthz(port)[1].get("mailbox") or []
    return max((box["last_uid"] for box in boxes), default=0)


@pytest.mark.sqlite_only
@pytest.mark.dovecot
def test_a_full_disk_is_unhealthy_refuses_mail_with_451_and_everything_resumes(
    tmp_path: Path, dovecot: DovecotServer
) -> None:
    small_fs = tmp_path / "var"
    with small_filesystem(small_fs):
        ws, smtp_port, web_port = listening_config(tmp_path)
        text = ws.config.read_text().replace(
            "[outbound]", mailbox_section(dovecot) + "\n[outbound]"
        )
        ws.config.write_text(text)
        assert ws.subprocess("init").returncode == 0
        with running(ws, smtp_port, web_port):
            dovecot.deliver(claim(subject="Before the fault", body="first"))
            eventually(lambda: set(tickets_by_subject(ws)) == {"Before the fault"})
            before = eventually(lambda: last_uid(web_port))
            filler = fill(small_fs / "filler")
            body = healthz_when(web_port, 503, timeout=10)
            assert any("disk full" in problem for problem in body["problems"]), body
            big = base64.encodebytes(os.urandom(30_000)).decode()  # does not compress
            kept = claim(subject="Over SMTP", body=big, message_id="<smtp-1@acme.co.kr>")
            assert send(smtp_port, kept) == "451"
            dovecot.deliver(claim(subject="Over IMAP", body=big))
            time.sleep(3)
            assert last_uid(web_port) == before
            assert healthz(web_port)[0] == 503
            filler.unlink()
            assert send(smtp_port, kept) == "250"
            expected = {"Before the fault", "Over SMTP", "Over IMAP"}
            found = eventually(lambda: set(c := tickets_by_subject(ws)) == expected and c, 60)
            assert max(found.values()) == 1
            body = healthz_when(web_port, 200, timeout=20)
            assert body["problems"] == [] and last_uid(web_port) == before + 1


def test_refused_writes_are_unhealthy_answered_451_and_never_move_the_checkpoint(
    tmp_path: Path,
) -> None:
    """Any write the database refuses (an I/O error, a read-only file, the server gone) —
    here the driver's own error raised on every write — on either backend."""
    ws = write_config(tmp_path)
    assert ws.subprocess("init").returncode == 0
    components = build(load_config(ws.config))
    refusing = threading.Event()
    driver = components.engine.dialect.loaded_dbapi

    def refuse(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if refusing.is_set() and not statement.lstrip().upper().startswith(("SELECT", "PRAGMA")):
            raise driver.OperationalError("disk I/O error")

    event.listen(components.engine, "before_cursor_execute", refuse)
    handler = InboundSMTPHandler(
        SUPPORT, components.ingestor.enqueue, settings=ListenerSettings(), clock=utc_now
    )
    port = free_port()
    listener = make_controller(handler, "127.0.0.1", port)
    listener.start()

    def imap(uid: int) -> int:
        raw = RawMessage(claim(subject=f"IMAP {uid}"), Source.IMAP, utc_now(), uid=uid)
        report = components.ingestor.ingest([raw], mailbox="box", checkpoint=Position(7, uid))
        return report.messages

    reader = make_engine(ws.database_url, read_only=True)

    def position() -> Position | None:
        with reader.connect() as connection:
            return Reader(connection).position("box")

    try:
        with TestClient(build_web_app(components)) as web:
            assert imap(1) == 1 and web.get("/healthz").status_code == 200
            refusing.set()
            kept = claim(subject="Over SMTP", message_id="<kept@acme.co.kr>")
            assert send(port, kept) == "451"
            with pytest.raises(OperationalError):
                imap(2)
            assert position() == Position(7, 1)
            answer = web.get("/healthz")
            assert answer.status_code == 503
            assert any("disk I/O error" in problem for problem in answer.json()["problems"])
            refusing.clear()
            assert web.get("/healthz").status_code == 200
            assert send(port, kept) == "250"
            assert imap(2) == 1 and position() == Position(7, 2)
            components.ingestor.process_pending()
    finally:
        listener.stop()
        reader.dispose()
        components.close()
    assert tickets_by_subject(ws) == Counter({"IMAP 1": 1, "IMAP 2": 1, "Over SMTP": 1})


def utc_now() -> datetime:
    return datetime.now(UTC)
