"""A 100,000-message mailbox: the first full sync, then what an idle cycle costs on the wire.

A private Dovecot (``tests/fixtures/dovecot.py``) gets the corpus as files with a
``dovecot-uidlist`` (``bench/mailbox_fill.py``: seconds, not the minutes APPEND takes).
ticketd reaches it through a counting TCP proxy (``bench/wire.py``), so bytes and commands
are counted at the wire, both ways. Then:

1. ``ticketd run --once`` with ``start = "all"``: the first full sync, its wall time, msgs/s
   and peak RSS (``wait4``), and the tickets against the corpus's truth;
2. ``ticketd run`` with ``idle = false`` and ``poll_interval = 1`` on the synced database:
   the commands and bytes of each poll cycle that finds nothing new (target: the same at any
   mailbox size, under 2 KB);
3. ``ticketd run`` with IDLE: the commands and bytes while waiting in IDLE. The fixture's
   Dovecot sends its ``* OK Still here`` keep-alive every second
   (``imap_idle_notify_interval``; Dovecot's default is 2 minutes), which is most of that.

Run from the repository root (needs ``dovecot-imapd``)::

    python -m bench.sync_100k                      # 100,000 messages (several minutes)
    python -m bench.sync_100k --messages 10000     # a quick check
    python -m bench.sync_100k --idle-cycles 20 --keep
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.daemon_run import running_daemon, vmhwm_mib, wait_until
from bench.ingest import BenchError, Result, measure, smtp_sink, write_config
from bench.mailbox_fill import fill_inbox
from bench.wire import Command, CountingProxy, counting_proxy
from tests.fixtures.dovecot import DovecotServer, running_dovecot

IDLE_BUDGET = 2048  # bytes per idle poll cycle, both ways
IDLE_SECONDS = 20.0


@dataclasses.dataclass(frozen=True, slots=True)
class Wire:
    """What went over the wire in a window: bytes each way and the client's commands."""

    seconds: float
    up: int
    down: int
    commands: tuple[Command, ...]

    def verbs(self) -> str:
        return " ".join(c.verb for c in self.commands) or "none"


def _window(proxy: CountingProxy, started: tuple[int, int, int], since: float) -> Wire:
    up, down, count = proxy.traffic.snapshot()
    with proxy.traffic.lock:
        commands = tuple(proxy.traffic.commands[started[2] : count])
    return Wire(time.monotonic() - since, up - started[0], down - started[1], commands)


def _examines(proxy: CountingProxy, start: int = 0) -> int:
    with proxy.traffic.lock:
        return sum(c.verb in ("EXAMINE", "SELECT") for c in proxy.traffic.commands[start:])


def idle_polls(config: Path, proxy: CountingProxy, cycles: int) -> tuple[Wire, float]:
    """The daemon polling every second: the wire over ``cycles`` cycles after its first two
    (log-in and the first look), and the daemon's peak RSS."""
    offset = proxy.traffic.snapshot()[2]
    with running_daemon(config) as daemon:
        wait_until(lambda: _examines(proxy, offset) >= 2, 60, "the daemon's second poll")
        time.sleep(0.5)  # mid-cycle: the second poll's answer is in
        started, since = proxy.traffic.snapshot(), time.monotonic()
        wait_until(lambda: _examines(proxy, started[2]) >= cycles, 10 + 3 * cycles, "polls")
        time.sleep(0.5)
        wire = _window(proxy, started, since)
        return wire, vmhwm_mib(daemon.pid)


def idle_wait(config: Path, proxy: CountingProxy) -> Wire:
    """The daemon waiting in IDLE for ``IDLE_SECONDS``, once it entered IDLE."""
    offset = proxy.traffic.snapshot()[2]

    def in_idle() -> bool:
        with proxy.traffic.lock:
            return any(c.verb == "IDLE" for c in proxy.traffic.commands[offset:])

    with running_daemon(config):
        wait_until(in_idle, 60, "the daemon's IDLE")
        time.sleep(0.5)
        started, since = proxy.traffic.snapshot(), time.monotonic()
        time.sleep(IDLE_SECONDS)
        return _window(proxy, started, since)


def _mailbox(server: DovecotServer, proxy: CountingProxy, idle: bool) -> dict[str, Any]:
    return {"host": "127.0.0.1", "port": proxy.port, "security": "none",
            "username": server.user, "password": server.password, "folder": "INBOX",
            "idle": idle, "poll_interval": 1, "start": "all"}  # fmt: skip


def run(messages: int, seed: int, cycles: int, base: Path) -> int:
    """The three steps (see the module docstring); prints the tables; 1 if tickets are wrong
    or an idle cycle is over budget."""
    with running_dovecot() as server, counting_proxy((server.host, server.port)) as proxy:
        started = time.perf_counter()
        truth = fill_inbox(server, messages, seed, base / "corpus")
        filled = time.perf_counter() - started
        print(f"  wrote {messages} messages into Dovecot's Maildir in {filled:.1f} s", flush=True)
        workdir = base / "desk"
        workdir.mkdir()
        with smtp_sink() as (smtp_port, sink):
            outbound = {"transport": "smtp", "host": "127.0.0.1", "port": smtp_port,
                        "security": "none"}  # fmt: skip
            config = write_config(workdir, outbound, _mailbox(server, proxy, idle=False))
            print("  first sync: ticketd run --once ...", flush=True)
            result: Result = measure("first sync", config, ["run", "--once"], truth)
            up, down, _ = proxy.traffic.snapshot()
            print(f"  idle polls: ticketd run, {cycles} cycles ...", flush=True)
            polls, daemon_rss = idle_polls(config, proxy, cycles)
            config = write_config(workdir, outbound, _mailbox(server, proxy, idle=True))
            print(f"  IDLE: ticketd run, {IDLE_SECONDS:.0f} s ...", flush=True)
            waiting = idle_wait(config, proxy)
            sent = sink.received
    ingest = f"{messages / result.ingest_seconds:.0f}" if result.ingest_seconds else "-"
    ok = result.tickets == truth.claims
    print(f"\nfirst full sync of {messages} messages (run --once, start = all)")
    print(f"{'seconds':>8} {'msgs/s':>7} {'ingest/s':>8} {'RSS MiB':>8} {'tickets':>8} "
          f"{'claims':>7} {'mail out':>9} {'MiB down':>9} {'KiB up':>7}  ok")  # fmt: skip
    print(f"{result.seconds:>8.1f} {messages / result.seconds:>7.0f} {ingest:>8} "
          f"{result.peak_rss_mib:>8.1f} {result.tickets:>8} {truth.claims:>7} {sent:>9} "
          f"{down / 2**20:>9.1f} {up / 1024:>7.1f}  {'yes' if ok else 'NO'}")  # fmt: skip
    per_cycle = (polls.up + polls.down) / max(1, cycles)
    verbs = {c.verb for c in polls.commands}
    one_cycle = " ".join(c.verb for c in polls.commands[: len(polls.commands) // max(1, cycles)])
    print(f"\nidle poll cycles (daemon, poll_interval 1 s, nothing new; daemon peak RSS "
          f"{daemon_rss:.1f} MiB)")  # fmt: skip
    print(f"{'cycles':>6} {'commands':>8} {'bytes up':>8} {'down':>6} {'per cycle':>9}  "
          f"{'budget':>6}  one cycle's commands")  # fmt: skip
    print(f"{cycles:>6} {len(polls.commands):>8} {polls.up:>8} {polls.down:>6} "
          f"{per_cycle:>9.0f}  {IDLE_BUDGET:>6}  {one_cycle} "
          f"(all: {' '.join(sorted(verbs))})")  # fmt: skip
    print(f"\nwaiting in IDLE for {waiting.seconds:.0f} s: {len(waiting.commands)} commands "
          f"({waiting.verbs()}), {waiting.up} bytes up, {waiting.down} bytes down "
          f"({waiting.down / waiting.seconds:.0f} B/s: Dovecot's keep-alives)")  # fmt: skip
    return 0 if ok and per_cycle < IDLE_BUDGET else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--idle-cycles", type=int, default=10)
    parser.add_argument("--keep", action="store_true", help="keep the work directory and logs")
    args = parser.parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="ticketd-bench-sync-"))
    try:
        code = run(args.messages, args.seed, args.idle_cycles, base)
    except BenchError as exc:
        print(f"error: {exc}\nwork directory: {base}", file=sys.stderr)
        return 1
    if args.keep:
        print(f"work directory: {base}")
    else:
        shutil.rmtree(base, ignore_errors=True)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
