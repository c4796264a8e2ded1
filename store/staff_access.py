"""The staff workspace's sign-in on the database (``web.staff.access.StaffAccess``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta

from sqlalchemy import select

from ticketd.mail.message import OutgoingMessage
from ticketd.routing.links import secret_digest
from ticketd.routing.model import EngineerInfo
from ticketd.routing.signin import LinkState, SignIn, may_mail_link, safe_next, staff_user
from ticketd.routing.workspace import StaffUser
from ticketd.store.db import Store
from ticketd.store.schema import api_tokens, staff_sessions
from ticketd.store.staff_auth import found, links_since, new_secret

TOKEN_TOUCH = timedelta(minutes=1)
"""An API token's ``last_used_at`` is written at most this often."""
LinkMail = Callable[[StaffUser, str], OutgoingMessage]
"""Renders the sign-in mail to an engineer with the link's URL."""


class SqlStaffAccess:
    """``web.staff.access.StaffAccess`` on the database, on the store's clock.
    ``engineers`` is read at every call: sessions and tokens resolve to the
    configuration's current engineers."""

    def __init__(
        self,
        store: Store,
        engineers: Callable[[], Sequence[EngineerInfo]],
        token_bytes: Callable[[int], bytes],
        link_mail: LinkMail,
        base_url: str,
        session_hours: float,
    ) -> None:
        self.store = store
        self.engineers = engineers
        self.token_bytes = token_bytes
        self.link_mail = link_mail
        self.base_url = base_url.rstrip("/")
        self.session_hours = session_hours

    def request_link(self, email: str, next_path: str) -> None:
        user = staff_user(email, self.engineers())
        if user is None:
            return
        now = self.store.now()
        secret = new_secret(self.token_bytes)
        mail = self.link_mail(user, f"{self.base_url}/staff/login/{secret}")
        with self.store.write() as writer:
            recent = links_since(writer.connection, user.email, now - timedelta(hours=1))
            if may_mail_link(recent):
                writer.add_sign_in_link(
                    secret_digest(secret), user.email, safe_next(next_path), mail
                )

    def sign_in(self, token: str) -> SignIn | str:
        with self.store.write() as writer:
            spent = writer.spend_sign_in_link(secret_digest(token))
            if isinstance(spent, str):
                return spent
            email, next_path = spent
            if staff_user(email, self.engineers()) is None:
                return LinkState.UNKNOWN
            session_id = new_secret(self.token_bytes)
            writer.open_session(secret_digest(session_id), email, self.session_hours)
        return SignIn(session_id, safe_next(next_path))

    def session(self, session_id: str) -> StaffUser | None:
        digest = secret_digest(session_id)
        query = select(staff_sessions).where(
            staff_sessions.c.digest == digest,
            staff_sessions.c.ended_at.is_(None),
            staff_sessions.c.expires_at > self.store.now(),
        )
        with self.store.engine.connect() as connection:
            row = found(connection, query, digest)
        return staff_user(row.email, self.engineers()) if row is not None else None

    def bearer(self, token: str) -> StaffUser | None:
        digest = secret_digest(token)
        query = select(api_tokens).where(
            api_tokens.c.digest == digest, api_tokens.c.revoked_at.is_(None)
        )
        with self.store.engine.connect() as connection:
            row = found(connection, query, digest)
        user = staff_user(row.email, self.engineers()) if row is not None else None
        now = self.store.now()
        if user is not None and (row.last_used_at is None or row.last_used_at < now - TOKEN_TOUCH):
            with self.store.write() as writer:
                writer.api_token_used(row.id)
        return user

    def sign_out(self, session_id: str) -> None:
        with self.store.write() as writer:
            writer.end_session(secret_digest(session_id))
