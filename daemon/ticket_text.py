"""Tickets as text for a terminal (``ticket show``, ``ticket list``): times in the service
time zone, message texts in full, and nothing from mail that could drive the terminal."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile(r"[\r\n\t\u2028\u2029]+")
_SHOWN = (
    "tracking",
    "status",
    "priority",
    "subject",
    "requester",
    "owner",
    "created_at",
    "updated_at",
    "duplicate_count",
)


def local_time(at: str | None, zone: ZoneInfo) -> str:
    """An ISO 8601 UTC time as ``2026-03-02 09:15 KST`` in ``zone``."""
    if not at:
        return "-"
    return datetime.fromisoformat(at).astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def one_line(value: object) -> str:
    """``value`` on one line without control characters (escape sequences included)."""
    if value is None:
        return "-"
    return _CONTROL.sub("\ufffd", _LINE_BREAKS.sub(" ", str(value)))


def ticket_lines(data: Mapping[str, Any], zone: ZoneInfo) -> list[str]:
    """``ticket show``: the ticket's fields, then every event with its text, indented."""
    lines = [
        f"{key:16} {local_time(data[key], zone) if key.endswith('_at') else one_line(data[key])}"
        for key in _SHOWN
    ]
    lines.append("events:")
    for event in data["events"]:
        visibility = "public" if event["public"] else "internal"
        lines.append(
            f"  {local_time(event['at'], zone)}  {event['type']:18} {visibility:8} "
            f"{one_line(event['actor'])}  {one_line(event['summary'])}".rstrip()
        )
        lines.extend(f"      {row}" for row in _rows(event.get("text")))
    return lines


def list_lines(data: Sequence[Mapping[str, Any]], zone: ZoneInfo) -> list[str]:
    """``ticket list``: a header, then one line per ticket."""
    row = "{:<15} {:<9} {:<9} {:<22} {:<28} {}"
    lines = [row.format("TRACKING", "STATUS", "PRIORITY", "UPDATED", "OWNER", "SUBJECT")]
    lines.extend(
        row.format(
            item["tracking"],
            item["status"],
            item["priority"],
            local_time(item["updated_at"], zone),
            one_line(item["owner"])[:28],
            one_line(item["subject"])[:60],
        )
        for item in data
    )
    return lines


def _rows(text: str | None) -> list[str]:
    if not text:
        return []
    lines = text.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n").split("\n")
    return [_CONTROL.sub("\ufffd", line) for line in lines]
