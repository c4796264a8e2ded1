"""Personal data: what stands in for a purged person, and when retention removes files."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

PURGED_DOMAIN = "invalid"
REMOVED_SUBJECT = "(removed)"
"""The subject a purged person's tickets keep (RFC 2606 reserves ``.invalid``)."""


def placeholder_address(email: str) -> str:
    """The same anonymous address for the same person (so a purge is idempotent and their
    tickets still count as one requester's), never deliverable."""
    digest = hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()[:16]
    return f"purged-{digest}@{PURGED_DOMAIN}"


def is_placeholder(email: str) -> bool:
    return email.startswith("purged-") and email.endswith(f"@{PURGED_DOMAIN}")


@dataclass(frozen=True)
class RetentionPolicy:
    """Days to keep raw mail and attachment files; 0 keeps them for ever."""

    raw_mail_days: int = 0
    attachments_days: int = 0

    def raw_mail_cutoff(self, now: datetime) -> datetime | None:
        """Raw mail processed before this is removed (None: none is)."""
        return now - timedelta(days=self.raw_mail_days) if self.raw_mail_days else None

    def attachments_cutoff(self, now: datetime) -> datetime | None:
        """Files of messages received before this are removed (None: none are)."""
        return now - timedelta(days=self.attachments_days) if self.attachments_days else None
