"""Arrival-to-acknowledgement latency, by IMAP IDLE and by the SMTP listener, while the same
daemon imports a 5,000-message mailbox history, and then with the daemon idle.

A private Dovecot gets a 5,000-message corpus as files (``bench/mailbox_fill.py``; its dates
are history, so it gets no acknowledgements). ``ticketd run`` starts on an empty database with
``start = "all"``, IDLE on, the SMTP listener on loopback and outbound SMTP to a local
aiosmtpd sink. As soon as the listener answers, two probe threads each send a new claim every
``--interval`` seconds from a sender of its own: one by IMAP APPEND into the INBOX, one by SMTP
to the listener. A probe's latency runs from the moment the APPEND's OK (or the DATA's 250)
is back to the moment its acknowledgement reaches the sink. Probes sent before the history is
committed count as "during import"; once all of them are acknowledged, ``--idle-probes``
more per path count as "idle".

The watcher reads the mailbox in UID order, so a claim APPENDed during the import is read
after the whole history: its latency is the rest of the import. The SMTP listener's mail is
queued apart and processed between IMAP batches.

Run from the repository root (needs ``dovecot-imapd``)::

    python -m bench.latency                          # 5,000 messages of history
    python -m bench.latency --history 1000 --idle-probes 20 --keep
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import shutil
import smtplib
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from imapclient import IMAPClient

from bench.daemon_run import mailbox_last_uid, running_daemon, vmhwm_mib, wait_until
from bench.ingest import SUPPORT, BenchError, run_checked, smtp_sink, ticketd_argv, write_config
from bench.mailbox_fill import fill_inbox
from tests.fixtures.dovecot import DovecotServer, running_dovecot
from tests.netutil import free_port, wait_for_port

PATHS = ("IMAP IDLE", "SMTP listener")
Send = Callable[[bytes, str], object]  # (message, sender): returns once the server accepted
ACK_TIMEOUT = 300.0


@dataclasses.dataclass(frozen=True, slots=True)
class Probe:
    """One claim sent: by which path, from whom, when it was accepted, in which phase."""

    path: str
    sender: str
    accepted_at: float
    accept_seconds: float  # from the first byte sent to the APPEND's OK or the DATA's 250
    during_import: bool


def claim(sender: str, index: int) -> bytes:
    """A new customer claim that must be acknowledged."""
    message = EmailMessage()
    message["From"] = f"Probe Customer {index} <{sender}>"
    message["To"] = SUPPORT
    message["Subject"] = f"프린터 연결이 끊깁니다 (probe {index} {uuid.uuid4().hex[:8]})"
    message["Message-ID"] = make_msgid(domain="probe.example")
    message["Date"] = format_datetime(datetime.now(UTC))
    message.set_content(f"안녕하세요, 사무실 프린터가 계속 끊깁니다. 확인 부탁드립니다. #{index}\n")
    return message.as_bytes()


class Prober:
    """Sends a claim every ``interval`` seconds down one path, phase after phase."""

    def __init__(self, path: str, send: Send) -> None:
        self.path = path
        self.send = send
        self.probes: list[Probe] = []
        self.errors: list[str] = []

    def run(self, interval: float, done: Callable[[int], bool], during_import: bool) -> None:
        """Probe until ``done(probes sent in this phase)``."""
        sent = 0
        while not done(sent):
            index = len(self.probes) + len(self.errors)
            sender = f"probe-{self.path.split()[0].lower()}-{index}@probe.example"
            data = claim(sender, index)
            sending = time.monotonic()
            try:
                self.send(data, sender)
            except (OSError, smtplib.SMTPException) as exc:
                self.errors.append(f"{type(exc).__name__}: {exc}")
            else:
                now = time.monotonic()
                self.probes.append(Probe(self.path, sender, now, now - sending, during_import))
            sent += 1
            time.sleep(interval)


def _phase(
    probers: list[Prober], interval: float, done: Callable[[int], bool], during_import: bool
) -> None:
    threads = [
        threading.Thread(target=p.run, args=(interval, done, during_import)) for p in probers
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _all_acked(probers: list[Prober], arrivals: dict[str, float]) -> None:
    """Wait until every probe sent so far has its acknowledgement (or say which are late)."""
    probes = [probe for prober in probers for probe in prober.probes]
    try:
        wait_until(lambda: all(p.sender in arrivals for p in probes), ACK_TIMEOUT, "acks")
    except BenchError as exc:
        print(f"  {exc}", file=sys.stderr)


def _imap_sender(server: DovecotServer) -> tuple[Send, Callable[[], object]]:
    client = IMAPClient(server.host, port=server.port, ssl=False, timeout=60)
    client.login(server.user, server.password)
    return (lambda data, _sender: client.append("INBOX", data, flags=())), client.logout


def _smtp_sender(port: int) -> tuple[Send, Callable[[], object]]:
    """One SMTP session per claim, as senders do (and a long import outlasts the listener's
    ``max_session_seconds``)."""

    def send(data: bytes, sender: str) -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
            client.sendmail(sender, [SUPPORT], data)

    return send, lambda: None


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank ``q`` percentile of ``values`` (not empty)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def run(history: int, seed: int, interval: float, idle_probes: int, base: Path) -> int:
    """The bench (see the module docstring); prints the table; 1 if an acknowledgement is
    missing."""
    with running_dovecot() as server, smtp_sink() as (sink_port, sink):
        fill_inbox(server, history, seed, base / "corpus")
        workdir = base / "desk"
        workdir.mkdir()
        listener = free_port()
        config = write_config(
            workdir,
            {"transport": "smtp", "host": "127.0.0.1", "port": sink_port, "security": "none"},
            {"host": server.host, "port": server.port, "security": "none",
             "username": server.user, "password": server.password, "folder": "INBOX",
             "idle": True, "start": "all"},
            extra={"[smtp_listener]": {"listen": f"127.0.0.1:{listener}"}},
        )  # fmt: skip
        log = workdir / "ticketd.log"
        run_checked(ticketd_argv(config, "init"), log)
        database = workdir / "ticketd.db"
        imported_at: list[float] = []

        def imported(_sent: int) -> bool:
            if not imported_at and mailbox_last_uid(database) >= history:
                imported_at.append(time.monotonic())
            return bool(imported_at)

        with running_daemon(config) as daemon:
            wait_for_port(listener, 60)
            started = time.monotonic()
            imap_send, imap_close = _imap_sender(server)
            smtp_send, smtp_close = _smtp_sender(listener)
            probers = [Prober(PATHS[0], imap_send), Prober(PATHS[1], smtp_send)]
            _phase(probers, interval, imported, during_import=True)
            _all_acked(probers, sink.arrivals)
            settled = time.monotonic()
            _phase(probers, interval, lambda sent: sent >= idle_probes, during_import=False)
            _all_acked(probers, sink.arrivals)
            imap_close()
            smtp_close()
            probes = [probe for prober in probers for probe in prober.probes]
            rss = vmhwm_mib(daemon.pid)
    import_seconds = imported_at[0] - started if imported_at else float("nan")
    print(f"\n{history} messages of history imported by the daemon in {import_seconds:.1f} s "
          f"after its listener answered ({history / import_seconds:.0f} msgs/s), the claims\n"
          f"sent meanwhile acknowledged {settled - imported_at[0]:.1f} s later; probes every "
          f"{interval:g} s per path; daemon peak RSS {rss:.1f} MiB")  # fmt: skip
    print(f"{'path':<14} {'phase':<14} {'probes':>6} {'acked':>5} {'median s':>8} "
          f"{'p99 s':>7} {'max s':>7}   {'accept median':>13} {'p99':>6}")  # fmt: skip
    missing = 0
    for path in PATHS:
        for phase, during in (("during import", True), ("idle", False)):
            sent = [p for p in probes if p.path == path and p.during_import == during]
            waits = [sink.arrivals[p.sender] - p.accepted_at for p in sent
                     if p.sender in sink.arrivals]  # fmt: skip
            missing += len(sent) - len(waits)
            figures = (
                f"{statistics.median(waits):>8.2f} {percentile(waits, 99):>7.2f} {max(waits):>7.2f}"
                if waits
                else f"{'-':>8} {'-':>7} {'-':>7}"
            )
            accept = [p.accept_seconds for p in sent] or [math.nan]
            print(f"{path:<14} {phase:<14} {len(sent):>6} {len(waits):>5} {figures}   "
                  f"{statistics.median(accept):>13.2f} {percentile(accept, 99):>6.2f}")  # fmt: skip
    print("latency: from the OK or 250 to the acknowledgement at the sink; accept: how long\n"
          "the APPEND or the SMTP session (one per claim) took")  # fmt: skip
    for prober in probers:
        for error in prober.errors[:3]:
            print(f"  {prober.path} send failed: {error}")
    return 1 if missing else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--history", type=int, default=5000, help="messages already there")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between probes")
    parser.add_argument("--idle-probes", type=int, default=40, help="per path, after the import")
    parser.add_argument("--keep", action="store_true", help="keep the work directory and logs")
    args = parser.parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="ticketd-bench-latency-"))
    try:
        code = run(args.history, args.seed, args.interval, args.idle_probes, base)
    except BenchError as exc:
        print(f"error: {exc}\nwork directory: {base}", file=sys.stderr)
        return 1
    if args.keep or code:
        print(f"work directory: {base}")
    else:
        shutil.rmtree(base, ignore_errors=True)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
