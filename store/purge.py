"""Erasing one person (``ticketd purge --requester``, PIPA and GDPR requests), in the
writer's transaction.

Their tickets stay, with their statuses, events' types and times, owners and codes, so
reports count the same; what could tell who they were or what they wrote goes: the
address and name (replaced by ``routing.privacy.placeholder_address``), the subjects and
texts of their tickets (every message, as replies quote the customer), event summaries,
attachments and their files, raw mail, composed mail in the outbox, follower rows, search
documents, published pages and duplicate fingerprints. On a ticket of someone else where
they were a follower, their messages and their follower row go the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import Connection, delete, func, literal, or_, select, update

from ticketd.routing.model import OutboxState
from ticketd.routing.privacy import REMOVED_SUBJECT
from ticketd.store import search
from ticketd.store.raw_form import unpack_raw
from ticketd.store.schema import (
    attachments,
    blobs,
    claims,
    events,
    followers,
    inbound,
    messages,
    outbox,
    public_pages,
    sign_in_links,
    tickets,
)


@dataclass
class PurgeReport:
    """How many rows of each kind were changed or removed."""

    counts: dict[str, int] = field(default_factory=dict)
    tickets: set[int] = field(default_factory=set)
    """The tickets whose status pages changed."""

    def add(self, name: str, count: int) -> None:
        if count:
            self.counts[name] = self.counts.get(name, 0) + count

    def __str__(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in sorted(self.counts.items())) or "nothing"


def purge_requester(connection: Connection, email: str, placeholder: str) -> PurgeReport:
    """Erase ``email`` everywhere (see the module); running it again finds nothing."""
    report = PurgeReport()
    email = email.strip().lower()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA secure_delete = ON")
    ticket_ids = _ids(
        connection, select(tickets.c.id).where(func.lower(tickets.c.requester_email) == email)
    )
    followed = _ids(
        connection,
        select(followers.c.ticket_id).where(func.lower(followers.c.email) == email),
    )
    message_ids = _ids(
        connection,
        select(messages.c.id).where(
            or_(messages.c.ticket_id.in_(ticket_ids), func.lower(messages.c.author) == email)
        ),
    )
    report.add("followers", _delete(connection, followers, func.lower(followers.c.email) == email))
    report.add("followers", _delete(connection, followers, followers.c.ticket_id.in_(ticket_ids)))
    report.add("search documents", _forget(connection, ticket_ids, message_ids))
    _attachments(connection, message_ids, report)
    report.add("messages", _blank_messages(connection, message_ids, email, placeholder))
    report.add("events", _blank_events(connection, ticket_ids, message_ids, email, placeholder))
    report.add("raw mail", _raw_mail(connection, ticket_ids | followed, message_ids, email))
    report.add("outbox mail", _outbox(connection, ticket_ids, email, placeholder))
    report.add("claims", _delete(connection, claims, claims.c.ticket_id.in_(ticket_ids)))
    report.add("sign-in links", _delete(connection, sign_in_links, sign_in_links.c.email == email))
    numbers = select(tickets.c.tracking).where(tickets.c.id.in_(ticket_ids | followed))
    report.add(
        "status pages", _delete(connection, public_pages, public_pages.c.tracking.in_(numbers))
    )
    report.add("tickets", _tickets(connection, ticket_ids, placeholder))
    report.tickets = ticket_ids | followed
    if connection.dialect.name == "sqlite" and search.has_fts(connection):
        connection.exec_driver_sql(f"INSERT INTO {search.FTS}({search.FTS}) VALUES ('optimize')")
    return report


def _ids(connection: Connection, query: object) -> set[int]:
    return {int(row[0]) for row in connection.execute(query)}  # type: ignore[call-overload]


def _delete(connection: Connection, table: object, where: object) -> int:
    return int(connection.execute(delete(table).where(where)).rowcount)  # type: ignore[arg-type]


def _forget(connection: Connection, ticket_ids: set[int], message_ids: set[int]) -> int:
    return search.delete_documents(connection, ticket_ids=ticket_ids, message_ids=message_ids)


def _attachments(connection: Connection, message_ids: Collection[int], report: PurgeReport) -> None:
    """Their messages' attachments, and each file no other attachment shares."""
    files = _shas(connection, attachments.c.message_ref.in_(message_ids))
    report.add(
        "attachments", _delete(connection, attachments, attachments.c.message_ref.in_(message_ids))
    )
    kept = _shas(connection, attachments.c.sha256.in_(files))
    report.add("files", _delete(connection, blobs, blobs.c.sha256.in_(files - kept)))


def _shas(connection: Connection, where: object) -> set[str]:
    query = select(attachments.c.sha256).where(where).distinct()  # type: ignore[arg-type]
    return {str(row[0]) for row in connection.execute(query)}


def _blank_messages(
    connection: Connection, message_ids: Collection[int], email: str, placeholder: str
) -> int:
    mine = func.lower(messages.c.author) == email
    connection.execute(update(messages).where(mine).values(author=placeholder))
    blanked = update(messages).where(messages.c.id.in_(message_ids)).values(subject="", body="")
    return int(connection.execute(blanked).rowcount)


def _blank_events(
    connection: Connection,
    ticket_ids: Collection[int],
    message_ids: Collection[int],
    email: str,
    placeholder: str,
) -> int:
    """Summaries go (types, times, actors of staff and values stay)."""
    connection.execute(
        update(events).where(func.lower(events.c.actor) == email).values(actor=placeholder)
    )
    about = or_(
        events.c.ticket_id.in_(ticket_ids),
        events.c.message_ref.in_(message_ids),
        events.c.actor == placeholder,
        func.lower(events.c.summary).contains(email, autoescape=True),
    )
    return int(
        connection.execute(
            update(events).where(about, events.c.summary != "").values(summary="")
        ).rowcount
    )


def _raw_mail(
    connection: Connection, ticket_ids: Collection[int], message_ids: Collection[int], email: str
) -> int:
    """Raw mail of the tickets they wrote or followed and of their messages, and mail on no
    ticket (held, dropped, suppressed) from them or naming them."""
    stored = select(messages.c.inbound_id).where(messages.c.id.in_(message_ids))
    linked = _ids(
        connection,
        select(inbound.c.id).where(
            or_(
                inbound.c.ticket_id.in_(ticket_ids),
                inbound.c.id.in_(stored),
                func.lower(inbound.c.envelope_from) == email,
            )
        ),
    )
    needle = email.encode("utf-8")
    held = connection.execute(
        select(inbound.c.id, inbound.c.raw).where(
            inbound.c.ticket_id.is_(None), inbound.c.raw.is_not(None)
        )
    )
    linked |= {int(row.id) for row in held if needle in unpack_raw(row.raw).lower()}
    erased = update(inbound).where(inbound.c.id.in_(linked))
    connection.execute(erased.values(raw=None, envelope_from=None, envelope_to=None, reason=""))
    return len(linked)


def _outbox(
    connection: Connection, ticket_ids: Collection[int], email: str, placeholder: str
) -> int:
    """Composed mail about their tickets or to them: its bytes go; unsent mail is never
    sent (failed, ``purged``)."""
    about = or_(
        outbox.c.ticket_id.in_(ticket_ids),
        func.lower(outbox.c.recipient) == email,
        (literal(",") + func.lower(outbox.c.recipients) + ",").contains(
            f",{email},", autoescape=True
        ),
    )
    unsent = outbox.c.state.in_((OutboxState.PENDING, OutboxState.SENDING))
    connection.execute(
        update(outbox)
        .where(about, unsent)
        .values(state=OutboxState.FAILED, last_error="purged", claimer="")
    )
    connection.execute(
        update(outbox)
        .where(about, func.lower(outbox.c.recipient) == email)
        .values(recipient=placeholder)
    )
    return int(
        connection.execute(
            update(outbox).where(about).values(data=b"", recipients="", last_error="purged")
        ).rowcount
    )


def _tickets(connection: Connection, ticket_ids: Collection[int], placeholder: str) -> int:
    fingerprint = hashlib.sha256(placeholder.encode("utf-8")).hexdigest()
    return int(
        connection.execute(
            update(tickets)
            .where(tickets.c.id.in_(ticket_ids))
            .values(
                requester_email=placeholder,
                requester_name="",
                subject=REMOVED_SUBJECT,
                fingerprint=fingerprint,
            )
        ).rowcount
    )
