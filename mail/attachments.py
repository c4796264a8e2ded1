"""Attachment file names made safe to store and to show."""

from __future__ import annotations

import mimetypes
import re
import unicodedata

MAX_NAME_BYTES = 150
_RESERVED = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$", re.IGNORECASE)
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"|?*]')


def safe_filename(name: str | None, content_type: str, index: int) -> str:
    """A plain file name: no directories, traversal, control characters or reserved names."""
    cleaned = unicodedata.normalize("NFC", name or "")
    cleaned = cleaned.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE.sub("_", cleaned).strip().lstrip(".").strip()
    if not cleaned or cleaned in {".", ".."} or _RESERVED.match(cleaned):
        extension = mimetypes.guess_extension(content_type.split(";")[0].strip()) or ".bin"
        return f"attachment-{index}{extension}"
    stem, dot, extension = cleaned.rpartition(".")
    if not dot or len(extension) > 10:
        stem, extension = cleaned, ""
    suffix = f".{extension}" if extension else ""
    while len((stem + suffix).encode("utf-8")) > MAX_NAME_BYTES and stem:
        stem = stem[:-1]
    return (stem or f"attachment-{index}") + suffix
