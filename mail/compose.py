"""Building outgoing mail: UTF-8, threaded, RFC 3834-marked, and safe from header injection."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from ticketd.mail.message import Address, OutgoingMessage

MAX_REFERENCES = 20
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9.-]{1,253}$")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9-]{1,76}$")


def clean_header(value: str) -> str:
    """One line of text: CR, LF and other control characters become spaces."""
    return " ".join(_CONTROL.sub(" ", value).split())


def valid_address(email: str) -> str:
    """``email`` when it is a plain address; ValueError otherwise (no CR/LF, no spaces)."""
    if not _ADDRESS.match(email):
        raise ValueError(f"not a valid mail address: {email!r}")
    return email


def make_message_id(token_bytes: Callable[[int], bytes], domain: str) -> str:
    """A fresh, unguessable Message-ID on our domain (without angle brackets)."""
    token = base64.b32encode(token_bytes(15)).decode("ascii").lower()
    return f"{token}@{valid_address('x@' + domain).partition('@')[2]}"


def _mailbox(address: Address) -> str:
    email = valid_address(address.email)
    name = clean_header(address.name).replace("\\", "").replace('"', "")
    return f'"{name}" <{email}>' if name else email


def compose(
    *,
    from_addr: Address,
    to: Sequence[Address],
    subject: str,
    text: str,
    message_id: str,
    date: datetime,
    html: str | None = None,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    auto_submitted: str | None = "auto-replied",
    reply_to: Address | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> OutgoingMessage:
    """A complete mail; every header value from input is cleaned of CR/LF first."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = _mailbox(from_addr)
    msg["To"] = ", ".join(_mailbox(a) for a in to)
    if reply_to is not None:
        msg["Reply-To"] = _mailbox(reply_to)
    msg["Subject"] = clean_header(subject)
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = f"<{_msgid(message_id)}>"
    if in_reply_to:
        msg["In-Reply-To"] = f"<{_msgid(in_reply_to)}>"
    refs = [f"<{_msgid(r)}>" for r in references if r][-MAX_REFERENCES:]
    if refs:
        msg["References"] = " ".join(refs)
    if auto_submitted:
        msg["Auto-Submitted"] = clean_header(auto_submitted)
    msg["X-Loop"] = valid_address(from_addr.email)
    for name, value in (extra_headers or {}).items():
        if not _HEADER_NAME.match(name):
            raise ValueError(f"invalid header name {name!r}")
        msg[name] = clean_header(value)
    msg.set_content(text, charset="utf-8", cte="8bit" if text.isascii() else "base64")
    if html is not None:
        msg.add_alternative(html, subtype="html", charset="utf-8")
    return OutgoingMessage(
        message_id=_msgid(message_id),
        sender=from_addr.email,
        recipients=tuple(a.email for a in to),
        data=msg.as_bytes(),
        headers={"Subject": clean_header(subject)},
    )


def _msgid(value: str) -> str:
    cleaned = clean_header(value).strip("<>").replace(" ", "")
    if not cleaned or "<" in cleaned or ">" in cleaned:
        raise ValueError(f"invalid Message-ID {value!r}")
    return cleaned
