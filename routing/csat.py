"""Customer satisfaction: whether a ticket may be rated now, and the decision a rating
posted from the status site leads to (one figure per resolution, changeable until the
ticket is closed, a bad one mailed to the owner)."""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from ticketd.mail.message import Address
from ticketd.routing.effects import Decision, Disposition, NoticeKind, QueueNotice, RecordRating
from ticketd.routing.model import EngineerInfo, Hit, Role, Status, TicketRef

COMMENT_CHARS = 2000


class Rating(enum.StrEnum):
    """The customer's answer, and the ``value`` of its ``csat`` event."""

    GOOD = "good"
    BAD = "bad"


class Rateable(enum.StrEnum):
    """Whether a ticket takes a rating now."""

    OPEN = "open"
    """Resolved: rated, or the rating changed."""
    NOT_YET = "not_yet"
    """Never resolved, or reopened since: rated once resolved."""
    CLOSED = "closed"
    """Closed: the rating is final."""


@dataclass(frozen=True, slots=True)
class RatingState:
    """A ticket's rating as the store reads it: its status and language, how often it was
    resolved, and the rating given for the latest resolution (None when none yet)."""

    status: Status
    language: str
    resolutions: int
    rating: Rating | None = None
    comment: str = ""

    @property
    def rateable(self) -> Rateable:
        if self.status == Status.CLOSED:
            return Rateable.CLOSED
        return Rateable.OPEN if self.status == Status.RESOLVED else Rateable.NOT_YET


def parse_rating(text: str | None) -> Rating | None:
    """``good``/``bad`` as typed in a link or a form (anything else: None)."""
    return Rating(text) if text in {r.value for r in Rating} else None


def clean_comment(text: str) -> str:
    """A comment as stored: control characters (NUL included) dropped but for line breaks
    and tabs, trimmed, at most ``COMMENT_CHARS`` characters."""
    text = text.replace("\r\n", "\n")
    kept = "".join(c for c in text if c in "\n\t" or unicodedata.category(c) != "Cc")
    return kept.strip()[:COMMENT_CHARS]


def told_of_bad(ticket: TicketRef, engineers: Sequence[EngineerInfo]) -> tuple[Address, ...]:
    """Who hears of a bad rating: the owner, or every manager when nobody owns it."""
    told = [e for e in engineers if e.email == ticket.owner] or [
        e for e in engineers if e.role == Role.MANAGER
    ]
    return tuple(Address(e.email, e.name) for e in told)


def rate(
    ticket: TicketRef,
    state: RatingState,
    rating: Rating,
    comment: str,
    engineers: Sequence[EngineerInfo],
) -> Decision:
    """Record ``rating`` for the latest resolution when the ticket takes one and it says
    something new (a repeated post changes nothing; an empty comment keeps the one given);
    a bad rating is mailed to the owner (the managers of an unowned ticket)."""
    if state.rateable != Rateable.OPEN:
        return Decision(Disposition.SCHEDULED, (Hit("rating-refused", state.rateable),), ())
    comment = clean_comment(comment) or (state.comment if rating == state.rating else "")
    if (rating, comment) == (state.rating, state.comment):
        return Decision(Disposition.SCHEDULED, (Hit("rating-unchanged", rating),), ())
    record = RecordRating(ticket, rating.value, comment)
    notices = (
        tuple(
            QueueNotice(NoticeKind.CSAT_BAD, who, ticket, text=comment)
            for who in told_of_bad(ticket, engineers)
        )
        if rating == Rating.BAD
        else ()
    )
    return Decision(Disposition.SCHEDULED, (Hit("rating", rating),), (record, *notices))
