"""The fingerprint of a claim: the same sender, subject and body mean the same claim."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from ticketd.mail.message import InboundMessage
from ticketd.mail.subject import normalize_subject

RESEND_WINDOW = timedelta(hours=24)
_SPACE = re.compile(r"\s+")


def claim_fingerprint(msg: InboundMessage) -> str:
    """A stable hash of sender, normalised subject and whitespace-collapsed body."""
    sender = msg.from_addr.email if msg.from_addr else ""
    subject = normalize_subject(msg.subject)
    body = _SPACE.sub(" ", msg.new_text or msg.text).strip().casefold()
    digest = hashlib.sha256("\x1f".join((sender, subject, body)).encode("utf-8"))
    return digest.hexdigest()
