"""Who may sign in to the staff workspace, and where a sign-in may lead: pure rules over
the configuration's engineers (read at every request, so a removed engineer is out at once)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from ticketd.routing.model import EngineerInfo
from ticketd.routing.workspace import StaffUser

LINK_LIFETIME = timedelta(minutes=15)
LINKS_PER_ADDRESS_PER_HOUR = 5
HOME = "/staff/"
_NEXT = re.compile(r"/staff/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*")


def staff_user(email: str, engineers: Iterable[EngineerInfo]) -> StaffUser | None:
    """The configured engineer with this address (case-insensitive), or None."""
    wanted = email.strip().lower()
    for engineer in engineers:
        if engineer.email.lower() == wanted:
            return StaffUser(engineer.email, engineer.name, engineer.role, engineer.teams)
    return None


def may_mail_link(links_last_hour: int) -> bool:
    """True while an address has had fewer than ``LINKS_PER_ADDRESS_PER_HOUR`` links."""
    return links_last_hour < LINKS_PER_ADDRESS_PER_HOUR


def safe_next(path: str | None) -> str:
    """Where to go after signing in: a path of the workspace on this site, else its home
    (never another site: no scheme, no ``//host``, no backslash, no control characters)."""
    if path and _NEXT.fullmatch(path) and "//" not in path and ".." not in path:
        return path
    return HOME


@dataclass(frozen=True, slots=True)
class SignIn:
    """A session just opened by a sign-in link, and the workspace path it leads to."""

    session_id: str
    next_path: str


class LinkState:
    """Why a sign-in link opened nothing."""

    UNKNOWN = "unknown"
    SPENT = "spent"
