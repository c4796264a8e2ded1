"""The search index: every ticket's subject, every stored message's text and every note as
one document, NFKC-normalised and case-folded, matched word by word as substrings (Korean
included: "로그인" finds "로그인이 안 됩니다").

Results come newest ticket first. A document's id is ``ticket_id * TICKET_SPAN + n``, so
every word's documents can be walked newest ticket first and the words' walks joined
leapfrog-style (AND across a ticket's documents), stopping at a full page however common
the words are. SQLite walks a word of three characters or more in an FTS5 table with the
trigram tokenizer (``search_fts``: new documents indexed with their insert, deletes and
updates kept in step by triggers) and
a shorter word ("배송", "환불") with ``LIKE`` down the primary key; without FTS5 or its
trigram tokenizer every word is matched with ``LIKE`` (slower, same results). PostgreSQL
matches every word with ``LIKE``, down the primary key or, for a rare word, by the
``pg_trgm`` GIN index (the planner's choice per step).

The user's query is plain words: quotes, ``*``, ``NEAR(``, ``OR``, ``-``, ``%`` and ``_``
match themselves. Only ``store.writer.Writer`` writes documents (``add`` for a rebuild,
``store.search_pending`` for new texts, ``delete``, ``clear``, ``fill``)."""

from __future__ import annotations

import base64
import binascii
import logging
import unicodedata
from collections import deque
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Connection,
    case,
    column,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    table,
)
from sqlalchemy.exc import DBAPIError

from ticketd.routing.workspace import BadCursor
from ticketd.store.schema import messages, search_documents, tickets

log = logging.getLogger(__name__)

Kind = Literal["subject", "message", "note"]
KINDS: tuple[Kind, ...] = ("subject", "message", "note")
"""Document kinds, best first: a ticket found by its subject comes before one found in a
message, which comes before one found only in a note."""
Source = Literal["tickets", "messages"]
SOURCES: tuple[Source, ...] = ("tickets", "messages")

FTS = "search_fts"
INSERT_DOCUMENT = insert(search_documents)
TRIGRAM_INDEX = "ix_search_documents_trgm"
TRIGRAM_MIN = 3
FIRST_BATCH = 64
LAST_BATCH = 4096
"""A word's walk fetches this many document ids first, four times more each next time."""
MAX_WORDS = 12
"""Words of a query beyond these are ignored (a pasted paragraph stays one cheap query)."""
EXCERPT = 160
EXCERPT_BEFORE = 50
TICKET_SPAN = 2**20
"""A document's id is ``ticket_id * TICKET_SPAN + n`` (its ``n``-th of the ticket): ids
order documents by ticket, so the newest tickets' documents stream first, and a ticket's
documents are one id range. A ticket's texts beyond this many are not indexed."""

_FTS_TABLE = table(FTS, column("rowid"))
_FTS_DDL = (
    f"CREATE VIRTUAL TABLE {FTS} USING fts5(text, content='search_documents', "
    "content_rowid='id', tokenize='trigram')",
    f"CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, text) VALUES ('delete', old.id, old.text); END",
    f"CREATE TRIGGER search_documents_au AFTER UPDATE ON search_documents BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, text) VALUES ('delete', old.id, old.text); "
    f"INSERT INTO {FTS}(rowid, text) VALUES (new.id, new.text); END",
)
"""New documents are indexed by ``insert_documents``, not by a trigger, and in rowid order.
FTS5 writes out its pending terms as a new segment at every statement savepoint (which a
trigger's statement is) and before every rowid lower than the last one written (a reply to
an older ticket), and segments are merged again and again as the index grows. Measured on
a 36,000-message database: 400 documents took 12.4 s through the trigger, 8.5 s inserted
directly in arrival order, 14 ms in rowid order."""
INSERT_FTS = f"INSERT INTO {FTS}(rowid, text) VALUES (?, ?)"
_FTS_DROP = (
    "DROP TRIGGER IF EXISTS search_documents_ai",
    "DROP TRIGGER IF EXISTS search_documents_ad",
    "DROP TRIGGER IF EXISTS search_documents_au",
    f"DROP TABLE IF EXISTS {FTS}",
)


@dataclass(frozen=True, slots=True)
class Found:
    """A ticket matching every word, with ~160 characters around the first match in its
    best document (plain text: the web escapes it)."""

    ticket_id: int
    excerpt: str
    where: Kind


def fold(value: str) -> str:
    """The form both documents and queries are matched in: NFKC, case-folded."""
    return unicodedata.normalize("NFKC", value).casefold()


def words(query: str) -> tuple[str, ...]:
    """The distinct words of a query (split on white space, nothing else is special)."""
    return tuple(dict.fromkeys(fold(query).split()))[:MAX_WORDS]


def in_schema(name: str | None, kind: str, _parents: object = None) -> bool:
    """False for the index's database objects that ``store.schema`` cannot describe (the
    FTS5 table and its shadow tables, the trigram index): Alembic leaves them alone."""
    if name is None:
        return True
    if kind == "table":
        return not (name == FTS or name.startswith(f"{FTS}_"))
    return not (kind == "index" and name == TRIGRAM_INDEX)


# --- the database objects ------------------------------------------------------------


def install(connection: Connection) -> bool:
    """Create the index structures the database supports (SQLite: the FTS5 table and its
    triggers; PostgreSQL: ``pg_trgm`` and its GIN index). Returns False, logging why, when
    words will be matched by scanning instead."""
    if connection.dialect.name == "sqlite":
        return _install_fts(connection)
    return _install_trigram(connection)


def uninstall(connection: Connection) -> None:
    """Drop what ``install`` created (the documents table stays)."""
    if connection.dialect.name == "sqlite":
        for statement in _FTS_DROP:
            connection.exec_driver_sql(statement)
    else:
        connection.exec_driver_sql(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}")


def _install_fts(connection: Connection) -> bool:
    try:
        with connection.begin_nested():
            for statement in _FTS_DDL:
                connection.exec_driver_sql(statement)
    except DBAPIError as exc:
        log.warning(
            "search: SQLite has no FTS5 trigram tokenizer (%s); words are matched with LIKE",
            exc.orig or exc,
        )
        return False
    return True


def _install_trigram(connection: Connection) -> bool:
    try:
        with connection.begin_nested():
            connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            connection.exec_driver_sql(
                f"CREATE INDEX IF NOT EXISTS {TRIGRAM_INDEX} ON search_documents "
                "USING gin (text gin_trgm_ops)"
            )
    except DBAPIError as exc:
        log.warning(
            "search: pg_trgm is not available (%s); words are matched by scanning", exc.orig or exc
        )
        return False
    return True


def has_fts(connection: Connection) -> bool:
    """Whether this SQLite database has the FTS5 table."""
    found = connection.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (FTS,)
    )
    return found.first() is not None


# --- writing documents (through the Writer) ----------------------------------------------


def document_id(ticket_id: int, n: int) -> int:
    """The id of a ticket's ``n``-th document (from 0), see ``TICKET_SPAN``."""
    return ticket_id * TICKET_SPAN + n


def add(
    connection: Connection, ticket_id: int, kind: Kind, body: str, message_ref: int | None = None
) -> None:
    """Index one text of a ticket (nothing for an empty text). On PostgreSQL the ticket's
    row is locked first, so two writers never number one ticket's documents alike."""
    if not body:
        return
    if connection.dialect.name == "postgresql":
        connection.execute(select(tickets.c.id).where(tickets.c.id == ticket_id).with_for_update())
    first = document_id(ticket_id, 0)
    last = connection.execute(
        select(func.max(search_documents.c.id)).where(
            search_documents.c.id.between(first, document_id(ticket_id, TICKET_SPAN - 1))
        )
    ).scalar()
    n = 0 if last is None else int(last) - first + 1
    if n >= TICKET_SPAN:
        log.warning("search: ticket %d has %d texts; this one is not indexed", ticket_id, n)
        return
    document = {
        "id": document_id(ticket_id, n),
        "ticket_id": ticket_id,
        "kind": kind,
        "text": fold(body),
        "message_ref": message_ref,
    }
    insert_documents(connection, [document])


def insert_documents(connection: Connection, documents: Sequence[dict[str, Any]]) -> None:
    """Store ``documents`` and, on SQLite with FTS5, index their texts in rowid order (one
    statement each for all of them; see ``INSERT_FTS``)."""
    if not documents:
        return
    connection.execute(INSERT_DOCUMENT, list(documents))
    if connection.dialect.name == "sqlite" and has_fts(connection):
        connection.exec_driver_sql(INSERT_FTS, sorted((d["id"], d["text"]) for d in documents))


def delete_documents(
    connection: Connection,
    *,
    ticket_ids: Collection[int] = (),
    message_ids: Collection[int] = (),
) -> int:
    """Forget every document of these tickets and of these messages (a purge); returns how
    many were deleted."""
    deleted = 0
    column_values = (
        (search_documents.c.ticket_id, ticket_ids),
        (search_documents.c.message_ref, message_ids),
    )
    for key, values in column_values:
        if values:
            statement = delete(search_documents).where(key.in_(list(values)))
            deleted += connection.execute(statement).rowcount
    return deleted


def clear(connection: Connection) -> None:
    """Empty the index (the first step of a rebuild). On SQLite the FTS5 table is made
    anew, so an index that drifted from its documents is rebuilt whole."""
    if connection.dialect.name == "sqlite":
        for statement in _FTS_DROP:
            connection.exec_driver_sql(statement)
        connection.execute(delete(search_documents))
        _install_fts(connection)
    else:
        connection.exec_driver_sql("TRUNCATE search_documents")


def fill(connection: Connection, source: Source, after: int, limit: int) -> tuple[int, int | None]:
    """Index up to ``limit`` stored texts of ``source`` with ids above ``after`` that have
    no document yet; returns how many, and the id to continue after (None: done).

    A text stored meanwhile by the writer carries its document in the same commit, so a
    rebuild beside a running daemon never indexes a text twice."""
    if source == "tickets":
        rows = connection.execute(
            select(tickets.c.id, tickets.c.id, tickets.c.subject, literal_column("'subject'"))
            .where(
                tickets.c.id > after,
                ~select(search_documents.c.id)
                .where(
                    search_documents.c.ticket_id == tickets.c.id,
                    search_documents.c.kind == "subject",
                )
                .exists(),
            )
            .order_by(tickets.c.id)
            .limit(limit)
        ).all()
    else:
        kind = case((messages.c.direction == "note", "note"), else_="message")
        rows = connection.execute(
            select(messages.c.id, messages.c.ticket_id, messages.c.body, kind)
            .where(
                messages.c.id > after,
                messages.c.body != "",
                ~select(search_documents.c.id)
                .where(search_documents.c.message_ref == messages.c.id)
                .exists(),
            )
            .order_by(messages.c.id)
            .limit(limit)
        ).all()
    for key, ticket_id, body, row_kind in rows:
        ref = key if source == "messages" else None
        add(connection, ticket_id, row_kind, body, ref)
    return len(rows), (rows[-1][0] if len(rows) == limit else None)


def fill_all(connection: Connection, batch: int = 1000) -> int:
    """Index every stored text without a document, in batches, on one connection (the
    migration's); returns how many documents were added."""
    total = 0
    for source in SOURCES:
        after: int | None = 0
        while after is not None:
            count, after = fill(connection, source, after, batch)
            total += count
    return total


# --- searching -------------------------------------------------------------------------


class _Walk:
    """One word's documents, newest ticket first (a document's id orders by its ticket,
    see ``document_id``), fetched in growing batches that FTS5 and a primary-key scan both
    stream: a common word reads a few dozen, a rare one all of its few."""

    def __init__(self, connection: Connection, term: str, fts: bool) -> None:
        self.connection = connection
        self.term = term
        self.fts = fts and len(term) >= TRIGRAM_MIN
        self.buffer: deque[int] = deque()
        self.low: int | None = None
        """Ids below this have not been fetched (None: nothing fetched yet)."""
        self.exhausted = False
        self.batch = FIRST_BATCH

    def below(self, ticket_id: int | None) -> int | None:
        """The newest ticket below ``ticket_id`` (None: any) with the word."""
        bound = None if ticket_id is None else ticket_id * TICKET_SPAN
        while True:
            while self.buffer and bound is not None and self.buffer[0] >= bound:
                self.buffer.popleft()
            if self.buffer:
                return self.buffer[0] // TICKET_SPAN
            if self.exhausted:
                return None
            known = self.low is not None and (bound is None or self.low < bound)
            self._fetch(self.low if known else bound)

    def _fetch(self, bound: int | None) -> None:
        if self.fts:
            phrase = '"' + self.term.replace('"', '""') + '"'
            key = _FTS_TABLE.c.rowid
            step = select(key).where(literal_column(FTS).op("MATCH")(phrase))
        else:
            key = search_documents.c.id
            step = select(key).where(_like(self.term))
        if bound is not None:
            step = step.where(key < bound)
        ids = [
            int(i)
            for i in self.connection.execute(step.order_by(key.desc()).limit(self.batch)).scalars()
        ]
        self.buffer.extend(ids)
        self.exhausted = len(ids) < self.batch
        self.low = ids[-1] if ids else bound
        self.batch = min(self.batch * 4, LAST_BATCH)


def _like(term: str) -> ColumnElement[bool]:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return search_documents.c.text.like(f"%{escaped}%", escape="\\")


def _matching_tickets(
    connection: Connection, terms: Sequence[str], fts: bool, below: int | None, wanted: int
) -> list[int]:
    """Up to ``wanted`` tickets below ``below`` with every term somewhere in their
    documents, newest first: a leapfrog join of the terms' streams (each step jumps to the
    newest ticket below the last one some term lacks), so a page stops early however
    common the words are."""
    walks = [_Walk(connection, t, fts) for t in sorted(terms, key=len, reverse=True)]
    found: list[int] = []
    while len(found) < wanted:
        candidate = walks[0].below(below)
        agreed = 1
        while candidate is not None and agreed < len(walks):
            other = walks[agreed].below(candidate + 1)
            if other == candidate:
                agreed += 1
            else:
                agreed = 1
                candidate = None if other is None else walks[0].below(other + 1)
        if candidate is None:
            break
        found.append(candidate)
        below = candidate
    return found


class SearchIndex:
    """Finds tickets by words of their subjects, message texts and notes."""

    def find(
        self, connection: Connection, query: str, cursor: str | None, limit: int
    ) -> tuple[list[Found], str | None]:
        """Tickets matching every word of ``query`` (each word somewhere in the ticket),
        newest ticket first (as Help Scout and Front list search results); each with its
        best document (subject, then message, then note) for the excerpt. Returns one page
        and the cursor of the next (None: the last). Raises ``BadCursor`` for a cursor it
        did not hand out."""
        terms = words(query)
        if not terms or limit < 1:
            return [], None
        below = _decode(cursor) if cursor else None
        fts = connection.dialect.name == "sqlite" and has_fts(connection)
        ids = _matching_tickets(connection, terms, fts, below, limit + 1)
        page = ids[:limit]
        best = _best_documents(connection, page, terms)
        found = [Found(t, *_excerpt_of(best[t], terms)) for t in page if t in best]
        return found, (_encode(page[-1]) if len(ids) > limit else None)


def _best_documents(
    connection: Connection, ticket_ids: Sequence[int], terms: Sequence[str]
) -> dict[int, tuple[Kind, str]]:
    """Per ticket, its best document containing a term (subject, then message, then
    note; the oldest of a kind): its kind and original text."""
    if not ticket_ids:
        return {}
    rows = connection.execute(
        select(search_documents.c.id, search_documents.c.kind).where(
            search_documents.c.ticket_id.in_(list(ticket_ids)), or_(*(_like(t) for t in terms))
        )
    ).all()
    best: dict[int, tuple[int, int]] = {}
    for doc_id, kind in rows:
        key = (KINDS.index(kind), int(doc_id))
        ticket_id = int(doc_id) // TICKET_SPAN
        best[ticket_id] = min(best.get(ticket_id, key), key)
    documents = _documents(connection, [doc_id for _, doc_id in best.values()])
    return {t: documents[doc_id] for t, (_, doc_id) in best.items()}


def _documents(connection: Connection, ids: Sequence[int]) -> dict[int, tuple[Kind, str]]:
    """The kind and original text of these documents."""
    if not ids:
        return {}
    original = func.coalesce(messages.c.body, tickets.c.subject)
    rows = connection.execute(
        select(search_documents.c.id, search_documents.c.kind, original)
        .select_from(search_documents)
        .join(tickets, tickets.c.id == search_documents.c.ticket_id)
        .outerjoin(messages, messages.c.id == search_documents.c.message_ref)
        .where(search_documents.c.id.in_(list(ids)))
    ).all()
    return {int(r[0]): (r[1], r[2]) for r in rows}


def _excerpt_of(document: tuple[Kind, str], terms: Sequence[str]) -> tuple[str, Kind]:
    kind, original = document
    return excerpt(original, terms), kind


def excerpt(original: str, terms: Sequence[str], width: int = EXCERPT) -> str:
    """About ``width`` characters of ``original`` (normalised, white space collapsed)
    around the first place any of the (folded) terms occurs."""
    normal = unicodedata.normalize("NFKC", original)
    haystack = normal.casefold()
    places = [p for p in (haystack.find(t) for t in terms) if p >= 0]
    first = min(places) if places else 0
    if len(haystack) != len(normal):  # a character folded into several ("ß" -> "ss")
        origin = [p for p, char in enumerate(normal) for _ in char.casefold()]
        first = origin[first] if origin else 0
    start = max(0, first - EXCERPT_BEFORE)
    window = " ".join(normal[start : start + width * 2].split())[:width]
    prefix = "…" if start > 0 else ""
    suffix = "…" if len(" ".join(normal[start:].split())) > len(window) else ""
    return prefix + window + suffix


def _encode(ticket_id: int) -> str:
    return base64.urlsafe_b64encode(f"t{ticket_id}".encode()).decode().rstrip("=")


def _decode(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        mark, ticket_id = base64.urlsafe_b64decode(padded).decode().partition("t")[1:]
        if not mark:
            raise ValueError(cursor)
        return int(ticket_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadCursor(f"not a search cursor: {cursor[:40]!r}") from None
