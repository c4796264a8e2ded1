"""The store and the runner on real databases: SQLite always, PostgreSQL in its lane."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, event, func, select, text

from tests.builders import claim
from tests.fixtures.database import NewDatabase
from tests.unit.fakes import CTX as BASE_CTX
from tests.unit.fakes import FrozenClock
from ticketd.daemon.runner import Ingestor
from ticketd.mail.message import Address, RawMessage, Source
from ticketd.notifications.notices import NoticeFactory, NoticeSettings
from ticketd.notifications.render import Renderer
from ticketd.store.db import MIGRATIONS, StorageFault, Store, make_engine, migrate
from ticketd.store.inbound import MAX_ATTEMPTS, Position
from ticketd.store.pages import PageFacts, PagePublisher, SqlTicketReader
from ticketd.store.schema import inbound, mailbox_state, metadata, outbox, tickets
from ticketd.store.search import in_schema
from ticketd.store.writer import Publish
from ticketd.web.pages import PageRenderer
from ticketd.web.ports import WebSettings

CTX = replace(BASE_CTX, default_language="en")


class SecureRng:
    def token_bytes(self, n: int) -> bytes:
        import secrets

        return secrets.token_bytes(n)


@pytest.fixture
def engine(lane_engine: Engine) -> Engine:
    return lane_engine


def ingestor(
    engine: Engine, build: Callable[..., object] | None = None, publish: Publish | None = None
) -> Ingestor:
    clock, rng = FrozenClock(), SecureRng()
    notices = NoticeFactory(
        NoticeSettings(
            service_name="Example",
            support_address="support@example.com",
            sender=Address("support@example.com", "Example"),
            base_url="http://127.0.0.1:8080",
            secret_key="k" * 32,
            first_response_hours=24,
        ),
        Renderer.default(),
        rng.token_bytes,
        clock.now,
    )
    store = Store(
        engine,
        clock.now,
        build_notice=build or notices.build,  # type: ignore[arg-type]
        publish=publish,
    )
    return Ingestor(store, CTX, clock, rng)


def position(engine: Engine, mailbox: str) -> Position | None:
    with Store(engine, FrozenClock().now).read() as reader:
        return reader.position(mailbox)


def raw(data: bytes, uid: int | None = None) -> RawMessage:
    return RawMessage(data, Source.IMAP, datetime.now(UTC), uid=uid)


def count(engine: Engine, table: object, *where: object) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(select(func.count()).select_from(table).where(*where)).scalar()
        )  # type: ignore[arg-type]


def test_migrations_are_idempotent(engine: Engine) -> None:
    migrate(engine)
    migrate(engine)
    assert count(engine, tickets) == 0


def test_the_migrated_schema_is_the_one_the_code_uses(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(
            MigrationContext.configure(connection, opts={"include_name": in_schema}), metadata
        )
    assert differences == []


def test_smtp_mail_stored_before_trusted_relays_existed_is_not_believed(
    new_database: NewDatabase, tmp_path: Path
) -> None:
    old = make_engine(new_database(tmp_path / "old"))
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with old.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0004")
        for source in ("smtp", "imap", "import"):
            connection.execute(
                text(
                    "INSERT INTO inbound (source, message_id, raw_sha256, size, received_at,"
                    " state, attempts, reason) VALUES (:source, '', '', 0, :at, 'pending', 0, '')"
                ),
                {"source": source, "at": datetime(2026, 1, 1)},
            )
    migrate(old)
    with old.connect() as connection:
        rows = connection.execute(select(inbound.c.source, inbound.c.authres_trusted)).all()
    old.dispose()
    assert sorted(map(tuple, rows)) == [("imap", True), ("import", True), ("smtp", False)]


def test_whether_authentication_results_count_is_kept_until_processing(engine: Engine) -> None:
    runner = ingestor(engine)
    for trusted in (True, False):
        runner.enqueue(RawMessage(claim(), Source.SMTP, datetime.now(UTC), authres_trusted=trusted))
    with runner.store.write() as writer:
        claimed = writer.claim((), 10)
    assert [item.authres_trusted for item in claimed] == [True, False]


def test_batch_commits_tickets_outbox_and_checkpoint_together(engine: Engine) -> None:
    runner = ingestor(engine)
    batch = [raw(claim(subject=f"claim {i}", body=f"body {i}"), uid=i) for i in range(1, 6)]
    report = runner.ingest(batch, mailbox="box", checkpoint=Position(7, 5))
    assert report.counts["new"] == 5
    assert count(engine, tickets) == 5
    assert count(engine, outbox) == 10
    assert position(engine, "box") == Position(7, 5)


def test_published_pages_are_read_back_even_after_the_connection_dies(engine: Engine) -> None:
    settings = WebSettings(
        service_name="Example",
        language="ko",
        timezone="Asia/Seoul",
        secret_key="k" * 32,
        tracking_prefix="SUP",
        base_url="http://127.0.0.1:8080",
    )
    renderer, facts = PageRenderer(settings), PageFacts({}, 24)
    publisher = PagePublisher(
        lambda page, language: renderer.ticket(page, language, conversation=False),
        facts,
        generation="test",
        default_language="ko",
        languages=("ko", "en"),
    )
    ingestor(engine, publish=publisher.publish).ingest([raw(claim(), uid=1)])
    with engine.connect() as connection:
        number = connection.execute(select(tickets.c.tracking)).scalar_one()
    url = engine.url.render_as_string(hide_password=False)
    reader = SqlTicketReader(make_engine(url, read_only=True), facts, publisher.generation)
    page = reader.ticket_page(number)
    assert page is not None and page.tracking == number
    for language in ("ko", "en"):
        expected = renderer.ticket(page, language, conversation=False).encode()
        assert reader.published_page(number, language) == expected
    assert reader.published_page(number, "xx") is None
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
    assert reader.published_page(number, "ko") is not None
    reader.close()


def test_crash_before_commit_loses_nothing_and_duplicates_nothing(engine: Engine) -> None:
    batch = [raw(claim(subject=f"claim {i}", body=f"body {i}"), uid=i) for i in range(1, 4)]

    calls = {"n": 0}
    runner = ingestor(engine)
    real_build = runner.store.build_notice

    def build(*args: object) -> object:
        calls["n"] += 1
        if calls["n"] == 5:
            raise SystemExit("power cut")
        return real_build(*args)  # type: ignore[arg-type]

    runner.store.build_notice = build  # type: ignore[assignment]
    with pytest.raises(SystemExit):
        runner.ingest(batch, mailbox="box", checkpoint=Position(7, 3))
    assert count(engine, tickets) == 0
    assert count(engine, inbound) == 0
    assert count(engine, mailbox_state) == 0
    runner = ingestor(engine)
    assert runner.ingest(batch, mailbox="box", checkpoint=Position(7, 3)).counts == {"queued": 3}
    runner.ingest(batch, mailbox="box", checkpoint=Position(7, 3))
    runner.process_pending()
    assert count(engine, tickets) == 3
    assert count(engine, outbox) == 6
    assert position(engine, "box") == Position(7, 3)


class ProcessKilled(BaseException):
    """What a segfault or the OOM killer looks like from inside: nothing after it runs."""


def killing(runner: Ingestor, subject: str) -> list[int]:
    """Make ``runner`` die whenever it routes a message with ``subject``; count the deaths."""
    deaths: list[int] = []
    real_build = runner.store.build_notice

    def build(*args: object) -> object:
        msg = getattr(args[-1], "message", None)
        if msg is not None and getattr(msg, "subject", "") == subject:
            deaths.append(1)
            raise ProcessKilled
        return real_build(*args)  # type: ignore[arg-type]

    runner.store.build_notice = build  # type: ignore[assignment]
    return deaths


def restart_until_done(engine: Engine, subject: str, runs: int = 6) -> int:
    """Run the queue like a supervisor restarting ticketd after each death."""
    deaths = 0
    for _ in range(runs):
        runner = ingestor(engine)
        died = killing(runner, subject)
        with contextlib.suppress(ProcessKilled):
            runner.process_pending()
        deaths += len(died)
        if not died:
            break
    return deaths


def test_a_message_that_kills_the_process_is_quarantined_and_nothing_else_is_lost(
    engine: Engine,
) -> None:
    runner = ingestor(engine)
    for subject in ("first", "killer", "second", "third"):
        runner.enqueue(RawMessage(claim(subject=subject), Source.SMTP, datetime.now(UTC)))
    assert restart_until_done(engine, "killer") == MAX_ATTEMPTS
    assert count(engine, tickets) == 3
    assert count(engine, inbound, inbound.c.state == "done") == 3
    with engine.connect() as connection:
        state, reason = connection.execute(
            select(inbound.c.state, inbound.c.reason).where(inbound.c.state != "done")
        ).one()
    assert state == "quarantined" and f"stopped {MAX_ATTEMPTS} times" in reason


def test_an_imap_batch_that_kills_the_process_is_queued_when_fetched_again(
    engine: Engine,
) -> None:
    batch = [raw(claim(subject=s), uid=i) for i, s in enumerate(("a", "killer", "b"), 1)]
    runner = ingestor(engine)
    killing(runner, "killer")
    with pytest.raises(ProcessKilled):
        runner.ingest(batch, mailbox="box", checkpoint=Position(9, 3))
    assert count(engine, inbound) == 0
    again = ingestor(engine)
    killing(again, "killer")
    assert again.ingest(batch, mailbox="box", checkpoint=Position(9, 3)).counts == {"queued": 3}
    restart_until_done(engine, "killer")
    assert count(engine, tickets) == 2
    assert count(engine, inbound, inbound.c.state == "quarantined") == 1
    more = [raw(claim(subject="c"), uid=4)]
    assert ingestor(engine).ingest(more, mailbox="box", checkpoint=Position(9, 4)).counts == {
        "new": 1
    }


def test_a_failing_message_is_retried_then_quarantined_without_blocking_others(
    engine: Engine,
) -> None:
    poison = claim(subject="poison", body="boom")
    runner = ingestor(engine)
    real_build = runner.store.build_notice

    def build(*args: object) -> object:
        msg = getattr(args[-1], "message", None)
        if msg is not None and getattr(msg, "subject", "") == "poison":
            raise RuntimeError("template exploded")
        return real_build(*args)  # type: ignore[arg-type]

    runner.store.build_notice = build  # type: ignore[assignment]
    report = runner.ingest(
        [raw(poison, 1), raw(claim(subject="fine", body="ok"), 2)],
        mailbox="box",
        checkpoint=Position(1, 2),
    )
    assert report.counts == {"failed": 1, "new": 1}
    assert count(engine, tickets) == 1
    assert count(engine, inbound, inbound.c.state == "retry") == 1
    runner.process_pending()
    assert count(engine, inbound, inbound.c.state == "quarantined") == 1
    with engine.connect() as connection:
        attempts, reason = connection.execute(
            select(inbound.c.attempts, inbound.c.reason).where(inbound.c.state == "quarantined")
        ).one()
    assert attempts == 3
    assert "template exploded" in reason
    runner.process_pending()
    assert count(engine, tickets) == 1


def test_refused_commits_never_count_against_the_message(engine: Engine) -> None:
    """A database that refuses the batch's commit again and again (a full disk) is the
    storage's fault: once it accepts writes again the message is a ticket, not quarantined."""
    runner = ingestor(engine)
    runner.enqueue(RawMessage(claim(subject="innocent"), Source.SMTP, datetime.now(UTC)))
    driver = engine.dialect.loaded_dbapi

    def refuse(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO TICKETS"):
            raise driver.OperationalError("database or disk is full")

    event.listen(engine, "before_cursor_execute", refuse)
    try:
        for _ in range(MAX_ATTEMPTS + 2):
            with pytest.raises(StorageFault):
                runner.process_pending()
    finally:
        event.remove(engine, "before_cursor_execute", refuse)
    assert runner.process_pending().counts == {"new": 1}
    with engine.connect() as connection:
        state, attempts = connection.execute(select(inbound.c.state, inbound.c.attempts)).one()
    assert (state, attempts) == ("done", 1)


def test_smtp_enqueue_is_durable_before_processing(engine: Engine) -> None:
    runner = ingestor(engine)
    runner.enqueue(RawMessage(claim(), Source.SMTP, datetime.now(UTC)))
    assert count(engine, inbound, inbound.c.state == "pending") == 1
    assert count(engine, tickets) == 0
    runner.process_pending()
    assert count(engine, tickets) == 1
    assert count(engine, inbound, inbound.c.state == "done") == 1


def test_identical_copies_store_the_raw_bytes_once(engine: Engine) -> None:
    data = claim()
    ingestor(engine).ingest([raw(data, 1), raw(data, 2)], mailbox="b", checkpoint=Position(1, 2))
    assert count(engine, inbound) == 2
    assert count(engine, inbound, inbound.c.raw.is_not(None)) == 1
    assert count(engine, tickets) == 1
