"""Hostile mail in bulk (``bench/hostile.py``, every family, seeded) through the real
``ticketd import`` and ``run --once``: nothing crashes, every message is a ticket or held
with a reason, no parse takes over 2 s of CPU, and the import's memory stays bounded."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from bench.hostile import FAMILIES, Hostile, generate, write_mbox
from tests.e2e.support import Workspace, write_config
from ticketd.mail.parse import parse

SLICE = 200
SEED = 7
MAX_PARSE_CPU_SECONDS = 2.0
MAX_RSS_MIB = 400
PEAK = """
import os, sys
pid = os.posix_spawnp(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""
"""A bare interpreter that runs ticketd and writes its peak RSS (KiB): Linux carries the
peak across exec, so ticketd spawned from this big test process would report ours."""


@pytest.fixture(scope="module")
def corpus() -> list[Hostile]:
    return list(generate(SLICE, seed=SEED))


def test_the_slice_covers_every_family(corpus: list[Hostile]) -> None:
    assert {m.family for m in corpus} == set(FAMILIES)


def test_no_hostile_message_takes_over_two_seconds_of_cpu_to_parse(
    corpus: list[Hostile],
) -> None:
    slow = []
    for index, message in enumerate(corpus):
        started = time.process_time()
        parse(message.data)
        spent = time.process_time() - started
        if spent > MAX_PARSE_CPU_SECONDS:
            slow.append((index, message.family, round(spent, 2)))
    assert slow == []


def _ticketd(ws: Workspace, *args: str) -> tuple[int, str, int]:
    """``ticketd --config … ARGS`` in a fresh helper: exit code, stdout, peak RSS in KiB."""
    peak = ws.root / "peak"
    out = ws.root / "out"
    with out.open("wb") as stdout, (ws.root / "ticketd.log").open("ab") as stderr:
        pid = os.posix_spawn(
            sys.executable,
            [sys.executable, "-c", PEAK, str(peak), "ticketd", "--config", str(ws.config), *args],
            os.environ,
            file_actions=[
                (os.POSIX_SPAWN_DUP2, stdout.fileno(), 1),
                (os.POSIX_SPAWN_DUP2, stderr.fileno(), 2),
            ],
        )
        _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out.read_text(), int(peak.read_text())


def test_every_hostile_message_is_a_ticket_or_held_with_a_reason(
    tmp_path: Path, corpus: list[Hostile]
) -> None:
    ws = write_config(tmp_path)
    mbox = tmp_path / "hostile.mbox"
    write_mbox(mbox, iter(corpus))

    code, out, peak_kib = _ticketd(ws, "import", str(mbox))
    assert code == 0, (ws.root / "ticketd.log").read_text()[-3000:]
    assert f"imported {SLICE} messages" in out
    assert peak_kib / 1024 < MAX_RSS_MIB
    assert _ticketd(ws, "run", "--once")[0] == 0

    tickets = json.loads(_ticketd(ws, "ticket", "list", "--json")[1])
    held = json.loads(_ticketd(ws, "quarantine", "list", "--json")[1])
    assert len(tickets) + len(held) == SLICE
    assert all(row["reason"].strip() for row in held)
    assert not [row for row in held if row["state"] == "quarantined"], "processing failed"
