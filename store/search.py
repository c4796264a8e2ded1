"""The search index: every ticket's subject, every stored message's text and every note as
one document, NFKC-normalised and case-folded, matched word by word as substrings (Korean
included: "로그인" finds "로그인이 안 됩니다").

SQLite keeps the documents in an FTS5 table with the trigram tokenizer (``search_fts``,
kept in step with ``search_documents`` by triggers); words shorter than three characters
(trigrams need three: "배송", "환불") are matched with ``LIKE`` on the documents of the
tickets the longer words found. Without FTS5 or its trigram tokenizer every word is
matched with ``LIKE`` (slower, same results). PostgreSQL matches every word with ``LIKE``,
which a ``pg_trgm`` GIN index serves; without the extension the same query scans.

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
    BigInteger,
    ColumnElement,
    Connection,
    Select,
    Subquery,
    and_,
    case,
    column,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    table,
    union_all,
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
MAX_WORDS = 12
"""Words of a query beyond these are ignored (a pasted paragraph stays one cheap query)."""
EXCERPT = 160
EXCERPT_BEFORE = 50
DOC_SPAN = 10**12
"""Encodes a document's kind and id into one sortable number (kind * DOC_SPAN + id)."""

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
_SPAN = literal_column(str(DOC_SPAN), BigInteger)
_RANK = case(
    *((search_documents.c.kind == kind, literal_column(str(i))) for i, kind in enumerate(KINDS)),
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


def add(
    connection: Connection, ticket_id: int, kind: Kind, body: str, message_ref: int | None = None
) -> None:
    """Index one text of a ticket (nothing for an empty text)."""
    if body:
        connection.execute(
            INSERT_DOCUMENT,
            {"ticket_id": ticket_id, "kind": kind, "text": fold(body), "message_ref": message_ref},
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


class SearchIndex:
    """Finds tickets by words of their subjects, message texts and notes."""

    def find(
        self, connection: Connection, query: str, cursor: str | None, limit: int
    ) -> tuple[list[Found], str | None]:
        """Tickets matching every word of ``query`` (each word somewhere in the ticket),
        those found by their subject first, then in a message, then only in a note; newest
        first within each. Returns one page and the cursor of the next (None: the last).
        Raises ``BadCursor`` for a cursor it did not hand out."""
        terms = words(query)
        if not terms or limit < 1:
            return [], None
        after = _decode(cursor) if cursor else None
        sqlite = connection.dialect.name == "sqlite"
        fts = sqlite and has_fts(connection)
        best = _best_per_ticket(terms, fts, indexed=fts or not sqlite)
        rank = best.c.best.op("/")(_SPAN)
        page = select(best.c.ticket_id, best.c.best).order_by(rank, best.c.ticket_id.desc())
        if after is not None:
            page = page.where(
                or_(rank > after[0], and_(rank == after[0], best.c.ticket_id < after[1]))
            )
        rows = connection.execute(page.limit(limit + 1)).all()
        more = len(rows) > limit
        rows = rows[:limit]
        documents = _documents(connection, [int(r.best) % DOC_SPAN for r in rows])
        found = [
            Found(int(r.ticket_id), *_excerpt_of(documents[int(r.best) % DOC_SPAN], terms))
            for r in rows
        ]
        if not more:
            return found, None
        last = rows[-1]
        return found, _encode(int(last.best) // DOC_SPAN, int(last.ticket_id))


def _predicate(term: str, fts: bool) -> ColumnElement[bool]:
    if fts and len(term) >= TRIGRAM_MIN:
        phrase = '"' + term.replace('"', '""') + '"'
        matching = select(_FTS_TABLE.c.rowid).where(literal_column(FTS).op("MATCH")(phrase))
        return search_documents.c.id.in_(matching)
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return search_documents.c.text.like(f"%{escaped}%", escape="\\")


def _hits(
    term: str, index: int, fts: bool, within: Select[tuple[int]] | None
) -> Select[tuple[int, int, int]]:
    """The documents ``term`` (the query's ``index``-th word) matches, restricted to the
    tickets ``within`` found; PostgreSQL (no ``fts``) gets those as an array, which its
    planner looks up by ticket instead of scanning."""
    where = [_predicate(term, fts)]
    if within is not None and fts:
        where.append(search_documents.c.ticket_id.in_(within))
    elif within is not None:
        found = func.array(within.scalar_subquery())
        where.append(search_documents.c.ticket_id == func.any(found))
    return select(
        search_documents.c.ticket_id,
        (_RANK * _SPAN + search_documents.c.id).label("key"),
        literal_column(str(index)).label("term"),
    ).where(*where)


def _best_per_ticket(terms: Sequence[str], fts: bool, indexed: bool) -> Subquery:
    """Per ticket matching every term: its best document's key (kind * DOC_SPAN + id).
    When trigrams serve the longer terms (``indexed``), the shorter ones are only looked
    for in the tickets those found."""
    long_terms = {t for t in terms if indexed and len(t) >= TRIGRAM_MIN}
    long_hits = [_hits(t, i, fts, None) for i, t in enumerate(terms) if t in long_terms]
    within = None
    if long_hits:
        long_union = union_all(*long_hits).subquery("long_hits")
        within = select(long_union.c.ticket_id)
    short_hits = [_hits(t, i, fts, within) for i, t in enumerate(terms) if t not in long_terms]
    hits = union_all(*long_hits, *short_hits).subquery("hits")
    return (
        select(hits.c.ticket_id, func.min(hits.c.key).label("best"))
        .group_by(hits.c.ticket_id)
        .having(func.count(hits.c.term.distinct()) == len(terms))
        .subquery("best")
    )


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


def _encode(rank: int, ticket_id: int) -> str:
    return base64.urlsafe_b64encode(f"{rank}.{ticket_id}".encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[int, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        rank, _, ticket_id = base64.urlsafe_b64decode(padded).decode().partition(".")
        return int(rank), int(ticket_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadCursor(f"not a search cursor: {cursor[:40]!r}") from None
