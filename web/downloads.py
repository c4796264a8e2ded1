"""Attachments served for download: a name safe for any browser and file system, and
headers that make the browser save the bytes, never render them."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from starlette.responses import Response

MAX_NAME_CHARS = 150
_UNSAFE = re.compile(r'[<>:"|?*%;\\]')
_ATTR_CHARS = "!#$&+-.^_`|~"  # RFC 5987 attr-char besides letters and digits
DOWNLOAD_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; sandbox",
    "X-Content-Type-Options": "nosniff",
}


def download_name(name: str) -> str:
    """The last path segment of ``name`` without control, format (bidirectional, zero
    width) or unassigned characters, leading dots or characters file systems refuse."""
    visible = "".join(
        ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] != "C"
    )
    last = visible.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE.sub("_", last).strip().lstrip(".").strip()
    return cleaned[:MAX_NAME_CHARS] or "attachment"


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII ``filename`` for old clients and the exact UTF-8 name
    in ``filename*`` (RFC 6266, RFC 5987)."""
    safe = download_name(name)
    fallback = "".join(ch if ch.isascii() else "_" for ch in safe)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(safe, safe=_ATTR_CHARS)}"


def download(name: str, data: bytes) -> Response:
    """The bytes as an opaque download, whatever type the sender declared."""
    headers = {**DOWNLOAD_HEADERS, "Content-Disposition": content_disposition(name)}
    return Response(data, media_type="application/octet-stream", headers=headers)
