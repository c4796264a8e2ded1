"""The search index on the lane's real database: texts stored through the real pipeline and
the Writer are found at once, in Korean and English, word by word."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, event, func, select, text

from tests.builders import claim
from tests.e2e.support import write_config, write_mbox
from tests.edges.test_store import ingestor, raw
from tests.unit.fakes import FrozenClock
from ticketd.routing.effects import AddNote, Decision, Disposition, MergeInto
from ticketd.routing.model import TicketRef
from ticketd.store.db import MIGRATIONS, Store, make_engine, migrate
from ticketd.store.lookup import ticket_ref
from ticketd.store.schema import search_documents, tickets
from ticketd.store.search import (
    SOURCES,
    TICKET_SPAN,
    BadCursor,
    Found,
    SearchIndex,
    excerpt,
)

INDEX = SearchIndex()


def find(engine: Engine, query: str, cursor: str | None = None, limit: int = 50) -> list[Found]:
    with engine.connect() as connection:
        return INDEX.find(connection, query, cursor, limit)[0]


def subjects(engine: Engine, query: str) -> list[str]:
    """The subjects of the tickets found, best first."""
    with engine.connect() as connection:
        names = dict(connection.execute(select(tickets.c.id, tickets.c.subject)).all())
    return [names[hit.ticket_id] for hit in find(engine, query)]


def ticket(engine: Engine, subject: str) -> TicketRef:
    with engine.connect() as connection:
        row = connection.execute(select(tickets).where(tickets.c.subject == subject)).one()
    return ticket_ref(row._mapping)


def apply(engine: Engine, *effects: object) -> None:
    with Store(engine, FrozenClock().now).write() as writer:
        writer.apply(Decision(Disposition.COMMAND, (), effects))  # type: ignore[arg-type]


def rebuild(engine: Engine) -> None:
    store = Store(engine, FrozenClock().now)
    with store.write() as writer:
        writer.clear_search_index()
    for source in SOURCES:
        after: int | None = 0
        while after is not None:
            with store.write() as writer:
                _, after = writer.index_stored(source, after, 2)


@pytest.fixture
def desk(lane_engine: Engine) -> Iterator[Engine]:
    """Tickets stored through the real pipeline, one with a reply and one with a note."""
    mails = [
        claim("로그인 문의", "로그인이 안 됩니다. 비밀번호를 바꿨어요."),
        claim("배송 지연", "주문한 상품의 배송이 늦어요."),
        claim("Cannot log in", "The Admin page answers ERROR 500 since yesterday."),
        claim("Invoice question", "Please send the invoice for March."),
        claim("Quoting", 'He said "hi" * NEAR(x) OR - it\'s 100% a_b done'),
    ]
    ingestor(lane_engine).ingest([raw(m, uid=i) for i, m in enumerate(mails, 1)])
    apply(lane_engine, AddNote(ticket(lane_engine, "Invoice question"), "환불 요청 메모", "a@x"))
    yield lane_engine


def test_korean_substrings_are_found(desk: Engine) -> None:
    assert subjects(desk, "로그인") == ["로그인 문의"]
    assert subjects(desk, "됩니다") == ["로그인 문의"]
    assert subjects(desk, "배송") == ["배송 지연"]
    assert subjects(desk, "늦어") == ["배송 지연"]


def test_english_is_case_insensitive(desk: Engine) -> None:
    assert subjects(desk, "admin error") == ["Cannot log in"]
    assert subjects(desk, "CANNOT") == ["Cannot log in"]
    assert subjects(desk, "invoice") == ["Invoice question"]


def test_every_word_must_match_somewhere_in_the_ticket(desk: Engine) -> None:
    assert subjects(desk, "cannot yesterday") == ["Cannot log in"]
    assert subjects(desk, "admin nowhere") == []
    assert subjects(desk, "배송 늦어요") == ["배송 지연"]
    assert subjects(desk, "배송 로그인") == []
    assert subjects(desk, "admin OR invoice") == []
    assert subjects(desk, "문의 비밀번호") == ["로그인 문의"]


def test_notes_are_found_and_said_to_be_notes(desk: Engine) -> None:
    [hit] = find(desk, "환불")
    assert (hit.where, hit.excerpt) == ("note", "환불 요청 메모")
    [hit] = find(desk, "요청 메모")
    assert hit.where == "note"


def test_the_best_document_gives_the_excerpt(desk: Engine) -> None:
    [by_subject] = find(desk, "문의")
    assert (by_subject.where, by_subject.excerpt) == ("subject", "로그인 문의")
    [by_message] = find(desk, "비밀번호")
    assert by_message.where == "message"
    assert by_message.excerpt == "로그인이 안 됩니다. 비밀번호를 바꿨어요."
    ingestor(desk).ingest([raw(claim("Admin rights", "please"), uid=9)])
    assert subjects(desk, "admin") == ["Admin rights", "Cannot log in"]


def test_the_newest_ticket_comes_first_wherever_the_word_is(desk: Engine) -> None:
    ingestor(desk).ingest([raw(claim("Account", "the invoice PDF is blank"), uid=10)])
    assert subjects(desk, "invoice") == ["Account", "Invoice question"]
    [newest, older] = find(desk, "invoice")
    assert (newest.where, older.where) == ("message", "subject")


def test_a_ticket_with_many_texts_is_listed_once(desk: Engine) -> None:
    tracking = ticket(desk, "Cannot log in").tracking
    replies = [raw(claim(f"Re: [{tracking}] x", f"admin again {i}"), uid=40 + i) for i in range(5)]
    ingestor(desk).ingest(replies)
    ingestor(desk).ingest([raw(claim("Other", "admin too"), uid=50)])
    with desk.connect() as connection:
        first, cursor = INDEX.find(connection, "admin", None, 1)
        second, last = INDEX.find(connection, "admin", cursor, 1)
    assert [h.ticket_id for h in first + second] == [
        ticket(desk, "Other").id,
        ticket(desk, "Cannot log in").id,
    ]
    assert last is None


@pytest.mark.parametrize("query", ['"hi"', "*", "NEAR(", "NEAR(x)", "-", "it's", "100%"])
def test_query_syntax_is_matched_literally(desk: Engine, query: str) -> None:
    assert subjects(desk, query) == ["Quoting"]


@pytest.mark.parametrize("query", ['"', "'", "%", "_", "a_b", '" OR "', "x%y", "\\", "a*b"])
def test_syntax_characters_never_fail_nor_match_everything(desk: Engine, query: str) -> None:
    assert set(subjects(desk, query)) <= {"Quoting"}
    assert subjects(desk, "a_b") == ["Quoting"]
    assert subjects(desk, "a%b") == []


def test_a_reply_stored_by_the_pipeline_is_found_without_a_rebuild(desk: Engine) -> None:
    tracking = ticket(desk, "배송 지연").tracking
    reply = claim(f"Re: [{tracking}] 배송 지연", "택배사에서 분실했다고 합니다")
    ingestor(desk).ingest([raw(reply, uid=20)])
    [hit] = find(desk, "분실")
    assert (hit.ticket_id, hit.where) == (ticket(desk, "배송 지연").id, "message")


def test_texts_are_compared_normalised(desk: Engine) -> None:
    decomposed = unicodedata.normalize("NFD", "환불해 주세요")
    ingestor(desk).ingest([raw(claim("ＦＵＬＬ width", decomposed), uid=30)])
    assert subjects(desk, "환불해") == ["ＦＵＬＬ width"]
    assert subjects(desk, "full") == ["ＦＵＬＬ width"]
    assert subjects(desk, unicodedata.normalize("NFD", "주세요")) == ["ＦＵＬＬ width"]


def test_merged_tickets_are_still_found(desk: Engine) -> None:
    apply(desk, MergeInto(ticket(desk, "배송 지연"), ticket(desk, "로그인 문의"), "a@x"))
    assert subjects(desk, "배송") == ["배송 지연"]


def test_paging_walks_every_ticket_once_newest_first(lane_engine: Engine) -> None:
    batch = [raw(claim(f"refund {i}", "환불"), uid=i) for i in range(1, 8)]
    ingestor(lane_engine).ingest(batch)
    seen: list[int] = []
    cursor: str | None = None
    with lane_engine.connect() as connection:
        for _ in range(4):
            page, cursor = INDEX.find(connection, "환불 refund", cursor, 3)
            seen += [hit.ticket_id for hit in page]
            if cursor is None:
                break
        assert cursor is None
        with pytest.raises(BadCursor):
            INDEX.find(connection, "refund", "not-a-cursor!", 3)
    assert seen == sorted(seen, reverse=True) and len(set(seen)) == 7


def test_a_rebuild_gives_the_same_results(desk: Engine) -> None:
    queries = ["로그인", "배송", "admin error", "환불", "NEAR(", "문의"]
    before = {q: find(desk, q) for q in queries}
    with desk.begin() as connection:
        connection.execute(search_documents.delete())
    assert find(desk, "로그인") == []
    rebuild(desk)
    assert {q: find(desk, q) for q in queries} == before


def test_forgotten_tickets_are_no_longer_found(desk: Engine) -> None:
    ticket_id = ticket(desk, "배송 지연").id
    with Store(desk, FrozenClock().now).write() as writer:
        assert writer.forget_search(ticket_ids=[ticket_id]) == 2
    assert find(desk, "배송") == []
    assert subjects(desk, "로그인") == ["로그인 문의"]


def test_an_excerpt_is_cut_around_the_first_match() -> None:
    body = "가나다 " * 100 + "the LOGIN failed " + "라마바 " * 100
    cut = excerpt(body, ["login"])
    assert "the LOGIN failed" in cut and cut.startswith("…") and cut.endswith("…")
    assert len(cut) <= 162
    assert excerpt("short text", ["zzz"]) == "short text"


def test_the_migration_indexes_an_existing_database(new_database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(new_database(tmp_path))
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    now = datetime.now(UTC).replace(tzinfo=None)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0006")
        connection.execute(
            text(
                "INSERT INTO tickets (id, tracking, status, subject, requester_email, language,"
                " fingerprint, created_at, updated_at) VALUES (1, 'SUP-1', 'open', '배송 문의',"
                " 'k@x', 'ko', 'f', :now, :now)"
            ),
            {"now": now},
        )
        connection.execute(
            text(
                "INSERT INTO messages (ticket_id, message_id, direction, body, public, at)"
                " VALUES (1, '<m@x>', 'in', 'Parcel never ARRIVED', true, :now)"
            ),
            {"now": now},
        )
    migrate(engine)  # as ticketd init upgrades it
    assert [h.where for h in find(engine, "배송")] == ["subject"]
    assert [h.where for h in find(engine, "arrived")] == ["message"]
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(search_documents)).scalar() == 2
    engine.dispose()


def test_reindex_command_rebuilds_and_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = write_config(tmp_path)
    mbox = write_mbox(tmp_path / "in.mbox", [claim("로그인 문의", "로그인이 안 됩니다")])
    assert ws.cli(capsys, "import", "--no-notify", str(mbox))[0] == 0
    code, out, err = ws.cli(capsys, "reindex")
    assert (code, out.strip(), err) == (0, "indexed 2 documents", "")
    engine = make_engine(ws.database_url)
    assert [h.where for h in find(engine, "로그인")] == ["subject"]
    engine.dispose()


def test_a_batch_indexes_its_texts_in_one_statement(lane_engine: Engine) -> None:
    """Every claim's subject and text are found, written together at the end of the batch
    (one statement instead of one per text, and no FTS5 flush at every savepoint)."""
    inserts: list[str] = []

    def watch(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO SEARCH_DOCUMENTS"):
            inserts.append(statement)

    mails = [claim(f"배송 문의 {n}", f"주문번호 {n:04d} 상품이 아직 안 왔어요") for n in range(20)]
    event.listen(lane_engine, "before_cursor_execute", watch)
    try:
        ingestor(lane_engine).ingest([raw(m, uid=i) for i, m in enumerate(mails, 1)])
    finally:
        event.remove(lane_engine, "before_cursor_execute", watch)
    assert len(inserts) == 1
    assert len(subjects(lane_engine, "상품이")) == 20
    assert subjects(lane_engine, "주문번호 0007") == ["배송 문의 7"]


def test_a_failed_message_leaves_no_document_and_spares_the_others(lane_engine: Engine) -> None:
    """A message rolled back to its savepoint takes its pending documents with it; the texts
    before and after it in the batch are still found, numbered without a gap."""
    runner = ingestor(lane_engine)
    real_build = runner.store.build_notice

    def build(*args: object) -> object:
        msg = getattr(args[-1], "message", None)
        if msg is not None and getattr(msg, "subject", "") == "poison":
            raise RuntimeError("template exploded")
        return real_build(*args)  # type: ignore[arg-type]

    runner.store.build_notice = build  # type: ignore[assignment]
    mails = [claim("first", "apricot"), claim("poison", "apricot"), claim("last", "apricot")]
    report = runner.ingest([raw(m, uid=i) for i, m in enumerate(mails, 1)])
    assert report.counts == {"failed": 1, "new": 2}
    assert subjects(lane_engine, "apricot") == ["last", "first"]
    with lane_engine.connect() as connection:
        kept = connection.execute(select(search_documents.c.id, search_documents.c.ticket_id))
        numbers = sorted(doc_id - ticket_id * TICKET_SPAN for doc_id, ticket_id in kept)
    assert numbers == [0, 0, 1, 1]


@pytest.mark.sqlite_only
def test_a_batch_adds_its_texts_to_the_index_in_one_piece(lane_engine: Engine) -> None:
    """FTS5 writes out its pending texts as a segment whenever it is flushed: at every
    savepoint (a trigger's statement has one) and before a lower rowid (a reply to an older
    ticket). A batch's texts go in together, in rowid order, replies and all; flushed text
    by text the index grew segment by segment and ingest slowed with its size."""
    runner = ingestor(lane_engine)
    runner.ingest([raw(claim(f"이전 문의 {n}", "첫 문의입니다"), uid=n) for n in range(1, 4)])
    with lane_engine.connect() as connection:
        numbers = list(connection.execute(select(tickets.c.tracking).order_by(tickets.c.id)))
        before = connection.execute(text("SELECT count(*) FROM search_fts_data")).scalar_one()
    mails = []
    for n in range(20):
        mails.append(claim(f"배송 문의 {n}", f"주문번호 {n:04d} 상품이 아직 안 왔어요"))
        if n % 5 == 0:  # replies to older tickets: lower document ids among the new ones
            number = numbers[n % 3][0]
            mails.append(claim(f"Re: [{number}] 이전 문의", f"추가 설명 {n}: 상품이 깨졌어요"))
    runner.ingest([raw(m, uid=i) for i, m in enumerate(mails, 10)])
    with lane_engine.connect() as connection:
        after = connection.execute(text("SELECT count(*) FROM search_fts_data")).scalar_one()
    assert after - before <= 4, after - before
    assert len(subjects(lane_engine, "상품이")) == 23
