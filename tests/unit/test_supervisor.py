"""Supervised workers: a loop that raises is reported down, then restarted with backoff."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from ticketd.daemon.supervisor import WorkerState, backoff, supervise


def test_a_failing_worker_is_down_during_its_backoff_then_runs_again() -> None:
    stop = threading.Event()
    state = WorkerState("imap")
    waited: list[float] = []
    seen_during_backoff: list[tuple[bool, str | None]] = []
    calls = 0

    def loop() -> None:
        nonlocal calls
        calls += 1
        if calls <= 3:
            raise ConnectionError(f"database gone ({calls})")
        assert state.running
        stop.set()

    def delays() -> Iterator[float]:
        for delay in (0.01, 0.02, 0.04):
            seen_during_backoff.append((state.running, state.last_error))
            waited.append(delay)
            yield delay

    supervise(state, loop, stop, delays)
    assert calls == 4 and waited == [0.01, 0.02, 0.04]
    assert seen_during_backoff[0] == (False, "ConnectionError: database gone (1)")
    assert state.restarts == 3 and state.failed_at is not None
    assert state.last_error == "ConnectionError: database gone (3)"


def test_stopping_during_the_backoff_ends_the_worker_at_once() -> None:
    stop = threading.Event()
    state = WorkerState("runner")

    def loop() -> None:
        stop.set()
        raise RuntimeError("boom")

    supervise(state, loop, stop)
    assert not state.running and state.restarts == 0


def test_backoff_grows_to_a_minute_at_most() -> None:
    delays = backoff()
    first = [next(delays) for _ in range(30)]
    assert all(0 <= d <= min(60, 2**i) for i, d in enumerate(first))
    assert max(first[10:]) <= 60 and sum(first[10:]) / 20 > 15
