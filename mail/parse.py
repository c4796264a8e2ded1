"""Parsing raw mail into an ``InboundMessage``. Never raises, whatever the bytes.

Uses the fast ``compat32`` parser and decodes headers itself (RFC 2047, raw 8-bit, the
Korean aliases in ``charsets``; addresses from the raw values, in ``addresses``); hostile or
broken input becomes ``defects``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from email.utils import parsedate_to_datetime

from ticketd.mail.addresses import parse_address_list, parse_mailbox
from ticketd.mail.attachments import safe_filename
from ticketd.mail.charsets import decode_bytes, decode_header_value
from ticketd.mail.htmltext import html_to_text
from ticketd.mail.message import Address, Attachment, DeliveryReport, InboundMessage
from ticketd.mail.quotes import strip_quoted

_MSGID = re.compile(r"<([^<>\s]{1,900})>")
_HEADER_LINE = re.compile(rb"[!-9;-~]+[ \t]*:")
_PARSER = BytesParser(policy=compat32)
MAX_PREAMBLE_LINES = 3


@dataclass(frozen=True)
class ParseLimits:
    """Caps that keep hostile mail (bombs, giant parts) cheap."""

    max_attachment_bytes: int = 10 * 1024 * 1024
    max_total_attachment_bytes: int = 25 * 1024 * 1024
    max_parts: int = 200
    max_depth: int = 10
    max_text_chars: int = 200_000


@dataclass
class _Body:
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    attachment_bytes: int = 0
    defects: list[str] = field(default_factory=list)
    report: DeliveryReport | None = None


def parse(data: bytes, *, limits: ParseLimits | None = None) -> InboundMessage:
    """Parse ``data``; whatever cannot be read is named in ``defects``."""
    limits = limits or ParseLimits()
    try:
        return _parse(data, limits)
    except Exception as exc:
        return InboundMessage(
            message_id=_synthetic_id(data),
            from_addr=None,
            subject="",
            text="",
            new_text="",
            defects=(f"unparseable message: {type(exc).__name__}",),
            message_id_synthesized=True,
            from_problem="unparseable message",
        )


def _parse(data: bytes, limits: ParseLimits) -> InboundMessage:
    msg, skipped = _message(data)
    defects = ["text before the first header skipped"] if skipped else []
    message_id = _first_id(_header(msg, "Message-ID"))
    synthesized = message_id is None
    if message_id is None:
        message_id = _synthetic_id(data)
        defects.append("missing or invalid Message-ID")
    author = parse_mailbox(_all_headers(msg, "From"), "From")
    defects.extend(author.defects)
    if author.address is None:
        defects.append("missing or invalid From")
    reply_to, to, cc = (_addresses(msg, h, defects) for h in ("Reply-To", "To", "Cc"))
    sender = _sender(msg, defects)
    body = _Body()
    _walk(msg, body, limits)
    defects.extend(body.defects)
    text = "\n\n".join(t for t in body.plain if t.strip())
    if not text.strip() and body.html:
        text = "\n\n".join(html_to_text(h) for h in body.html)
    text = text[: limits.max_text_chars].replace("\r\n", "\n").strip()
    return InboundMessage(
        message_id=message_id,
        from_addr=author.address,
        subject=decode_header_value(_header(msg, "Subject"))[:1000],
        text=text,
        new_text=strip_quoted(text),
        date=_date(_header(msg, "Date")),
        reply_to=reply_to,
        to=to,
        cc=cc,
        in_reply_to=tuple(_MSGID.findall(_header(msg, "In-Reply-To")))[:20],
        references=tuple(_MSGID.findall(_header(msg, "References")))[-50:],
        auto_submitted=_lower(_header(msg, "Auto-Submitted")),
        precedence=_lower(_header(msg, "Precedence")),
        list_id=_header(msg, "List-Id") or None,
        x_loop=tuple(_all_headers(msg, "X-Loop")),
        authentication_results=tuple(_all_headers(msg, "Authentication-Results")),
        delivered_to=tuple(_all_headers(msg, "Delivered-To")),
        content_language=_header(msg, "Content-Language") or None,
        report=body.report,
        attachments=tuple(body.attachments),
        defects=tuple(defects),
        message_id_synthesized=synthesized,
        from_problem=author.problem,
        sender=sender,
    )


def _message(data: bytes) -> tuple[Message, bool]:
    """The parsed message; when stray text before the first header (a few lines at most)
    hid the From header, the message read from that header on, and True."""
    msg = _PARSER.parsebytes(data)
    if "From" in msg:
        return msg, False
    lines = data.split(b"\n", MAX_PREAMBLE_LINES + 1)
    for index, line in enumerate(lines[: MAX_PREAMBLE_LINES + 1]):
        start = line.lstrip()
        if _HEADER_LINE.match(start):
            if index or start != line:
                retry = _PARSER.parsebytes(b"\n".join([start, *lines[index + 1 :]]))
                if "From" in retry:
                    return retry, True
            break
    return msg, False


def _walk(msg: Message, body: _Body, limits: ParseLimits) -> None:
    stack: list[tuple[Message, int]] = [(msg, 0)]
    seen = 0
    while stack:
        part, depth = stack.pop()
        seen += 1
        if seen > limits.max_parts:
            body.defects.append(f"too many MIME parts (more than {limits.max_parts})")
            return
        ctype = part.get_content_type()
        if part.is_multipart():
            if depth >= limits.max_depth:
                body.defects.append(f"MIME nesting deeper than {limits.max_depth}")
                continue
            payload = part.get_payload()
            children = payload if isinstance(payload, list) else []
            if ctype == "multipart/report":
                body.report = _delivery_report(children) or body.report
            if ctype == "multipart/alternative":
                children = _preferred_alternative(children)
            stack.extend((child, depth + 1) for child in reversed(children))
            continue
        _leaf(part, ctype, seen, body, limits)


def _preferred_alternative(children: list[Message]) -> list[Message]:
    plain = [c for c in children if c.get_content_type() == "text/plain"]
    return plain[:1] or children[-1:]


def _leaf(part: Message, ctype: str, index: int, body: _Body, limits: ParseLimits) -> None:
    disposition = str(part.get("Content-Disposition", "")).split(";")[0].strip().lower()
    filename = _filename(part)
    is_text = ctype in ("text/plain", "text/html")
    if is_text and disposition != "attachment" and not filename:
        raw = _payload(part, body, index, limits.max_text_chars * 4)
        if raw is None:
            return
        text = decode_bytes(raw, part.get_content_charset())
        (body.plain if ctype == "text/plain" else body.html).append(text)
        return
    if ctype in ("message/delivery-status", "text/rfc822-headers") and not filename:
        return
    raw = _payload(part, body, index, limits.max_attachment_bytes, name=filename)
    if raw is None:
        return
    if body.attachment_bytes + len(raw) > limits.max_total_attachment_bytes:
        body.defects.append(f"attachments over the total cap: {filename or index} skipped")
        return
    body.attachment_bytes += len(raw)
    body.attachments.append(
        Attachment(
            filename=safe_filename(filename, ctype, index),
            content_type=ctype,
            data=raw,
            sha256=hashlib.sha256(raw).hexdigest(),
        )
    )


def _payload(
    part: Message, body: _Body, index: int, cap: int, name: str | None = None
) -> bytes | None:
    """The decoded payload, bounded: an over-cap part is skipped before it is decoded."""
    payload = part.get_payload()
    if not isinstance(payload, str):
        return None
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    estimate = len(payload) * 3 // 4 if encoding == "base64" else len(payload)
    if estimate > cap:
        label = name or f"part {index}"
        body.defects.append(f"part too large: {label} ({estimate // 1024} KiB) skipped")
        return None
    try:
        raw = part.get_payload(decode=True)
    except Exception:
        raw = None
    if not isinstance(raw, bytes):
        body.defects.append(f"undecodable payload in part {index}")
        return None
    if any("base64" in type(d).__name__.lower() for d in part.defects):
        body.defects.append(f"damaged base64 in part {index}")
    return raw


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        return "attachment"
    if name is None:
        return None
    return decode_header_value(str(name))


def _delivery_report(children: list[Message]) -> DeliveryReport | None:
    status = next((c for c in children if c.get_content_type() == "message/delivery-status"), None)
    if status is None:
        return None
    fields: dict[str, list[str]] = {}
    payload = status.get_payload()
    blocks = payload if isinstance(payload, list) else []
    for block in blocks:
        for key, value in block.items():
            fields.setdefault(key.lower(), []).append(str(value))
    if not blocks and isinstance(payload, str):
        for line in payload.splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip().lower(), []).append(value.strip())
    original = None
    for child in children:
        if child.get_content_type() in ("message/rfc822", "text/rfc822-headers"):
            original = _original_message_id(child)
    recipients = tuple(
        v.split(";", 1)[-1].strip().lower()
        for v in fields.get("final-recipient", fields.get("original-recipient", []))
    )
    return DeliveryReport(
        original_message_id=original,
        recipients=recipients,
        action=(fields.get("action") or [""])[0].strip().lower(),
        status=(fields.get("status") or [""])[0].strip(),
        diagnostic=decode_header_value((fields.get("diagnostic-code") or [""])[0])[:500],
    )


def _original_message_id(part: Message) -> str | None:
    payload = part.get_payload()
    if isinstance(payload, list) and payload:
        return _first_id(_header(payload[0], "Message-ID"))
    if isinstance(payload, str):
        match = re.search(r"^Message-ID:\s*(<[^>]+>)", payload, re.IGNORECASE | re.MULTILINE)
        return _first_id(match.group(1)) if match else None
    return None


def _header(msg: Message, name: str) -> str:
    """The first raw value of a header (8-bit bytes kept as surrogate escapes)."""
    values = _all_headers(msg, name)
    return values[0] if values else ""


def _all_headers(msg: Message, name: str) -> list[str]:
    wanted = name.lower()
    return [" ".join(str(value).split()) for key, value in msg.raw_items() if key.lower() == wanted]


def _lower(value: str) -> str | None:
    return value.strip().lower() or None


def _first_id(value: str) -> str | None:
    match = _MSGID.search(value)
    if match:
        return match.group(1)
    bare = value.strip()
    return bare if bare and " " not in bare and "@" in bare and len(bare) < 900 else None


def _synthetic_id(data: bytes) -> str:
    return f"sha256-{hashlib.sha256(data).hexdigest()}@ticketd.invalid"


def _addresses(msg: Message, name: str, defects: list[str]) -> tuple[Address, ...]:
    """Every usable address of a header (all its occurrences); the rest named in ``defects``."""
    found: list[Address] = []
    for value in _all_headers(msg, name):
        parsed = parse_address_list(value)
        found.extend(parsed.addresses)
        defects.extend(f"{name}: unusable address skipped ({why})" for why in parsed.rejected)
        defects.extend(f"{name}: {defect}" for defect in parsed.defects)
    return tuple(found)


def _sender(msg: Message, defects: list[str]) -> Address | None:
    values = _all_headers(msg, "Sender")
    found = parse_mailbox(values, "Sender")
    if values and found.address is None:
        defects.append(found.problem)
    return found.address


def _date(value: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
