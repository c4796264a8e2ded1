"""Sent mail noted beside SQLite's single writer: the notes reach the outbox at the next
claim, at the end of the flush and at the next election; a crash resends only the mail in
flight; and ``run --once`` sends the mail of committed batches while it ingests the rest."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from tests.builders import claim
from tests.e2e.support import write_config
from tests.edges.test_outbox_delivery import states
from tests.edges.test_store import ingestor, raw
from tests.unit.fakes import FrozenClock
from ticketd.daemon.config import load_config
from ticketd.daemon.delivery import flush_outbox
from ticketd.daemon.once import delivering_alongside, flush
from ticketd.daemon.wiring import build
from ticketd.mail.message import RawMessage, Source
from ticketd.mail.transport import MaildirTransport, SendResult
from ticketd.store.db import Store
from ticketd.store.inbound import Position
from ticketd.store.schema import outbox
from ticketd.store.sent_journal import SentJournal

pytestmark = pytest.mark.sqlite_only

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def queue_claims(engine: Engine, n: int) -> None:
    """``n`` claims from ``n`` customers: ``n`` acknowledgements (and the owners' notices)."""
    mails = [claim(subject=f"claim {i}", sender=f"c{i}@acme.co.kr") for i in range(n)]
    batch = [raw(mail, uid=i + 1) for i, mail in enumerate(mails)]
    ingestor(engine).ingest(batch, mailbox="box", checkpoint=Position(1, n))


def test_a_note_added_while_a_fold_commits_is_kept(tmp_path: Path) -> None:
    journal = SentJournal(tmp_path / "ticketd.db-sent")
    journal.note(1, "<a@x>", NOW)
    journal.note(2, "<b@x>", NOW)
    folded = journal.read()
    journal.note(3, "<c@x>", NOW)
    SentJournal(journal.path).discard(folded)  # another flusher's fold
    assert [(s.mail_id, s.message_id, s.at) for s in journal.read().sent] == [(3, "<c@x>", NOW)]


def test_a_torn_or_unreadable_line_is_skipped(tmp_path: Path) -> None:
    journal = SentJournal(tmp_path / "ticketd.db-sent")
    journal.note(1, "<a@x>", NOW)
    with journal.path.open("ab") as handle:
        handle.write(b"garbage\n7\t<torn@x>\t2026-03")  # killed in the middle of a write
    noted = journal.read()
    assert [s.mail_id for s in noted.sent] == [1]
    journal.discard(noted)
    journal.note(2, "<b@x>", NOW)
    assert [s.mail_id for s in journal.read().sent] == [2]


def test_a_flush_leaves_every_mail_marked_and_the_journal_empty(
    lane_engine: Engine, tmp_path: Path
) -> None:
    queue_claims(lane_engine, 60)  # more than one claim of 50
    store = Store(lane_engine, FrozenClock().now)
    assert store.journal is not None
    report = flush_outbox(store, MaildirTransport(tmp_path / "out"), FrozenClock(), claimer="t")
    assert report.sent == len(states(lane_engine)) >= 60
    assert set(states(lane_engine)) == {"sent"}
    assert store.journal.read().sent == ()
    with lane_engine.connect() as connection:
        assert set(connection.execute(select(outbox.c.attempts)).scalars()) == {1}


def test_a_killed_flusher_resends_nothing_it_noted(lane_engine: Engine) -> None:
    """The dead poller's relay took three mails and it noted two: the next poller's
    election folds those, so only the unnoted one goes again; a note whose Message-ID does
    not match its row (a backup restored beside an old journal) marks nothing."""
    queue_claims(lane_engine, 4)
    dead = Store(lane_engine, FrozenClock().now)
    with dead.write(poller=True) as writer:
        claimed = writer.claim_mail("host:1")
    assert dead.journal is not None and len(claimed) >= 4
    for item in claimed[:2]:
        dead.journal.note(item.id, item.mail.message_id, NOW)
    dead.journal.note(claimed[3].id, "<restored@elsewhere>", NOW)
    assert set(states(lane_engine)) == {"sending"}

    with Store(lane_engine, FrozenClock().now).write() as writer:
        writer.begin_term("host:2")
    assert states(lane_engine)[:4] == ["sent", "sent", "pending", "pending"]
    assert dead.journal.read().sent == ()


class RecordingTransport:
    """Delivers nothing; notes each mail and when it came."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.arrived = threading.Event()

    def send(self, msg: object) -> SendResult:
        self.sent.append(msg.message_id)  # type: ignore[attr-defined]
        self.arrived.set()
        return SendResult(delivered=msg.recipients)  # type: ignore[attr-defined]

    def close(self) -> None:
        """Nothing to release."""


def test_run_once_sends_a_committed_batch_while_it_ingests_the_next(tmp_path: Path) -> None:
    components = build(load_config(write_config(tmp_path).config))
    transport = RecordingTransport()
    components.transport = lambda: transport  # type: ignore[method-assign]

    def batch(first: int) -> list[RawMessage]:
        return [
            RawMessage(claim(subject=f"claim {n}", sender=f"c{n}@acme.co.kr"),
                       Source.IMAP, NOW, uid=n)
            for n in range(first, first + 3)
        ]  # fmt: skip

    try:
        with delivering_alongside(components) as alongside:
            components.ingestor.ingest(batch(1), mailbox="box", checkpoint=Position(1, 3))
            assert transport.arrived.wait(10), "nothing sent while the block went on"
            deadline = time.monotonic() + 10
            while len(transport.sent) < 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            sent_before_second = len(transport.sent)
            components.ingestor.ingest(batch(4), mailbox="box", checkpoint=Position(1, 6))
        assert sent_before_second >= 3
        assert alongside.sent == len(transport.sent)
        final = flush(components, ignore_schedule=True)  # what run --once does next
        assert alongside.sent + final.sent == len(transport.sent) == len(set(transport.sent))
        assert len(transport.sent) >= 6
        assert set(states(components.engine)) == {"sent"}
    finally:
        components.close()


def test_notes_are_never_lost_while_another_flusher_folds(tmp_path: Path) -> None:
    """One flusher notes 300 mails while another, with its own handle on the file, folds
    and discards what it read, over and over: every note is folded once or still there."""
    path = tmp_path / "ticketd.db-sent"
    folded: list[int] = []
    writing = threading.Event()

    def fold() -> None:
        other = SentJournal(path)
        while writing.is_set() or other.read().sent:
            noted = other.read()
            folded.extend(s.mail_id for s in noted.sent)
            other.discard(noted)

    writing.set()
    folder = threading.Thread(target=fold)
    folder.start()
    journal = SentJournal(path)
    for n in range(300):
        journal.note(n, f"<{n}@x>", NOW)
    writing.clear()
    folder.join(10)
    assert sorted(folded) == list(range(300))
