"""``format=flowed`` text (RFC 3676, Thunderbird and Apple Mail) joined back into the lines
its writer typed."""

from __future__ import annotations

SIGNATURE = "-- "


def unflow(text: str, *, delsp: bool) -> str:
    """Join soft-broken lines (a line ending in a space flows into the next one at the same
    quote depth); space-stuffing undone; with ``delsp`` the space before a soft break is the
    writer's and is dropped. Quoted lines come back as ``> text``."""
    lines: list[str] = []
    paragraph: list[str] = []
    depth = 0
    for raw in text.replace("\r\n", "\n").split("\n"):
        quotes = len(raw) - len(raw.lstrip(">"))
        line = raw[quotes:]
        line = line[1:] if line.startswith(" ") else line
        if paragraph and quotes != depth:
            lines.append(_quoted(depth, paragraph))
            paragraph = []
        depth = quotes
        flows = line.endswith(" ") and line != SIGNATURE
        paragraph.append(line[:-1] if flows and delsp else line)
        if not flows:
            lines.append(_quoted(depth, paragraph))
            paragraph = []
    if paragraph:
        lines.append(_quoted(depth, paragraph))
    return "\n".join(lines)


def _quoted(depth: int, paragraph: list[str]) -> str:
    text = "".join(paragraph)
    return f"{'>' * depth} {text}" if depth else text
