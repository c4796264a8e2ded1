"""Parsing ahead in a worker process, so parsing and database work use both cores.

Parsing is pure and the largest single cost of ingest; batches of at least
``MIN_PARALLEL`` messages are parsed by a spawned worker while the caller stores and
routes the messages already parsed. The worker also packs each raw message into its stored
form (digest and compression, ``store.raw_form``). Results come back in order. If
the worker dies, the rest of the batch is parsed in-process: slower, never lost. If ticketd
dies (even by SIGKILL), the worker follows within a second: it asks the kernel for a signal
when its parent dies (Linux) and watches its parent's pid besides (elsewhere).
"""

from __future__ import annotations

import functools
import logging
import multiprocessing
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from ticketd.daemon import collector
from ticketd.daemon.orphans import follow_parent
from ticketd.mail.message import InboundMessage
from ticketd.mail.parse import ParseLimits, parse
from ticketd.store.raw_form import PackedRaw, pack_raw

log = logging.getLogger(__name__)

MIN_PARALLEL = 32
CHUNK = 8


@dataclass(frozen=True, slots=True)
class Prepared:
    """One raw message made ready for the writer: its parse and its stored form."""

    message: InboundMessage
    packed: PackedRaw


def prepare(data: bytes, limits: ParseLimits) -> Prepared:
    """Parse and pack ``data`` (pure: runs in the worker or in-process alike)."""
    return Prepared(parse(data, limits=limits), pack_raw(data))


class BatchParser:
    """Parses a batch of raw messages, in a worker process when it pays off."""

    def __init__(self, limits: ParseLimits, workers: int) -> None:
        self.limits = limits
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def parse_all(self, datas: Sequence[bytes]) -> Iterator[Prepared]:
        """Parsed and packed messages, in the order of ``datas``."""
        one = functools.partial(prepare, limits=self.limits)
        if self.workers < 1 or len(datas) < MIN_PARALLEL:
            yield from map(one, datas)
            return
        done = 0
        try:
            for msg in self._executor().map(one, datas, chunksize=CHUNK):
                done += 1
                yield msg
        except BrokenProcessPool:
            log.warning("parse worker died; parsing the rest of the batch in-process")
            self.close()
            yield from map(one, datas[done:])

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=context,
                initializer=start_worker,
                initargs=(os.getpid(),),
            )
        return self._pool

    def close(self) -> None:
        """Stop the worker, if one was started."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def start_worker(parent: int) -> None:
    """In a new worker: end with ``parent`` and collect cycles as the parent does."""
    follow_parent(parent)
    collector.tune()
