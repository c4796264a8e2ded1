"""The rows of the staff workspace's sign-in links, sessions and API tokens: only SHA-256
digests are stored and every secret is random; the writes are the ``Writer``'s to call."""

from __future__ import annotations

import base64
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from ticketd.routing.signin import LINK_LIFETIME, LinkState
from ticketd.store.schema import api_tokens, sign_in_links, staff_sessions

SECRET_BYTES = 32


def new_secret(token_bytes: Callable[[int], bytes]) -> str:
    """A random secret for a link, a session or a token: 52 base32 characters (256 bits)."""
    return base64.b32encode(token_bytes(SECRET_BYTES)).decode("ascii").rstrip("=").lower()


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """An API token as ``ticketd token list`` shows it (never the token itself)."""

    id: int
    email: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


# --- writes (called by store/writer.py) -------------------------------------------------


def add_link(
    connection: Connection, digest: str, email: str, next_path: str, now: datetime
) -> None:
    connection.execute(
        insert(sign_in_links).values(
            digest=digest,
            email=email,
            next_path=next_path,
            created_at=now,
            expires_at=now + LINK_LIFETIME,
        )
    )


def spend_link(connection: Connection, digest: str, now: datetime) -> tuple[str, str] | str:
    """Mark the link used (once, of two racing exactly one wins): its engineer and next
    path, or a ``LinkState``."""
    row = connection.execute(select(sign_in_links).where(sign_in_links.c.digest == digest)).first()
    if row is None or not hmac.compare_digest(row.digest, digest):
        return LinkState.UNKNOWN
    spent = connection.execute(
        update(sign_in_links)
        .where(
            sign_in_links.c.id == row.id,
            sign_in_links.c.used_at.is_(None),
            sign_in_links.c.expires_at > now,
        )
        .values(used_at=now)
    )
    return (row.email, row.next_path) if spent.rowcount == 1 else LinkState.SPENT


def open_session(
    connection: Connection, digest: str, email: str, now: datetime, hours: float
) -> None:
    connection.execute(
        insert(staff_sessions).values(
            digest=digest, email=email, created_at=now, expires_at=now + timedelta(hours=hours)
        )
    )


def end_session(connection: Connection, digest: str, now: datetime) -> None:
    connection.execute(
        update(staff_sessions)
        .where(staff_sessions.c.digest == digest, staff_sessions.c.ended_at.is_(None))
        .values(ended_at=now)
    )


def add_token(connection: Connection, digest: str, email: str, now: datetime) -> int:
    result = connection.execute(
        insert(api_tokens).values(digest=digest, email=email, created_at=now)
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def revoke_token(connection: Connection, token_id: int, now: datetime) -> bool:
    result = connection.execute(
        update(api_tokens)
        .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return result.rowcount == 1


def touch_token(connection: Connection, token_id: int, now: datetime) -> None:
    connection.execute(
        update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=now)
    )


# --- reads ------------------------------------------------------------------------------


def links_since(connection: Connection, email: str, since: datetime) -> int:
    query = select(func.count()).where(
        sign_in_links.c.email == email, sign_in_links.c.created_at > since
    )
    return int(connection.execute(query).scalar_one())


def list_tokens(connection: Connection) -> list[TokenInfo]:
    rows = connection.execute(select(api_tokens).order_by(api_tokens.c.id)).all()
    return [TokenInfo(r.id, r.email, r.created_at, r.last_used_at, r.revoked_at) for r in rows]


def found(connection: Connection, query: Any, digest: str) -> Any:
    """The row ``query`` finds, when its digest is ``digest`` (compared in constant time)."""
    row = connection.execute(query).first()
    return row if row is not None and hmac.compare_digest(row.digest, digest) else None
