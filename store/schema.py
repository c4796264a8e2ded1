"""Tables (SQLAlchemy Core). Alembic migrations in ``daemon/migrations`` create them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.engine import Dialect

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC).replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _at(name: str, nullable: bool = False) -> Column[datetime]:
    return Column(name, UTCDateTime(), nullable=nullable)


QUEUED = "status IN ('open', 'pending', 'waiting') AND merged_into IS NULL"
"""The rows of the queue's open tabs (the partial indexes' predicate)."""
QUEUE_SORTS = {"created": "created_at", "due": "first_response_due_at", "updated": "updated_at"}


def queue_indexes() -> list[Index]:
    """The indexes each tab and sort of the staff queue reads in order: the open tickets
    (all, or by owner), their counts by owner and status, tickets by status, a customer's
    and a domain's history, and the recently resolved."""
    found = []
    for name, column in QUEUE_SORTS.items():
        found += [
            _queued(f"ix_tickets_queue_{name}", column, "id"),
            _queued(f"ix_tickets_queue_owner_{name}", "owner", column, "id"),
            Index(f"ix_tickets_status_{name}", "status", column, "id"),
        ]
    return [
        *found,
        _queued("ix_tickets_queue_load", "owner", "status"),
        Index("ix_tickets_requester", "requester_email", "created_at", "id"),
        Index("ix_tickets_domain", "requester_domain", "created_at", "id"),
        Index("ix_tickets_resolved_at", "resolved_at"),
    ]


def _queued(name: str, *columns: str) -> Index:
    """A partial index over the open tabs' tickets."""
    return Index(name, *columns, sqlite_where=text(QUEUED), postgresql_where=text(QUEUED))


codes = Table(
    "codes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("parent_id", Integer, ForeignKey("codes.id")),
    Column("depth", Integer, nullable=False),
    Column("name", Text, nullable=False),
    Column("label_ko", Text, nullable=False, server_default=""),
    Column("label_en", Text, nullable=False, server_default=""),
    Column("path", Text, nullable=False),
    Column("created_by", String(320), nullable=False, server_default=""),
    _at("created_at"),
    _at("retired_at", True),
    Index("ix_codes_parent", "parent_id"),
    Index("ix_codes_path", "path"),
)
"""The classification code tree (at most three levels): each node's canonical ``name``
(its segment of ``path``, written with ``/``), a Korean and an English label; a retired
node keeps its row (``retired_at``) so old tickets and reports still name it."""

tickets = Table(
    "tickets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tracking", String(20), nullable=False, unique=True),
    Column("status", String(16), nullable=False),
    Column("priority", String(16), nullable=False, server_default="normal"),
    Column("type", String(16)),
    Column("subject", Text, nullable=False),
    Column("requester_email", String(320), nullable=False),
    Column("requester_name", Text, nullable=False, server_default=""),
    Column("owner", String(320)),
    Column("language", String(8), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("duplicate_count", Integer, nullable=False, server_default="0"),
    Column("merged_into", Integer, ForeignKey("tickets.id")),
    Column("minutes_worked", Integer, nullable=False, server_default="0"),
    _at("created_at"),
    _at("updated_at"),
    _at("first_response_at", True),
    _at("sla_reminded_at", True),
    _at("sla_breached_at", True),
    _at("resolved_at", True),
    _at("last_customer_at", True),
    _at("first_response_due_at", True),
    Column("requester_domain", String(255), nullable=False, server_default=""),
    Column("code_id", Integer, ForeignKey("codes.id")),
    Column("billable", Boolean),
    Column("channel", String(16)),
    _at("closed_at", True),
    Column("first_response_late", Boolean),
    _at("first_response_remind_at", True),
    _at("next_response_remind_at", True),
    _at("next_response_due_at", True),
    _at("next_response_reminded_at", True),
    _at("next_response_breached_at", True),
    _at("waiting_since", True),
    _at("waiting_reminded_at", True),
    Index("ix_tickets_owner_status", "owner", "status"),
    Index("ix_tickets_next_response_due", "next_response_due_at"),
    Index(
        "ix_tickets_created_report",
        "created_at",
        "channel",
        "code_id",
        "type",
        "owner",
        "first_response_late",
        "first_response_at",
        "first_response_due_at",
    ),
    Index("ix_tickets_code", "code_id"),
    Index("ix_tickets_status", "status"),
    Index("ix_tickets_fingerprint", "fingerprint", "created_at"),
    Index("ix_tickets_closed_at", "closed_at"),
    Index("ix_tickets_waiting_since", "waiting_since"),
    *queue_indexes(),
)

messages = Table(
    "messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ticket_id", Integer, ForeignKey("tickets.id"), nullable=False),
    Column("message_id", String(998), nullable=False, unique=True),
    Column("direction", String(8), nullable=False),
    Column("inbound_id", Integer, ForeignKey("inbound.id")),
    Column("author", String(320), nullable=False, server_default=""),
    Column("subject", Text, nullable=False, server_default=""),
    Column("body", Text, nullable=False, server_default=""),
    Column("public", Boolean, nullable=False),
    _at("at"),
    Index("ix_messages_ticket", "ticket_id"),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ticket_id", Integer, ForeignKey("tickets.id"), nullable=False),
    Column("type", String(32), nullable=False),
    _at("at"),
    Column("actor", String(320), nullable=False, server_default=""),
    Column("public", Boolean, nullable=False),
    Column("summary", Text, nullable=False, server_default=""),
    Column("message_ref", Integer, ForeignKey("messages.id")),
    Column("value", String(64)),
    Index("ix_events_ticket", "ticket_id", "id"),
    Index("ix_events_type_at", "type", "at"),
)

inbound = Table(
    "inbound",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(16), nullable=False),
    Column("mailbox", String(320)),
    Column("uidvalidity", BigInteger),
    Column("uid", BigInteger),
    Column("message_id", String(998), nullable=False),
    Column("raw_sha256", String(64), nullable=False),
    Column("raw", LargeBinary),
    Column("copy_of", Integer, ForeignKey("inbound.id")),
    Column("size", Integer, nullable=False),
    Column("envelope_from", Text),
    Column("envelope_to", Text),
    Column("authres_trusted", Boolean, nullable=False, server_default=true()),
    _at("received_at"),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("reason", Text, nullable=False, server_default=""),
    Column("disposition", String(16)),
    Column("ticket_id", Integer, ForeignKey("tickets.id")),
    _at("processed_at", True),
    UniqueConstraint("mailbox", "uidvalidity", "uid", name="uq_inbound_mailbox_uid"),
    Index("ix_inbound_state", "state"),
    Index("ix_inbound_message_id", "message_id"),
    Index("ix_inbound_raw_sha256", "raw_sha256"),
)

attachments = Table(
    "attachments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ticket_id", Integer, ForeignKey("tickets.id"), nullable=False),
    Column("message_ref", Integer, ForeignKey("messages.id"), nullable=False),
    Column("filename", Text, nullable=False),
    Column("content_type", String(255), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), ForeignKey("blobs.sha256"), nullable=False),
    _at("removed_at", True),
    Index("ix_attachments_ticket", "ticket_id"),
)
"""A message's files; ``removed_at``: retention emptied the file (``store.retention``)."""

blobs = Table(
    "blobs",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("data", LargeBinary, nullable=False),
)

claims = Table(
    "claims",
    metadata,
    Column("fingerprint", String(64), primary_key=True),
    Column("ticket_id", Integer, ForeignKey("tickets.id"), nullable=False),
    _at("at"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("message_id", String(998), nullable=False, unique=True),
    Column("ticket_id", Integer, ForeignKey("tickets.id")),
    Column("kind", String(32), nullable=False),
    Column("sender", String(320), nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("recipients", Text, nullable=False, server_default=""),
    Column("automatic", Boolean, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text, nullable=False, server_default=""),
    _at("created_at"),
    _at("next_attempt_at"),
    _at("sent_at", True),
    _at("claimed_at", True),
    Column("claimer", String(300), nullable=False, server_default=""),
    Index("ix_outbox_state_next", "state", "next_attempt_at"),
    Index("ix_outbox_recipient", "recipient", "created_at"),
)

followers = Table(
    "followers",
    metadata,
    Column("ticket_id", Integer, ForeignKey("tickets.id"), primary_key=True),
    Column("email", String(320), primary_key=True),
    Column("name", Text, nullable=False, server_default=""),
)

public_pages = Table(
    "public_pages",
    metadata,
    Column("tracking", String(20), ForeignKey("tickets.tracking"), primary_key=True),
    Column("language", String(8), primary_key=True),
    Column("generation", String(64), nullable=False),
    Column("body", LargeBinary, nullable=False),
)

mailbox_state = Table(
    "mailbox_state",
    metadata,
    Column("mailbox", String(320), primary_key=True),
    Column("uidvalidity", BigInteger, nullable=False),
    Column("last_uid", BigInteger, nullable=False),
    _at("updated_at"),
)

settings = Table(
    "settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

leadership = Table(
    "leadership",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("term", BigInteger, nullable=False),
    Column("holder", String(300), nullable=False),
    _at("elected_at"),
)
"""One row: the poller's term (raised at each election), who holds it, when it was elected."""

search_documents = Table(
    "search_documents",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    ),
    Column("ticket_id", Integer, ForeignKey("tickets.id"), nullable=False),
    Column("message_ref", Integer, ForeignKey("messages.id"), unique=True),
    Column("kind", String(8), nullable=False),
    Column("text", Text, nullable=False),
    Index("ix_search_documents_ticket", "ticket_id", "kind"),
)
"""The search index's documents: a ticket's subject (no ``message_ref``), a message's text
or a note, NFKC-normalised and case-folded (``store.search``; SQLite adds an FTS5 table,
PostgreSQL a trigram index, both outside this metadata)."""

sign_in_links = Table(
    "sign_in_links",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("digest", String(64), nullable=False, unique=True),
    Column("email", String(320), nullable=False),
    Column("next_path", Text, nullable=False, server_default=""),
    _at("created_at"),
    _at("expires_at"),
    _at("used_at", nullable=True),
    Index("ix_sign_in_links_email_created", "email", "created_at"),
)
"""Single-use sign-in links to the staff workspace (only their SHA-256 is kept)."""

staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("email", String(320), nullable=False),
    _at("created_at"),
    _at("expires_at"),
    _at("ended_at", nullable=True),
)
"""Signed-in browsers (the SHA-256 of the session cookie)."""

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("digest", String(64), nullable=False, unique=True),
    Column("email", String(320), nullable=False),
    _at("created_at"),
    _at("last_used_at", nullable=True),
    _at("revoked_at", nullable=True),
)
"""Bearer tokens of the staff JSON API (``ticketd token``), kept as their SHA-256."""

macros = Table(
    "macros",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name_key", String(64), nullable=False, unique=True),
    Column("name", String(64), nullable=False),
    Column("text_ko", Text, nullable=False, server_default=""),
    Column("text_en", Text, nullable=False, server_default=""),
    Column("commands", Text, nullable=False, server_default=""),
    Column("updated_by", String(320), nullable=False),
    _at("created_at"),
    _at("updated_at"),
    _at("retired_at", nullable=True),
)
"""Saved replies (``routing.macros``); ``name_key`` is the case-folded name; a retired
one is kept (``retired_at``) and may be saved again."""

availability = Table(
    "availability",
    metadata,
    Column("email", String(320), primary_key=True),
    Column("away", Boolean, nullable=False),
    _at("back_at", nullable=True),
    Column("set_by", String(320), nullable=False),
    _at("updated_at"),
)
"""What engineers set in the workspace: away (until ``back_at``) or on duty; an
engineer without a row has the TOML ``available``."""

report_days = Table(
    "report_days",
    metadata,
    Column("timezone", String(64), primary_key=True),
    Column("day", String(10), primary_key=True),
    _at("computed_at"),
)
"""The past local days whose report figures are kept (``report_counts``,
``report_responses``), kept ready by the poller's jobs so a year's report adds up kept
counts in SQL instead of reading tickets."""

report_counts = Table(
    "report_counts",
    metadata,
    Column("timezone", String(64), primary_key=True),
    Column("block", String(1), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("measure", String(16), primary_key=True),
    Column("key", String(320), primary_key=True),
    Column("n", Integer, nullable=False),
)
"""A kept block's counts (``store/report_days.py`` ``Day.counts``; ``block``: ``d`` the
day, ``w`` the ISO week or ``m`` the month starting on ``day``, ``store/report_blocks.py``):
one row per measure (``new``, ``channel``, ``handled``…) and key (a channel, a code id, an
owner…; ``""`` for a plain count)."""

report_responses = Table(
    "report_responses",
    metadata,
    Column("timezone", String(64), primary_key=True),
    Column("block", String(1), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("owner", String(320), primary_key=True),
    Column("seconds", Integer, primary_key=True),
    Column("n", Integer, nullable=False),
)
"""A kept block's first response times: how many tickets created in it by ``owner``
(``""``: none) were first answered after exactly ``seconds``."""

report_stale = Table(
    "report_stale",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("generation", Integer, nullable=False),
)
"""UTC dates whose report days changed since they were kept (marked by the writer for
every ticket it touched); ``generation`` rises at each mark, so a refresh clears only the
marks it has seen."""
digests = Table(
    "digests",
    metadata,
    Column("day", Date, primary_key=True),
    Column("start_day", Date, nullable=False),
    _at("sent_at"),
    Column("recipients", Integer, nullable=False),
)
"""The managers' digests sent, keyed by the last local day each covers (``start_day`` its
first): written with their mails, so no period is ever sent twice."""
