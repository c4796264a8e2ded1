"""Ingest benchmark: how fast ticketd turns a mailbox into tickets, and whether it gets them right.

For each ``--messages N`` it writes a corpus with known truth (bench/corpus.py), then times

- ``ticketd import mailbox.mbox`` (acknowledgements are queued in the outbox, not sent), and
- ``ticketd run --once`` against a real Dovecot holding the corpus (fetch, process, due jobs and
  outbox flush), twice: outbound SMTP to a local sink, and outbound Maildir,

and prints wall time, messages per second, the child's peak RSS, and tickets against the truth.
Run from the repository root: ``python -m bench.ingest [--messages 10000 --messages 50000]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import email
import imaplib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email import policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from bench.corpus import CORPUS_NAMES, Truth, write_corpus
from tests.netutil import free_port

SUPPORT = "support@example.com"
ENGINEERS = (
    ("alice@example.com", "Alice", "manager"),
    ("bob@example.com", "Bob", "agent"),
    ("carol@example.com", "Carol", "agent"),
    ("dave@example.com", "Dave", "agent"),
)


class BenchError(Exception):
    """A step of the benchmark failed; the message says which and where its log is."""


@dataclasses.dataclass(frozen=True, slots=True)
class Result:
    """One timed run of ticketd over a corpus."""

    path: str
    messages: int
    seconds: float
    peak_rss_mib: float
    tickets: int
    duplicates: int
    truth: Truth
    sent: int | None = None
    ingest_seconds: float | None = None
    flush_seconds: float | None = None
    cpu_seconds: float = 0.0

    def row(self) -> str:
        ok = "yes" if self.tickets == self.truth.claims else "NO"
        dups = f"{self.duplicates}/{self.truth.by_kind.get('resend', 0)}"
        sent = "-" if self.sent is None else str(self.sent)
        ingest = (
            f"{self.messages / self.ingest_seconds:>8.0f}" if self.ingest_seconds else f"{'-':>8}"
        )
        flush = f"{self.flush_seconds:>7.1f}" if self.flush_seconds is not None else f"{'-':>7}"
        return (
            f"{self.messages:>8}  {self.path:<15} {self.seconds:>8.1f} "
            f"{self.messages / self.seconds:>7.0f} {ingest} {flush} "
            f"{1000 * self.cpu_seconds / self.messages:>6.2f} {self.peak_rss_mib:>8.1f} "
            f"{self.tickets:>8} {self.truth.claims:>7} {dups:>13} {sent:>6}  {ok}"
        )


HEADER = (
    f"{'messages':>8}  {'path':<15} {'seconds':>8} {'msgs/s':>7} {'ingest/s':>8} "
    f"{'flush s':>7} {'CPU ms':>6} {'RSS MiB':>8} "
    f"{'tickets':>8} {'claims':>7} {'dups/resends':>13} {'sent':>6}  ok"
)
CYCLE = re.compile(r"processed \d+ messages .*? in ([\d.]+)s; .* in ([\d.]+)s")


def _toml(value: Any) -> str:
    """A TOML value for a str, int, bool or list of str (JSON strings are TOML strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def write_config(
    workdir: Path,
    outbound: dict[str, Any],
    mailbox: dict[str, Any] | None,
    *,
    database_url: str | None = None,
    extra: dict[str, dict[str, Any]] | None = None,
) -> Path:
    """A ticketd config in ``workdir``: SQLite there (or ``database_url``), 4 engineers, web
    on a free port, plus the ``extra`` sections (``{"[smtp_listener]": {...}}``)."""
    port = free_port()
    sections: list[tuple[str, dict[str, Any]]] = [
        ("[service]", {"name": "Bench Support", "tracking_prefix": "SUP", "language": "ko",
                       "timezone": "Asia/Seoul", "address": SUPPORT}),
        ("[database]", {"url": database_url or f"sqlite:///{workdir / 'ticketd.db'}"}),
        ("[outbound]", {"from": f"Bench Support <{SUPPORT}>", **outbound}),
        ("[web]", {"listen": f"127.0.0.1:{port}", "base_url": f"http://127.0.0.1:{port}",
                   "secret_key": secrets.token_hex(32)}),
        ("[security]", {"trusted_authserv_ids": ["mx.example.com"]}),
        ("[sla]", {"first_response_hours": 24, "auto_close_days": 7}),
    ]  # fmt: skip
    if mailbox is not None:
        sections.append(("[mailbox]", {"address": SUPPORT, **mailbox}))
    sections += list((extra or {}).items())
    sections += [
        ("[[engineers]]", {"email": email, "name": name, "role": role, "teams": ["general"],
                           "available": True})
        for email, name, role in ENGINEERS
    ]  # fmt: skip
    lines = []
    for title, values in sections:
        lines += ["", title, *(f"{key} = {_toml(value)}" for key, value in values.items())]
    config = workdir / "ticketd.toml"
    config.write_text("\n".join(lines).lstrip() + "\n")
    return config


def ticketd_argv(config: Path, *args: str) -> list[str]:
    executable = shutil.which("ticketd")
    if executable is None:
        raise BenchError("ticketd is not on PATH: pip install -e . first")
    return [executable, "--config", str(config), *args]


def run_checked(argv: list[str], log: Path) -> str:
    """Run ``argv`` untimed and return its stdout; its stderr goes to ``log``."""
    with log.open("ab") as err:
        done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=err, check=False)
    if done.returncode:
        raise BenchError(f"{' '.join(argv[1:])} exited {done.returncode}; see {log}")
    return done.stdout.decode()


# Linux carries a process's peak RSS across exec, and posix_spawn (vfork) execs in the
# spawner's memory: ticketd spawned straight from this process would report this process's
# peak (it grows with the corpus) whenever that is the larger. So a bare interpreter spawns
# ticketd and reports the peak from its wait4.
PEAK = """
import os, sys
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(f"{usage.ru_maxrss} {usage.ru_utime + usage.ru_stime}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def timed(argv: list[str], log: Path) -> tuple[float, float, float]:
    """Run ``argv`` to its end: wall seconds, its own peak RSS in MiB and the CPU seconds
    (user + sys) of it and the children it waited for (the parse worker)."""
    peak = log.with_suffix(".peak")
    with log.open("ab") as out:
        fd = out.fileno()
        actions = [(os.POSIX_SPAWN_DUP2, fd, 1), (os.POSIX_SPAWN_DUP2, fd, 2)]
        started = time.perf_counter()
        spawner = [sys.executable, "-c", PEAK, str(peak), *argv]
        pid = os.posix_spawn(sys.executable, spawner, os.environ, file_actions=actions)
        _, status, _ = os.wait4(pid, 0)
        seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code:
        raise BenchError(f"{' '.join(argv[1:])} exited {code}; see {log}")
    rss, cpu = peak.read_text().split()
    return seconds, int(rss) / 1024, float(cpu)  # ru_maxrss is in KiB on Linux


def measure(path: str, config: Path, command: list[str], truth: Truth) -> Result:
    """Create the database, time ``command``, then count the tickets it made."""
    log = config.parent / "ticketd.log"
    run_checked(ticketd_argv(config, "check-config"), log)
    run_checked(ticketd_argv(config, "init"), log)
    seconds, rss, cpu = timed(ticketd_argv(config, *command), log)
    phases = CYCLE.findall(log.read_text(errors="replace"))
    ingest, flush = (float(phases[-1][0]), float(phases[-1][1])) if phases else (None, None)
    tickets = json.loads(run_checked(ticketd_argv(config, "ticket", "list", "--json"), log))
    duplicates = sum(t.get("duplicate_count", 0) for t in tickets)
    return Result(
        path,
        truth.messages,
        seconds,
        rss,
        len(tickets),
        duplicates,
        truth,
        ingest_seconds=ingest,
        flush_seconds=flush,
        cpu_seconds=cpu,
    )


class _CountingSink:
    """An aiosmtpd handler that accepts and counts every message, and keeps when mail first
    reached each recipient (``time.monotonic()``)."""

    def __init__(self) -> None:
        self.received = 0
        self.arrivals: dict[str, float] = {}

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        now = time.monotonic()
        self.received += 1
        for recipient in envelope.rcpt_tos:
            self.arrivals.setdefault(recipient.lower(), now)
        return "250 OK"


@contextmanager
def smtp_sink() -> Iterator[tuple[int, _CountingSink]]:
    """A local SMTP server that accepts everything: its port and its counter."""
    handler = _CountingSink()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port, handler
    finally:
        controller.stop()


FLOOR_BATCH = 250
"""UIDs per ``UID FETCH``, as ticketd's ``[mailbox].batch_size``."""


def fetch_parse_floor(host: str, port: int, user: str, password: str) -> tuple[int, float, float]:
    """The floor ingest is held to: the stdlib alone fetching every message (``imaplib``,
    ``BODY.PEEK[]`` in batches) and parsing it with ``email.policy.default`` (From, Subject,
    Message-ID and the text body read). Returns messages, seconds and CPU seconds."""
    started, cpu = time.perf_counter(), time.process_time()
    count = 0
    client = imaplib.IMAP4(host, port)
    try:
        client.login(user, password)
        client.select("INBOX", readonly=True)
        _, found = client.uid("SEARCH", "ALL")
        uids = found[0].split()
        for at in range(0, len(uids), FLOOR_BATCH):
            window = b",".join(uids[at : at + FLOOR_BATCH]).decode()
            _, items = client.uid("FETCH", window, "(BODY.PEEK[])")
            for item in items:
                if not isinstance(item, tuple):
                    continue
                msg = email.message_from_bytes(item[1], policy=policy.default)
                _ = (msg["From"], msg["Subject"], msg["Message-ID"])
                body = msg.get_body(preferencelist=("plain", "html"))
                if body is not None:
                    _ = body.get_content()
                count += 1
    finally:
        client.logout()
    return count, time.perf_counter() - started, time.process_time() - cpu


def bench_import(n: int, base: Path, seed: int) -> Result:
    """``ticketd import`` of an mbox, acknowledgements queued."""
    workdir = base / f"import-{n}"
    truth = write_corpus(n, workdir / "corpus", "mbox", seed)
    config = write_config(workdir, {"transport": "maildir", "maildir": "outbox"}, None)
    corpus = workdir / "corpus" / CORPUS_NAMES["mbox"]
    return measure("import", config, ["import", str(corpus)], truth)


def bench_imap(n: int, base: Path, seed: int) -> list[Result]:
    """``ticketd run --once`` from a real Dovecot, outbound by SMTP and then by Maildir."""
    from tests.fixtures.dovecot import running_dovecot  # needs dovecot-imapd; imported late

    corpus = base / f"imap-{n}" / "corpus"
    truth = write_corpus(n, corpus, "eml-dir", seed)
    results = []
    with running_dovecot() as server, smtp_sink() as (smtp_port, sink):
        started = time.perf_counter()
        server.deliver_many(p.read_bytes() for p in sorted((corpus / "eml").iterdir()))
        print(f"  delivered {n} messages into Dovecot in {time.perf_counter() - started:.1f} s")
        floor, seconds, cpu = fetch_parse_floor(
            server.host, server.port, server.user, server.password
        )
        print(
            f"  fetch + parse floor (imaplib, policy.default): {floor / seconds:.0f} msgs/s, "
            f"{1000 * cpu / floor:.2f} ms CPU a message"
        )
        mailbox = {"host": server.host, "port": server.port, "security": "none",
                   "username": server.user, "password": server.password, "folder": "INBOX",
                   "idle": False, "start": "all"}  # fmt: skip
        outbounds = {
            "imap, smtp out": {"transport": "smtp", "host": "127.0.0.1", "port": smtp_port,
                               "security": "none"},
            "imap, maildir": {"transport": "maildir", "maildir": "outbox"},
        }  # fmt: skip
        for path, outbound in outbounds.items():
            workdir = base / f"imap-{n}" / path.replace(", ", "-").replace(" ", "-")
            workdir.mkdir()
            config = write_config(workdir, outbound, mailbox)
            result = measure(path, config, ["run", "--once"], truth)
            outbox = [f for f in (workdir / "outbox").rglob("*") if f.is_file()]
            sent = sink.received if outbound["transport"] == "smtp" else len(outbox)
            results.append(dataclasses.replace(result, sent=sent))
    return results


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and print a table; exit 1 if a run failed or missed the truth."""
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument(
        "--messages", type=int, action="append", help="corpus size, repeatable (default 5000)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--skip-imap", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the work directory and logs")
    args = parser.parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="ticketd-bench-"))
    results: list[Result] = []
    failure = None
    try:
        for n in args.messages or [5000]:
            if not args.skip_import:
                print(f"import: {n} messages ...", flush=True)
                results.append(bench_import(n, base, args.seed))
            if not args.skip_imap:
                print(f"imap: {n} messages ...", flush=True)
                results += bench_imap(n, base, args.seed)
    except BenchError as exc:
        failure = str(exc)
    finally:
        if not args.keep and failure is None:
            shutil.rmtree(base)
    print()
    print(HEADER)
    for result in results:
        print(result.row())
    print(
        "\nseconds and msgs/s: the whole command, process start included. ingest/s: run --once's\n"
        "own timing of fetch, parse, dedup, routing and commit with acknowledgements queued;\n"
        "flush s: the delivery of the queued mail, timed separately (SMTP sink or Maildir).\n"
        "CPU ms: user + sys of ticketd and its parse worker, per message.\n"
        "import only queues acknowledgements."
    )
    if failure or args.keep:
        print(f"work directory: {base}")
    if failure:
        print(f"error: {failure}", file=sys.stderr)
        return 1
    return 0 if all(r.tickets == r.truth.claims for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
