"""Worker threads that cannot die quietly: a worker whose loop raises is logged, reported
down, and started again after an exponential backoff with jitter."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from ticketd.mail.imap import reconnect_delays

log = logging.getLogger(__name__)

BACKOFF_CAP_SECONDS = 60.0
HEALTHY_RUN_SECONDS = 60.0
"""A worker that ran this long before failing starts its backoff from the beginning."""


@dataclass
class WorkerState:
    """One supervised worker as ``/healthz`` shows it."""

    name: str
    running: bool = False
    restarts: int = 0
    last_error: str | None = None
    failed_at: datetime | None = None


def backoff() -> Iterator[float]:
    """Exponential backoff with full jitter, capped at a minute."""
    return reconnect_delays(cap=BACKOFF_CAP_SECONDS)


def supervise(
    state: WorkerState,
    loop: Callable[[], object],
    stop: threading.Event,
    delays: Callable[[], Iterator[float]] = backoff,
) -> None:
    """Run ``loop`` until it returns or ``stop`` is set; each time it raises, mark the
    worker down, log why, wait the next backoff delay and run it again."""
    schedule = delays()
    while not stop.is_set():
        state.running = True
        started = time.monotonic()
        try:
            loop()
        except Exception as exc:
            state.running = False
            state.last_error = f"{type(exc).__name__}: {exc}"[:500]
            state.failed_at = datetime.now(UTC)
            if time.monotonic() - started >= HEALTHY_RUN_SECONDS:
                schedule = delays()
            delay = next(schedule)
            log.exception("worker %s failed; restarting it in %.1f s", state.name, delay)
            if stop.wait(delay):
                return
            state.restarts += 1
            continue
        state.running = False
        return
