"""Separating the new text of a reply from quoted history and signatures."""

from __future__ import annotations

import re

_MARKERS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^-{2,}\s*original message\s*-{2,}",
        r"^-{2,}\s*원본\s*(메시지|메일)\s*-{2,}",
        r"^-{2,}\s*forwarded message\s*-{2,}",
        r"^_{10,}$",
        r"^on .{3,200}wrote:\s*$",
        r"^.{0,200}\d{4}년\s*\d{1,2}월\s*\d{1,2}일.{0,200}(작성|님이 작성):?\s*$",
        r"^.{0,200}님이 작성:?\s*$",
        r"^(from|보낸 사람|보낸사람)\s*:.+$",
        r"^-- $",
    )
]
_HEADER_FOLLOWERS = re.compile(r"^(sent|date|to|subject|보낸 날짜|받는 사람|제목|날짜)\s*:", re.I)


def strip_quoted(text: str) -> str:
    """The text above any quoted history or signature; the whole text if nothing is new."""
    lines = text.splitlines()
    cut = len(lines)
    for index, line in enumerate(lines):
        stripped = line.rstrip()
        if stripped.startswith(">") and _rest_is_quoted(lines[index:]):
            cut = index
            break
        marker = line.rstrip("\r") == "-- " or any(m.match(stripped.strip()) for m in _MARKERS)
        sender_line = stripped.lower().startswith(("from", "보낸"))
        if marker and (not sender_line or _is_header_block(lines, index)):
            cut = index
            break
    new = "\n".join(lines[:cut]).strip()
    if cut < len(lines) and new.endswith(":") and "\n" not in new.strip():
        new = ""
    return new or text.strip()


def _rest_is_quoted(lines: list[str]) -> bool:
    meaningful = [line for line in lines if line.strip()]
    quoted = sum(1 for line in meaningful if line.lstrip().startswith(">"))
    return quoted >= max(1, len(meaningful) * 0.6)


def _is_header_block(lines: list[str], index: int) -> bool:
    following = lines[index + 1 : index + 5]
    return any(_HEADER_FOLLOWERS.match(line.strip()) for line in following)
