"""Text shown to people (pages, notices) made safe to display.

Unicode's explicit bidirectional controls (embeddings, overrides, isolates) reorder the
characters that follow them: a name ending in U+202E RIGHT-TO-LEFT OVERRIDE shows
``invoice‮fdp.exe`` as ``invoiceexe.pdf``. They are removed wherever customer-supplied
text is shown. The implicit marks (U+200E LRM, U+200F RLM, U+061C ALM) stay: they only
nudge the neutral characters next to them, cannot reverse a word, and people writing
Arabic or Hebrew type them on purpose.
"""

from __future__ import annotations

import re
from typing import TypeVar

BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e"  # LRE, RLE, PDF, LRO, RLO
    "\u2066\u2067\u2068\u2069"  # LRI, RLI, FSI, PDI
)
_REMOVE: dict[int, None] = {ord(control): None for control in BIDI_CONTROLS}
_FIND = re.compile("[" + "".join(sorted(BIDI_CONTROLS)) + "]")

Shown = TypeVar("Shown")


def neutralise_bidi(text: str) -> str:
    """``text`` without explicit bidirectional controls (a ``str`` subclass that overrides
    ``translate``, like escaped markup, keeps its type). Looked for first: a page's text
    seldom holds one, and searching is ten times faster than translating."""
    if text.isascii() or _FIND.search(text) is None:
        return text
    return text.translate(_REMOVE)


def neutralise_shown(value: Shown) -> Shown:
    """For a template engine's output hook: strings neutralised, anything else unchanged."""
    if isinstance(value, str):
        return neutralise_bidi(value)  # type: ignore[return-value]
    return value
