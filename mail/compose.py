"""Building outgoing mail: UTF-8, threaded, RFC 3834-marked, and safe from header injection.

Serialised directly (RFC 5322 + RFC 2047 + RFC 2045), without ``email.policy``: the outbox
renders thousands of mails per second inside ingest transactions. Text in headers is always
encoded words, so a mail is plain ASCII unless an address is UTF-8 (``김민수@outside.test``):
then the addresses, and the UTF-8 Message-IDs it refers to, are written as UTF-8 (RFC 6532)
and the mail needs a relay that speaks SMTPUTF8 (``OutgoingMessage.needs_smtputf8``). An
ASCII-only mail leaves out references to UTF-8 Message-IDs so any relay can carry it.
"""

from __future__ import annotations

import base64
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from email.utils import format_datetime
from urllib.parse import quote

from ticketd.mail.message import Address, Attachment, OutgoingMessage

MAX_REFERENCES = 20
ENCODED_WORD_BYTES = 45
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ADDRESS = re.compile(
    r"^(?:[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]|[^\x00-\x7f]){1,64}@[A-Za-z0-9.-]{1,253}$"
)
_HEADER_NAME = re.compile(r"^[A-Za-z0-9-]{1,76}$")
_ATOM_PHRASE = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]*$")
_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$")


def clean_header(value: str) -> str:
    """One line of text: CR, LF and other control characters become spaces."""
    return " ".join(_CONTROL.sub(" ", value).split())


def valid_address(email: str) -> str:
    """``email`` when it is a plain address, its local part possibly UTF-8 (RFC 6531);
    ValueError otherwise (no CR/LF, no spaces, no invisible characters)."""
    if not _ADDRESS.match(email) or any(unicodedata.category(c)[0] in "CZ" for c in email):
        raise ValueError(f"not a valid mail address: {email!r}")
    return email


def make_message_id(token_bytes: Callable[[int], bytes], domain: str) -> str:
    """A fresh, unguessable Message-ID on our domain (without angle brackets)."""
    token = base64.b32encode(token_bytes(15)).decode("ascii").lower()
    return f"{token}@{valid_address('x@' + domain).partition('@')[2]}"


def encode_words(text: str) -> str:
    """``text`` as RFC 2047 B-encoded words (UTF-8), folded, never splitting a character."""
    words: list[bytes] = []
    chunk = b""
    for char in text:
        encoded = char.encode("utf-8")
        if len(chunk) + len(encoded) > ENCODED_WORD_BYTES:
            words.append(chunk)
            chunk = b""
        chunk += encoded
    if chunk:
        words.append(chunk)
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(w).decode('ascii')}?=" for w in words)


def _text_header(value: str) -> str:
    value = clean_header(value)
    if value.isascii() and len(value) <= 900 and "=?" not in value:
        return value
    return encode_words(value)


def _mailbox(address: Address) -> str:
    email = valid_address(address.email)
    name = clean_header(address.name)
    if not name:
        return email
    if name.isascii() and _ATOM_PHRASE.match(name):
        return f"{name} <{email}>"
    if name.isascii():
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{quoted}" <{email}>'
    return f"{encode_words(name)} <{email}>"


def _msgid(value: str) -> str:
    cleaned = clean_header(value).strip("<>").replace(" ", "")
    if not cleaned or "<" in cleaned or ">" in cleaned or len(cleaned) > 900:
        raise ValueError(f"invalid Message-ID {value!r}")
    return cleaned


def _attachment_part(attachment: Attachment) -> list[str]:
    """One file as a base64 MIME part; the name RFC 2231-encoded, the type sanitised."""
    ctype = attachment.content_type.lower()
    if not _CONTENT_TYPE.match(ctype):
        ctype = "application/octet-stream"
    name = quote(clean_header(attachment.filename) or "attachment", safe="")
    encoded = base64.encodebytes(attachment.data).decode("ascii").rstrip("\n")
    return [
        f"Content-Type: {ctype}",
        "Content-Transfer-Encoding: base64",
        f"Content-Disposition: attachment; filename*=utf-8''{name}",
        "",
        encoded.replace("\n", "\r\n"),
    ]


def _references(message_ids: Sequence[str], utf8: bool) -> list[str]:
    """``<id>`` for each Message-ID a mail may name: UTF-8 ones only in a UTF-8 mail."""
    return [f"<{_msgid(m)}>" for m in message_ids if m and (utf8 or m.isascii())]


def _body_part(text: str, subtype: str) -> list[str]:
    data = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = data.split("\n")
    if data.isascii() and all(len(line) <= 900 for line in lines):
        return [
            f"Content-Type: text/{subtype}; charset=utf-8",
            "Content-Transfer-Encoding: 7bit",
            "",
            "\r\n".join(lines),
        ]
    encoded = base64.encodebytes(data.replace("\n", "\r\n").encode("utf-8")).decode("ascii")
    return [
        f"Content-Type: text/{subtype}; charset=utf-8",
        "Content-Transfer-Encoding: base64",
        "",
        encoded.rstrip("\n").replace("\n", "\r\n"),
    ]


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
    cc: Sequence[Address] = (),
    attachments: Sequence[Attachment] = (),
) -> OutgoingMessage:
    """A complete mail; every header value from input is cleaned of CR/LF first."""
    mid = _msgid(message_id)
    addresses = [from_addr, *to, *([reply_to] if reply_to else [])]
    utf8 = not all(address.email.isascii() for address in addresses)
    headers = [
        f"From: {_mailbox(from_addr)}",
        "To: " + ",\r\n ".join(_mailbox(a) for a in to),
    ]
    if cc:
        headers.append("Cc: " + ",\r\n ".join(_mailbox(a) for a in cc))
    if reply_to is not None:
        headers.append(f"Reply-To: {_mailbox(reply_to)}")
    headers += [
        f"Subject: {_text_header(subject)}",
        f"Date: {format_datetime(date)}",
        f"Message-ID: <{mid}>",
    ]
    parent = _references([in_reply_to or ""], utf8)
    if parent:
        headers.append(f"In-Reply-To: {parent[0]}")
    refs = _references(references, utf8)[-MAX_REFERENCES:]
    if refs:
        headers.append("References: " + "\r\n ".join(refs))
    if auto_submitted:
        headers.append(f"Auto-Submitted: {clean_header(auto_submitted)}")
    headers.append(f"X-Loop: {valid_address(from_addr.email)}")
    for name, value in (extra_headers or {}).items():
        if not _HEADER_NAME.match(name):
            raise ValueError(f"invalid header name {name!r}")
        headers.append(f"{name}: {_text_header(value)}")
    headers.append("MIME-Version: 1.0")
    if html is None:
        body = _body_part(text, "plain")
    else:
        boundary = f"=_{mid.partition('@')[0][:40]}"
        body = [
            f'Content-Type: multipart/alternative; boundary="{boundary}"',
            "",
            f"--{boundary}",
            *_body_part(text, "plain"),
            f"--{boundary}",
            *_body_part(html, "html"),
            f"--{boundary}--",
        ]
    if attachments:
        boundary = f"=_mixed_{mid.partition('@')[0][:40]}"
        parts = [f"--{boundary}\r\n" + "\r\n".join(body)]
        parts += [f"--{boundary}\r\n" + "\r\n".join(_attachment_part(a)) for a in attachments]
        body = [
            f'Content-Type: multipart/mixed; boundary="{boundary}"',
            "",
            *parts,
            f"--{boundary}--",
        ]
    data = ("\r\n".join([*headers, *body]) + "\r\n").encode("utf-8" if utf8 else "ascii")
    return OutgoingMessage(
        message_id=mid,
        sender=from_addr.email,
        recipients=tuple(dict.fromkeys(a.email for a in (*to, *cc))),
        data=data,
        headers={"Subject": clean_header(subject)},
    )
