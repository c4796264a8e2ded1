"""Subject normalisation for deduplication and display."""

from __future__ import annotations

import re

_PREFIX = re.compile(
    r"^\s*(?:(?:re|fw|fwd|aw|wg|sv|vs|antw|tr|rif|답장|회신|전달|답변)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]"
    r"|\[[^\[\]]{1,40}\])\s*",
    re.IGNORECASE,
)
_SPACE = re.compile(r"\s+")


def strip_reply_prefixes(subject: str) -> str:
    """Remove leading reply/forward prefixes and bracketed tags, keeping case."""
    previous = None
    text = subject.strip()
    while previous != text:
        previous = text
        text = _PREFIX.sub("", text, count=1).strip()
    return _SPACE.sub(" ", text)


def normalize_subject(subject: str) -> str:
    """The subject as compared for resends: no prefixes or tags, spaces collapsed, casefolded."""
    return strip_reply_prefixes(subject).casefold()
