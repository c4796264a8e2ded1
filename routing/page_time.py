"""What a status page says about time and about steps back (pure): absolute instants in
the service's timezone with the zone named in the reader's language, and why a ticket
went back a step."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

ZONE_NAMES: dict[str, tuple[str, str]] = {
    "Asia/Seoul": ("한국 표준시", "Korea Standard Time"),
    "Asia/Tokyo": ("일본 표준시", "Japan Standard Time"),
    "Asia/Shanghai": ("중국 표준시", "China Standard Time"),
    "Asia/Singapore": ("싱가포르 표준시", "Singapore Time"),
    "Europe/London": ("영국 시간", "UK time"),
    "Europe/Berlin": ("중부 유럽 시간", "Central European Time"),
    "America/New_York": ("미국 동부 시간", "US Eastern Time"),
    "America/Los_Angeles": ("미국 서부 시간", "US Pacific Time"),
    "UTC": ("협정 세계시", "Coordinated Universal Time"),
    "Etc/UTC": ("협정 세계시", "Coordinated Universal Time"),
}
KO_WEEKDAYS = "월화수목금토일"
EN_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

STEP_ORDER = {"open": 0, "pending": 1, "waiting": 2, "resolved": 3, "closed": 4}
"""How far along a status is, as the page's steps show it."""
SCHEDULE_ACTOR = "schedule"
"""The actor of the status changes the schedule decides."""


def zone_name(timezone: str, language: str) -> str:
    """``Asia/Seoul`` as "한국 표준시" or "Korea Standard Time"; other zones by IANA name."""
    names = ZONE_NAMES.get(timezone)
    if names is None:
        return timezone
    return names[0] if language == "ko" else names[1]


def moment(at: datetime, timezone: str, language: str) -> str:
    """An instant as a reader says it, zone named: "12월 7일(월) 12:00 (한국 표준시)"."""
    local = at.astimezone(ZoneInfo(timezone))
    clock = f"{local:%H:%M}"
    if language == "ko":
        day = f"{local.month}월 {local.day}일({KO_WEEKDAYS[local.weekday()]})"
    else:
        day = f"{EN_WEEKDAYS[local.weekday()]}, {EN_MONTHS[local.month - 1]} {local.day}"
    return f"{day} {clock} ({zone_name(timezone, language)})"


def step_reason(before: str, after: str, actor: str, customer_wrote_last: bool) -> str:
    """Why a status change is shown as it is: ``customer_wrote`` (back a step after the
    customer's message), ``reopened`` (back a step by support), ``no_reply`` (resolved by
    the schedule after waiting in vain), or "" (a step forward)."""
    if STEP_ORDER.get(after, 0) < STEP_ORDER.get(before, 0):
        return "customer_wrote" if customer_wrote_last else "reopened"
    if actor == SCHEDULE_ACTOR and after == "resolved":
        return "no_reply"
    return ""
