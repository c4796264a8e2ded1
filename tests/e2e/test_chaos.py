"""Chaos: 2,000 claims in Dovecot, read through every fault at once the desk can meet.

On PostgreSQL, three ``ticketd run`` share one database: the poller is SIGKILLed in the
middle of a fetch, the next one's database session is terminated, Dovecot is restarted in
the middle of a fetch, and the relay is down for a while. On SQLite, the one daemon is
SIGKILLed in the middle of an IMAP fetch, of a batch's commit and of an SMTP delivery.
After the last restart each desk holds exactly one ticket per claim, every requester was
acknowledged, a kill cost at most one extra copy of one mail (with its Message-ID), and
every stored message is on its ticket.

Kill points are made exact from outside: a proxy holds a fetch's answer half-way, the
relay keeps its answer to DATA back, and strace SIGKILLs the daemon at its twelfth write to
the SQLite write-ahead log once the log shows a batch being routed.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from tests.builders import claim
from tests.e2e.chaos import FetchStall, Timeline, assert_survived, progress, until
from tests.e2e.support import Workspace, running, write_config
from tests.e2e.test_daemon_recovery import mailbox_section
from tests.e2e.test_scale_out import instance, role
from tests.fixtures.dovecot import DovecotServer, require_dovecot, running_dovecot
from tests.fixtures.smtp_sink import SmtpSink
from ticketd.daemon.leader import LOCK_KEY
from ticketd.store.db import make_engine, migrate
from ticketd.store.schema import settings

pytestmark = [pytest.mark.dovecot, pytest.mark.slow]

CLAIMS = 2000
BATCH = 50
ROUTED = re.compile(r"ticketd\.daemon\.runner: \S+ \w+ ticket=")

Desk = tuple[Workspace, int, int, subprocess.Popen[str]]


@pytest.fixture(scope="module")
def mailbox() -> Iterator[tuple[DovecotServer, list[str]]]:
    """A Dovecot holding 2,000 claims from 2,000 requesters (each desk reads them all)."""
    require_dovecot()
    requesters = [f"c{i}@acme.co.kr" for i in range(CLAIMS)]
    template = claim(
        subject="Claim NUMBER",
        body="Problem number NUMBER",
        sender="cNUMBER@acme.co.kr",
        message_id="<claim-NUMBER@acme.co.kr>",
    )
    with running_dovecot() as server:
        for i in range(CLAIMS):
            server.deliver(template.replace(b"NUMBER", str(i).encode()))
        yield server, requesters


def watching(server: DovecotServer, proxy: FetchStall) -> str:
    """The mailbox section for ``server``, reached through ``proxy``, in small batches."""
    return mailbox_section(replace(server, port=proxy.port)) + f"batch_size = {BATCH}\n"


def tickets(engine: Engine) -> int:
    return progress(engine)[0]


def done(engine: Engine) -> bool:
    """Every claim a ticket, every mail sent."""
    return progress(engine) == (CLAIMS, 0)


def poller(desks: list[Desk]) -> Desk | None:
    for desk in desks:
        if desk[3].poll() is None and role(desk[2]) == "poller":
            return desk
    return None


def new_poller(desks: list[Desk], engine: Engine, more_than: int) -> Desk:
    """The poller, once one is elected and has stored more than ``more_than`` tickets."""
    until(lambda: poller(desks) and tickets(engine) > more_than, what="a poller at work")
    found = poller(desks)
    assert found is not None
    return found


def terminate_lock_session(engine: Engine) -> None:
    """End the database session holding the poller's advisory lock, as a proxy's idle
    timeout or a restarted server does; the process behind it lives on."""
    with engine.connect() as connection:
        lock = select(text("pid")).select_from(text("pg_locks"))
        lock = lock.where(text("locktype = 'advisory' AND granted AND objid = :key"))
        session = connection.execute(lock, {"key": LOCK_KEY}).scalar_one()
        connection.execute(select(func.pg_terminate_backend(session)))


@pytest.mark.postgres
def test_three_daemons_on_postgresql_through_kills_a_dovecot_restart_and_a_relay_outage(
    tmp_path: Path, postgres_url: str, mailbox: tuple[DovecotServer, list[str]]
) -> None:
    server, requesters = mailbox
    sink, proxy = SmtpSink(), FetchStall((server.host, server.port))
    sink.start()
    engine = make_engine(postgres_url)
    migrate(engine)
    section = watching(server, proxy)
    with ThreadPoolExecutor(3) as starting:
        desks = list(starting.map(
            lambda name: instance(tmp_path / name, postgres_url, sink.port,
                                  mailbox_section=section, relay_retry_seconds=1),
            "abc",
        ))  # fmt: skip
    timeline = Timeline()
    try:
        leader = new_poller(desks, engine, 4 * BATCH)
        proxy.stall()
        until(proxy.stalled.is_set, what="a fetch through the proxy")
        leader = poller(desks) or leader
        leader[3].kill()  # SIGKILL in the middle of a fetch
        leader[3].wait(timeout=10)
        proxy.release()
        timeline.mark(f"poller SIGKILLed during a fetch, at {tickets(engine)} tickets")

        leader = new_poller(desks, engine, tickets(engine) + 200)
        proxy.stall()
        until(proxy.stalled.is_set, what="a fetch of the second poller")
        terminate_lock_session(engine)
        timeline.mark(f"the next poller's session terminated, at {tickets(engine)} tickets")
        until(lambda: role(leader[2]) == "standby", 10, "the second poller standing by")
        proxy.release()  # its batch arrives after it lost the lock: fenced, not committed

        new_poller(desks, engine, tickets(engine) + 200)
        proxy.stall()
        until(proxy.stalled.is_set, what="a fetch of the third poller")
        server.stop_process()
        proxy.cut()
        server.start_process()
        timeline.mark(f"Dovecot restarted during a fetch, at {tickets(engine)} tickets")

        sink.stop()
        time.sleep(3)
        sink.start()
        timeline.mark(f"relay back after 3 s down, at {tickets(engine)} tickets")

        until(lambda: done(engine), 300, "every claim a ticket, every mail sent")
        time.sleep(1)  # a second sender would be sending its copies now
        for desk in desks:
            desk[3].terminate()
            desk[3].wait(timeout=15)
        acks = assert_survived(engine, sink, requesters, kills=2)
        timeline.report("PostgreSQL", acks)
        log = "".join((d[0].root / "stderr.log").read_text() for d in desks)
        assert "lost leadership" in log and "mailbox unavailable" in log
        assert "relay unreachable" in log and "relay answers again" in log
    finally:
        for desk in desks:
            if desk[3].poll() is None:
                desk[3].kill()
            desk[3].wait(timeout=10)
        proxy.close()
        sink.stop()
        engine.dispose()
        if server.process.poll() is not None:
            server.start_process()


def routed(ws: Workspace) -> int:
    """How many messages the running daemon has routed (its INFO log lines)."""
    return len(ROUTED.findall((ws.root / "daemon.log").read_text(errors="replace")))


def kill_at_the_next_commit(pid: int) -> subprocess.Popen[bytes]:
    """strace attached to every thread of ``pid``, SIGKILLing it at its twelfth write to
    the database's write-ahead log since: past any small commit (a batch's in-flight mark
    writes a few pages), half-way through a batch's."""
    return subprocess.Popen(
        ["strace", "-f", "-qq", "-o", "/dev/null", "-p", str(pid), "-e", "trace=pwrite64",
         "-e", "inject=pwrite64:signal=KILL:when=12", "-P", f"{wal(pid)}"],
    )  # fmt: skip


def wal(pid: int) -> str:
    """The write-ahead log the process ``pid`` has open."""
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd)
        if target.endswith(".db-wal"):
            return target
    raise AssertionError("the daemon has no write-ahead log open")


def in_flight(engine: Engine) -> int:
    """IMAP batches marked begun and not committed."""
    with engine.connect() as connection:
        query = select(func.count()).where(settings.c.key.startswith("in-flight:"))
        return int(connection.execute(query).scalar_one())


@pytest.mark.sqlite_only
def test_the_sqlite_daemon_killed_during_a_fetch_a_commit_and_a_delivery(
    tmp_path: Path, mailbox: tuple[DovecotServer, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    if shutil.which("strace") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("strace is not installed")
        pytest.skip("strace is not installed")
    monkeypatch.setenv("TICKETD_LOG_LEVEL", "INFO")
    server, requesters = mailbox
    sink, proxy = SmtpSink(), FetchStall((server.host, server.port))
    ws = write_config(tmp_path, mailbox_section=watching(server, proxy), relay_port=sink.port)
    assert ws.subprocess("init").returncode == 0
    engine = make_engine(ws.database_url, read_only=True)
    timeline = Timeline()
    try:
        with running(ws) as daemon:  # the relay is down: acknowledgements wait
            until(lambda: tickets(engine) >= 3 * BATCH, what="the first batches")
            proxy.stall()
            until(proxy.stalled.is_set, what="a fetch")
            daemon.kill()  # SIGKILL in the middle of an IMAP fetch
            daemon.wait(timeout=10)
            proxy.release()
        before = tickets(engine)
        timeline.mark(f"SIGKILL during an IMAP fetch, at {before} tickets")

        with running(ws) as daemon:
            until(lambda: routed(ws) > BATCH, what="the second batch being routed", every=0.01)
            tracer = kill_at_the_next_commit(daemon.pid)
            assert daemon.wait(timeout=30) == -signal.SIGKILL  # in the middle of a commit
            tracer.wait(timeout=10)
        killed_at = tickets(engine)  # a batch was begun and its commit did not land
        assert in_flight(engine) == 1 and killed_at > before and killed_at % BATCH == 0
        timeline.mark(f"SIGKILL during a batch's commit, at {killed_at} tickets")

        sink.start()
        with running(ws) as daemon:
            until(lambda: len(sink.received) >= 100, what="acknowledgements flowing")
            sink.stall()
            until(sink.stalled.is_set, what="a DATA")
            daemon.kill()  # SIGKILL while the relay has the mail and has not answered
            daemon.wait(timeout=10)
            sink.resume.set()
        timeline.mark(f"SIGKILL during an SMTP delivery, {len(sink.received)} mails delivered")

        with running(ws) as daemon:
            until(lambda: done(engine), 300, "every claim a ticket, every mail sent")
            daemon.terminate()
            assert daemon.wait(timeout=15) == 0
        acks = assert_survived(engine, sink, requesters, kills=3)
        timeline.report("SQLite", acks)
        assert in_flight(engine) == 0
    finally:
        proxy.close()
        sink.stop()
        engine.dispose()
