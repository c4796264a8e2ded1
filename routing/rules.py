"""Tiny named predicates over a parsed message. Each returns a reason or None; no I/O."""

from __future__ import annotations

from ticketd.mail.message import InboundMessage
from ticketd.routing.model import Hit

ROLE_LOCAL_PARTS = frozenset(
    {"mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply", "do-not-reply"}
)
BULK_PRECEDENCE = frozenset({"bulk", "junk", "list"})


def auto_submitted(msg: InboundMessage) -> Hit | None:
    """RFC 3834: anything but ``Auto-Submitted: no`` is automatic."""
    value = (msg.auto_submitted or "").split(";")[0].strip()
    if value and value != "no":
        return Hit("auto-submitted", f"Auto-Submitted: {value}")
    return None


def bulk_precedence(msg: InboundMessage) -> Hit | None:
    if msg.precedence and msg.precedence.strip() in BULK_PRECEDENCE:
        return Hit("bulk-precedence", f"Precedence: {msg.precedence.strip()}")
    return None


def mailing_list(msg: InboundMessage) -> Hit | None:
    if msg.list_id:
        return Hit("mailing-list", "List-Id present")
    return None


def role_sender(msg: InboundMessage) -> Hit | None:
    """Senders that are machines, not people: mailer-daemon@, postmaster@, noreply@ …"""
    if msg.from_addr and msg.from_addr.local_part.split("+")[0] in ROLE_LOCAL_PARTS:
        return Hit("role-sender", f"sender {msg.from_addr.local_part}@ is automatic")
    return None


def own_address(msg: InboundMessage, support_address: str) -> Hit | None:
    """Mail from our own support address (or its +tag forms) is our own echo."""
    if msg.from_addr and _same_mailbox(msg.from_addr.email, support_address):
        return Hit("own-address", "sent from the support address itself")
    return None


def loop_marker(msg: InboundMessage, support_address: str) -> Hit | None:
    """An ``X-Loop`` header naming us means the mail already passed through ticketd."""
    for value in msg.x_loop:
        if support_address.lower() in value.lower():
            return Hit("x-loop", "X-Loop names the support address")
    return None


def delivery_report(msg: InboundMessage) -> Hit | None:
    if msg.report is not None:
        return Hit("delivery-status", f"delivery report: {msg.report.action or 'failed'}")
    return None


def automatic_hits(msg: InboundMessage, support_address: str) -> tuple[Hit, ...]:
    """Every reason this message must never be answered automatically."""
    found = (
        auto_submitted(msg),
        bulk_precedence(msg),
        mailing_list(msg),
        role_sender(msg),
        own_address(msg, support_address),
        loop_marker(msg, support_address),
        delivery_report(msg),
    )
    return tuple(hit for hit in found if hit is not None)


def _same_mailbox(address: str, support_address: str) -> bool:
    local, _, domain = address.lower().rpartition("@")
    s_local, _, s_domain = support_address.lower().rpartition("@")
    return domain == s_domain and local.split("+")[0] == s_local
