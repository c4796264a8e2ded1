"""One poller per database (the mailbox watcher, the runner, the jobs, the outbox flush).

PostgreSQL: several ``ticketd run`` processes may serve the web and accept SMTP; the one
holding a session-level advisory lock is the poller. SQLite: an exclusive ``flock`` on a
file next to the database plays the lock's part for the processes of its host.

Whoever takes the lock raises the leadership term (``store.leadership``) and fences the
poller's writes with it, so a process that lost the lock without noticing can commit
nothing more. A heartbeat on the lock's own session (every ``HEARTBEAT_SECONDS``, with TCP
keepalives under it) notices a session that ended (a restarted server, an idle timeout,
``pg_terminate_backend``) or a term taken over: the process stops polling at once and
stands by for the next election."""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import threading
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, func, select

from ticketd.store.db import Store
from ticketd.store.reader import Reader

log = logging.getLogger(__name__)

LOCK_KEY = 0x7469636B  # "tick"
RETRY_SECONDS = 5.0
HEARTBEAT_SECONDS = 2.0


def this_process() -> str:
    """``host:pid``, how a poller and an outbox claimer are named."""
    return f"{socket.gethostname()}:{os.getpid()}"


def describe(holder: str) -> str:
    """``host:pid`` as a person reads it."""
    host, _, pid = holder.rpartition(":")
    return f"pid {pid} on {host}" if host else holder


class Leadership:
    """Becomes the poller, stays it while the heartbeat holds, stands by otherwise.

    ``elected`` is set while this process polls; ``term_over`` is set when the current
    term ends (lost, released or stopping)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.holder = this_process()
        self.elected = threading.Event()
        self.term_over = threading.Event()
        self.term: int | None = None
        self._connection: Connection | None = None
        self._file: IO[str] | None = None
        database = store.engine.url.database
        self.lock_path = (
            Path(f"{database}.poller.lock")
            if not self.shared and database and database != ":memory:"
            else None
        )
        store.term = lambda: self.term if self.elected.is_set() else None

    @property
    def shared(self) -> bool:
        return self.store.engine.dialect.name == "postgresql"

    def try_acquire(self) -> bool:
        """One attempt; True when this process is (now) the poller."""
        if self.elected.is_set():
            return True
        if self.shared:
            connection = self.store.engine.connect()
            try:
                got = bool(connection.execute(select(func.pg_try_advisory_lock(LOCK_KEY))).scalar())
                connection.commit()
                if got:
                    self._connection = connection
                    self._begin()
                    return True
            except BaseException:
                self._close(connection)
                raise
            connection.close()
            return False
        if self.lock_path is not None and not self._lock_file(self.lock_path):
            return False
        try:
            self._begin()
        except BaseException:
            self._close()
            raise
        return True

    def _lock_file(self, path: Path) -> bool:
        handle = path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.truncate(0)
        handle.write(self.holder)
        handle.flush()
        self._file = handle
        return True

    def _begin(self) -> None:
        """Raise the term while holding the lock (on the lock's session when shared)."""
        if self._connection is None:
            with self.store.write() as writer:
                self.term = writer.begin_term(self.holder)
        else:
            with self.store.write_on(self._connection) as writer:
                self.term = writer.begin_term(self.holder)
        self.term_over.clear()
        self.elected.set()
        log.info("elected as the poller (term %d)", self.term)

    def holder_now(self) -> str:
        """Who holds the poller's lock, as a person reads it."""
        if self.lock_path is not None and self.lock_path.exists():
            found = self.lock_path.read_text(encoding="utf-8").strip()
        else:
            with self.store.read() as reader:
                found = reader.poller() or ""
        return describe(found) if found else "another process"

    def heartbeat(self) -> bool:
        """Whether this process is still the poller; on a lost session or term it stops
        being one at once."""
        connection = self._connection
        if not self.elected.is_set() or connection is None:
            return self.elected.is_set()
        try:
            term = Reader(connection).term()
            connection.rollback()
        except Exception as exc:
            self._lose(f"its database session ended ({type(exc).__name__})")
            return False
        if term != self.term:
            self._lose(f"term {self.term} was taken over (term {term})")
            return False
        return True

    def _lose(self, why: str) -> None:
        self.elected.clear()
        self.term_over.set()
        log.error("lost leadership: %s; stopped polling, standing by", why)
        self._close()

    def campaign(self, stop: threading.Event) -> None:
        """Until stopped: stand for election every ``RETRY_SECONDS``, and while elected
        check the lock every ``HEARTBEAT_SECONDS`` (run in a thread)."""
        while not stop.is_set():
            if self.elected.is_set():
                self.heartbeat()
            else:
                try:
                    self.try_acquire()
                except Exception:
                    log.exception("leader election failed; retrying")
            stop.wait(HEARTBEAT_SECONDS if self.elected.is_set() else RETRY_SECONDS)
        self.term_over.set()

    def release(self) -> None:
        """Give the lock back (closing the session frees it)."""
        self.elected.clear()
        self.term_over.set()
        self._close()

    def _close(self, connection: Connection | None = None) -> None:
        """End the lock's session (which frees the lock) and close the lock file."""
        connection = connection or self._connection
        self._connection = None
        if connection is not None:
            connection.invalidate()
            connection.close()
        handle, self._file = self._file, None
        if handle is not None:
            handle.close()
