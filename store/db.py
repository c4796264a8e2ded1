"""Engine construction, schema migrations (Alembic) and transactions, for SQLite and
PostgreSQL."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Generator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from ticketd.routing.sla import DEFAULT_SLA, SlaPolicy
from ticketd.store.reader import Reader
from ticketd.store.sent_journal import SentJournal
from ticketd.store.writer import BuildNotice, Publish, Writer

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
POSTGRES_KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 3,
    "keepalives_count": 3,
}
"""TCP keepalives: a session whose server or path went away fails within half a minute
instead of hanging (the poller's lock connection above all)."""
_REVISION = re.compile(r"^(revision|down_revision)\s*=\s*(?:\"([^\"]*)\"|None)", re.MULTILINE)


def make_engine(url: str, *, read_only: bool = False) -> Engine:
    """An engine tuned for the backend: SQLite gets WAL, foreign keys and a busy timeout.

    SQLite writers take the write lock when their transaction begins (``BEGIN IMMEDIATE``)
    so two writers never deadlock on a lock upgrade; ``read_only`` engines do not.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, future=True, connect_args=POSTGRES_KEEPALIVES)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin_deferred if read_only else _sqlite_begin_immediate)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        "foreign_keys=ON",
        "synchronous=NORMAL",
        "busy_timeout=30000",
        "cache_size=-16384",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_begin_deferred(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


def head_revision() -> str | None:
    """The newest migration's revision, read from the migration files' headers (without
    Alembic: ``run --once`` checks the schema at every start)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for name, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            if value:
                (revisions if name == "revision" else parents).add(value)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def current_revision(engine: Engine) -> str | None:
    """The database's schema revision (None: no schema yet)."""
    with engine.connect() as connection:
        try:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except DBAPIError:
            return None


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the newest revision (idempotent; a database already
    at the newest revision costs one query and Alembic is not loaded)."""
    head = head_revision()
    if head is not None and current_revision(engine) == head:
        return
    # Alembic (with Mako and Pygments) takes half a second to load: only an upgrade needs it.
    from alembic import command
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as connection, _foreign_keys_off(connection), connection.begin():
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        _check_foreign_keys(connection)


@contextlib.contextmanager
def _foreign_keys_off(connection: Connection) -> Iterator[None]:
    """SQLite migrations rebuild tables (copy, drop, rename), which other tables' foreign
    keys refuse while they are enforced; SQLite only changes that outside a transaction."""
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        connection.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")  # type: ignore[union-attr]
    try:
        yield
    finally:
        if sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys = ON")  # type: ignore[union-attr]


def _check_foreign_keys(connection: Connection) -> None:
    """The rebuilt tables still satisfy every foreign key (else the upgrade rolls back)."""
    if connection.dialect.name == "sqlite":
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").first()
        if broken is not None:
            raise RuntimeError(f"migration broke a foreign key: {tuple(broken)}")


def refresh_statistics(engine: Engine) -> None:
    """Let SQLite's planner know the tables' sizes (an approximate ``ANALYZE``, bounded
    per index, so it stays fast on a large database): without them a big desk's queue
    reads the wrong index. PostgreSQL's autovacuum keeps its own."""
    if engine.dialect.name != "sqlite":
        return
    with engine.begin() as connection:
        connection.execute(text("PRAGMA analysis_limit=1000"))
        connection.execute(text("ANALYZE"))


PROBE_KEY = "storage-probe"
StorageFault = OperationalError
"""A write or read the database refused (a read-only or full disk, an I/O error, the
server gone): the storage's fault, never the message's."""


class Store:
    """The database as the rest of ticketd uses it: short read transactions, and write
    transactions that hand out the single ``Writer``.

    A write the database refuses (``OperationalError``: a read-only or full disk, an I/O
    error, the server gone) is remembered as ``write_failure`` until ``write_problem``
    proves writes commit again."""

    def __init__(
        self,
        engine: Engine,
        now: Callable[[], datetime],
        *,
        build_notice: BuildNotice | None = None,
        notify: bool = True,
        publish: Publish | None = None,
        sla: Callable[[], SlaPolicy] = lambda: DEFAULT_SLA,
    ) -> None:
        self.engine = engine
        self.now = now
        self.build_notice = build_notice
        self.notify = notify
        self.publish = publish
        self.sla = sla
        self.journal = SentJournal.beside(engine)
        """Where the flush notes mail the relay accepted (SQLite only)."""
        self.write_failure: str | None = None
        self.term: Callable[[], int | None] | None = None
        """The term this process polls for (None: not elected); set by the election, it
        fences the poller's writes."""

    @contextlib.contextmanager
    def write(self, *, poller: bool = False) -> Iterator[Writer]:
        """One transaction; everything the writer did commits when the block ends.

        ``poller`` marks the poller's work (the queue, the checkpoint, jobs, outbox
        claims): when this process takes part in the election, the transaction first
        checks that its term still holds and raises ``LostLeadership`` if not. A write the
        database refuses is remembered for ``write_problem``."""
        try:
            with self.engine.begin() as connection:
                writer = yield from self._writing(connection, poller)
            self._committed(writer)
        except OperationalError as exc:
            self.write_failure = f"{self.now().isoformat()}: {exc.orig or exc}"
            raise

    @contextlib.contextmanager
    def write_on(self, connection: Connection) -> Iterator[Writer]:
        """One transaction on a connection the caller holds (the election's own)."""
        with connection.begin():
            writer = yield from self._writing(connection, False)
        self._committed(writer)

    def _writing(self, connection: Connection, poller: bool) -> Generator[Writer, None, Writer]:
        writer = Writer(
            connection,
            self.now,
            build_notice=self.build_notice,
            notify=self.notify,
            publish=self.publish,
            sla=self.sla(),
            journal=self.journal,
        )
        if poller and self.term is not None:
            writer.fence(self.term())
        yield writer
        writer.finish()
        return writer

    def _committed(self, writer: Writer) -> None:
        """After a commit: the journal's notes it folded are done with."""
        if self.journal is not None:
            self.journal.discard(writer.journal_folded)

    def write_problem(self) -> str | None:
        """The last refused write, unless a small write now commits (then None)."""
        if self.write_failure is None:
            return None
        try:
            with self.write() as writer:
                writer.mark(PROBE_KEY, self.now().isoformat())
        except OperationalError:
            return self.write_failure
        self.write_failure = None
        return None

    @contextlib.contextmanager
    def read(self) -> Iterator[Reader]:
        """A read-only view of the committed state."""
        with self.engine.connect() as connection:
            yield Reader(connection)


class SchemaBehind(Exception):
    """The database is not at the newest schema revision (``current`` None: no schema)."""

    def __init__(self, message: str, current: str | None) -> None:
        super().__init__(message)
        self.current = current


def require_current(engine: Engine) -> None:
    """Raise ``SchemaBehind`` unless the database is at the newest revision."""
    head = head_revision()
    current = current_revision(engine)
    if current != head:
        raise SchemaBehind(
            f"the database is at schema revision {current or 'none'}, not {head}: "
            "run `ticketd init` first",
            current,
        )
