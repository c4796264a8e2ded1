"""The search index: every ticket's subject, every stored message's text and every note as
one document, NFKC-normalised and case-folded, matched word by word as substrings (Korean
included: "로그인" finds "로그인이 안 됩니다").

Results come newest ticket first. A document's id is ``ticket_id * TICKET_SPAN + n``, so
every word's documents can be walked newest ticket first and the words' walks joined
leapfrog-style (AND across a ticket's documents), stopping at a full page however common
the words are. SQLite walks a word of three characters or more in an FTS5 table with the
trigram tokenizer (``search_fts``, kept in step with ``search_documents`` by triggers) and
a shorter word ("배송", "환불") with ``LIKE`` down the primary key; without FTS5 or its
trigram tokenizer every word is matched with ``LIKE`` (slower, same results). PostgreSQL
matches every word with ``LIKE``, down the primary key or, for a rare word, by the
``pg_trgm`` GIN index (the planner's choice per step).

The user's query is plain words: quotes, ``*``, ``NEAR(``, ``OR``, ``-``, ``%`` and ``_``
match themselves. Only ``store.writer.Writer`` writes documents (``add``, ``delete``,
``clear``, ``fill``)."""

from __future__ import annotations

import base64
import binascii
import logging
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal

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
TRIGRAM_INDEX = "ix_search_documents_trgm"
TRIGRAM_MIN = 3
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
    f"CREATE TRIGGER search_documents_ai AFTER INSERT ON search_documents BEGIN "
    f"INSERT INTO {FTS}(rowid, text) VALUES (new.id, new.text); END",
    f"CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, text) VALUES ('delete', old.id, old.text); END",
    f"CREATE TRIGGER search_documents_au AFTER UPDATE ON search_documents BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, text) VALUES ('delete', old.id, old.text); "
    f"INSERT INTO {FTS}(rowid, text) VALUES (new.id, new.text); END",
)
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
    connection.execute(
        insert(search_documents),
        {
            "id": document_id(ticket_id, n),
            "ticket_id": ticket_id,
            "kind": kind,
            "text": fold(body),
            "message_ref": message_ref,
        },
    )


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


def _next_ticket(connection: Connection, term: str, fts: bool, below: int | None) -> int | None:
    """The newest ticket below ticket id ``below`` (None: any) with a document containing
    ``term``: one step down the term's documents, newest first (a document's id orders
    by its ticket, see ``document_id``), which FTS5 and a primary-key scan both stream."""
    bound = None if below is None else below * TICKET_SPAN
    if fts and len(term) >= TRIGRAM_MIN:
        phrase = '"' + term.replace('"', '""') + '"'
        step = select(_FTS_TABLE.c.rowid).where(literal_column(FTS).op("MATCH")(phrase))
        if bound is not None:
            step = step.where(_FTS_TABLE.c.rowid < bound)
        step = step.order_by(_FTS_TABLE.c.rowid.desc())
    else:
        step = select(search_documents.c.id).where(_like(term))
        if bound is not None:
            step = step.where(search_documents.c.id < bound)
        step = step.order_by(search_documents.c.id.desc())
    found = connection.execute(step.limit(1)).scalar()
    return None if found is None else int(found) // TICKET_SPAN


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
    order = sorted(terms, key=len, reverse=True)
    found: list[int] = []
    while len(found) < wanted:
        candidate = _next_ticket(connection, order[0], fts, below)
        agreed = 1
        while candidate is not None and agreed < len(order):
            other = _next_ticket(connection, order[agreed], fts, candidate + 1)
            agreed = agreed + 1 if other == candidate else 1
            if other != candidate and other is not None:
                candidate = _next_ticket(connection, order[0], fts, other + 1)
            elif other is None:
                candidate = None
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
    ranges = [
        search_documents.c.id.between(t * TICKET_SPAN, (t + 1) * TICKET_SPAN - 1)
        for t in ticket_ids
    ]
    rows = connection.execute(
        select(search_documents.c.id, search_documents.c.kind).where(
            or_(*ranges), or_(*(_like(t) for t in terms))
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
    folded: list[str] = []
    origin: list[int] = []
    for position, char in enumerate(normal):
        piece = char.casefold()
        folded.append(piece)
        origin.extend([position] * len(piece))
    haystack = "".join(folded)
    places = [p for p in (haystack.find(t) for t in terms) if p >= 0]
    start = max(0, origin[min(places)] - EXCERPT_BEFORE) if places and origin else 0
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
