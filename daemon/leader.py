"""One poller per database. With PostgreSQL, several ``ticketd run`` processes may serve
the web and accept SMTP; the one holding a session-level advisory lock is the poller
(mailbox watcher, runner, scheduler). If it dies its session ends, the lock is freed and
another process takes over. SQLite is single-host: its process is always the poller."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Connection, Engine, func, select

log = logging.getLogger(__name__)

LOCK_KEY = 0x7469636B  # "tick"
RETRY_SECONDS = 5.0


class Leadership:
    """Tries to become the poller until ``stop``; ``elected`` is set once it is."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.elected = threading.Event()
        self._connection: Connection | None = None

    @property
    def shared(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def try_acquire(self) -> bool:
        """One attempt; True when this process is (now) the poller."""
        if self.elected.is_set():
            return True
        if not self.shared:
            self.elected.set()
            return True
        connection = self.engine.connect()
        got = bool(connection.execute(select(func.pg_try_advisory_lock(LOCK_KEY))).scalar())
        connection.commit()
        if got:
            self._connection = connection
            self.elected.set()
            log.warning("elected as the poller")
        else:
            connection.close()
        return got

    def campaign(self, stop: threading.Event) -> None:
        """Retry until elected or stopped (run in a thread)."""
        while not stop.is_set():
            try:
                if self.try_acquire():
                    return
            except Exception:
                log.exception("leader election failed; retrying")
            stop.wait(RETRY_SECONDS)

    def release(self) -> None:
        """Give the lock back (closing the session frees it)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()
        self.elected.clear()
