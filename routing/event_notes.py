"""What an event's summary says, as a stored machine form (``code:PATH``, ``time:45``,
``duplicate_of:SUP-…``) that ``routing.outcome_words`` says in the reader's language;
older free-text summaries are read as written (pure)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ticketd.routing.model import EventKind


class NoteKind(enum.StrEnum):
    """One kind of event summary; its stored form begins with the value."""

    RECEIVED = "received"
    CODE = "code"
    CODE_CLEARED = "code_cleared"
    CODE_SUGGESTED = "suggested_code"
    TIME = "time"
    BILLABLE = "billable"
    PRIORITY = "priority"
    PRIORITY_DUE = "priority_due"
    TYPE = "type"
    DUPLICATE_OF = "duplicate_of"
    MERGED_FROM = "merged_from"
    RESENT = "resent"
    SUPPRESSED_CAP = "suppressed_cap"
    SUPPRESSED_RELEASED = "suppressed_released"
    SUPPRESSED_HISTORY = "suppressed_history"
    DELIVERY_FAILED = "delivery_failed"
    BOUNCE = "bounce"
    SLA_DUE = "sla_due"
    SLA_MISSED = "sla_missed"
    WAITING_REMINDED = "waiting_reminded"
    HELD = "held"


N = NoteKind
FIELDS: dict[NoteKind, tuple[str, ...]] = {
    N.RECEIVED: (),
    N.CODE: ("path",),
    N.CODE_CLEARED: (),
    N.CODE_SUGGESTED: ("path",),
    N.TIME: ("minutes",),
    N.BILLABLE: ("answer",),
    N.PRIORITY: ("priority",),
    N.PRIORITY_DUE: ("priority", "due"),
    N.TYPE: ("type",),
    N.DUPLICATE_OF: ("tracking",),
    N.MERGED_FROM: ("tracking",),
    N.RESENT: ("tracking",),
    N.SUPPRESSED_CAP: ("notice", "limit", "recipient"),
    N.SUPPRESSED_RELEASED: ("notice", "recipient"),
    N.SUPPRESSED_HISTORY: ("notice", "age", "max", "recipient"),
    N.DELIVERY_FAILED: ("error",),
    N.BOUNCE: ("action", "status", "recipients"),
    N.SLA_DUE: ("clock", "hours"),
    N.SLA_MISSED: ("clock", "hours"),
    N.WAITING_REMINDED: ("days",),
    N.HELD: ("count",),
}
"""Each kind's values in stored order; only the last may contain ``:``."""

SUPPRESSED = (N.SUPPRESSED_CAP, N.SUPPRESSED_RELEASED, N.SUPPRESSED_HISTORY)
EVENT_NOTES: dict[str, tuple[NoteKind, ...]] = {
    EventKind.CREATED: (N.RECEIVED,),
    EventKind.CODE_CHANGED: (N.CODE, N.CODE_CLEARED),
    EventKind.CODE_SUGGESTED: (N.CODE_SUGGESTED,),
    EventKind.TIME_LOGGED: (N.TIME,),
    EventKind.BILLABLE_CHANGED: (N.BILLABLE,),
    EventKind.PRIORITY_CHANGED: (N.PRIORITY, N.PRIORITY_DUE),
    EventKind.TYPE_CHANGED: (N.TYPE,),
    EventKind.MERGED: (N.DUPLICATE_OF,),
    EventKind.DUPLICATE: (N.MERGED_FROM, N.RESENT),
    EventKind.NOTICE_SUPPRESSED: SUPPRESSED,
    EventKind.DELIVERY_FAILED: (N.DELIVERY_FAILED,),
    EventKind.BOUNCE: (N.BOUNCE,),
    EventKind.SLA_REMINDED: (N.SLA_DUE,),
    EventKind.SLA_BREACHED: (N.SLA_MISSED,),
    EventKind.WAITING_REMINDED: (N.WAITING_REMINDED,),
    EventKind.REPLY_HELD: (N.HELD,),
}
"""The notes each event kind may carry: a customer's comment or an engineer's note that
happens to look like one is never read as ours."""


@dataclass(frozen=True, slots=True)
class EventNote:
    """An event's summary: a kind and its values in ``FIELDS`` order; stored as
    ``str(note)`` (``kind:value:…``, ``kind`` alone without values) and read by ``parse``."""

    kind: NoteKind
    values: tuple[str, ...] = ()

    @classmethod
    def of(cls, kind: NoteKind, *values: object) -> EventNote:
        """A note; values are stripped, and ``:`` in any but the last replaced, so the form
        reads back."""
        said = [str(value).strip() for value in values]
        if len(said) != len(FIELDS[kind]):
            raise ValueError(f"{kind} takes {FIELDS[kind]}")
        return cls(kind, (*(v.replace(":", "/") for v in said[:-1]), *said[-1:]))

    def __str__(self) -> str:
        return ":".join((self.kind.value, *self.values))

    @property
    def args(self) -> dict[str, str]:
        return dict(zip(FIELDS[self.kind], self.values, strict=True))

    @classmethod
    def parse(cls, event: str, stored: str) -> EventNote | None:
        """The note ``str`` wrote for an ``event`` of that kind, or None for anything else
        (older free text, or words of a customer or an engineer)."""
        for kind in EVENT_NOTES.get(event, ()):
            fields = FIELDS[kind]
            if not fields:
                if stored == kind.value:
                    return cls(kind)
                continue
            head, sep, rest = stored.partition(":")
            values = tuple(rest.split(":", len(fields) - 1))
            fits = head == kind.value and sep and len(values) == len(fields)
            if fits and all(v == v.strip() for v in values):
                return cls(kind, values)
        return None


def note(kind: NoteKind, *values: object) -> str:
    """The stored form of a note (``EventNote.of``)."""
    return str(EventNote.of(kind, *values))
