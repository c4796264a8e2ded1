"""What the workspace's sign-in needs from the rest of ticketd (implemented on the
database): links, sessions and API tokens, each resolving to a current engineer."""

from __future__ import annotations

from typing import Protocol

from ticketd.routing.signin import LinkState, SignIn
from ticketd.routing.workspace import StaffUser

__all__ = ["LinkState", "SignIn", "StaffAccess"]


class StaffAccess(Protocol):
    def request_link(self, email: str, next_path: str) -> None:
        """Mail a sign-in link when ``email`` is a configured engineer's, within the
        per-address cap; anything else changes nothing. Called after the answer went out."""

    def sign_in(self, token: str) -> SignIn | str:
        """Spend a link: the new session, or a ``LinkState`` (unknown; spent or expired)."""

    def session(self, session_id: str) -> StaffUser | None:
        """The engineer of an open, unexpired session who is still configured, or None."""

    def bearer(self, token: str) -> StaffUser | None:
        """The engineer of an unrevoked API token who is still configured, or None."""

    def sign_out(self, session_id: str) -> None:
        """End the session (server-side: the cookie opens nothing afterwards)."""
