"""The rating decision: only a resolved ticket takes one, a repeat changes nothing, a
change records anew, a bad rating tells the owner (or the managers of an unowned one)."""

from __future__ import annotations

from ticketd.routing.csat import COMMENT_CHARS, Rateable, Rating, RatingState, rate
from ticketd.routing.effects import NoticeKind, QueueNotice, RecordRating
from ticketd.routing.model import EngineerInfo, Role, Status, TicketRef

TEAM = (
    EngineerInfo("alice@example.com", "Alice"),
    EngineerInfo("bob@example.com", "Bob", Role.MANAGER),
)


def ticket(owner: str | None = "alice@example.com") -> TicketRef:
    return TicketRef(1, "SUP-0000-001Y", Status.RESOLVED, owner, "kim@acme.co.kr", "s", "ko")


def resolved(rating: Rating | None = None, comment: str = "") -> RatingState:
    return RatingState(Status.RESOLVED, "ko", 1, rating, comment)


def test_only_a_resolved_ticket_takes_a_rating() -> None:
    for status, rateable in (
        (Status.OPEN, Rateable.NOT_YET),
        (Status.WAITING, Rateable.NOT_YET),
        (Status.CLOSED, Rateable.CLOSED),
        (Status.RESOLVED, Rateable.OPEN),
    ):
        state = RatingState(status, "ko", 1)
        assert state.rateable == rateable
        effects = rate(ticket(), state, Rating.GOOD, "", TEAM).effects
        assert bool(effects) == (rateable == Rateable.OPEN)


def test_a_repeat_changes_nothing_and_an_empty_comment_keeps_the_one_given() -> None:
    assert rate(ticket(), resolved(Rating.GOOD), Rating.GOOD, "  ", TEAM).effects == ()
    kept = resolved(Rating.BAD, "늦었어요")
    assert rate(ticket(), kept, Rating.BAD, "", TEAM).effects == ()
    [record] = rate(ticket(), kept, Rating.GOOD, "", TEAM).effects
    assert record == RecordRating(ticket(), "good", "")


def test_a_bad_rating_tells_the_owner_with_the_comment_cut_to_size() -> None:
    long = "가" * (COMMENT_CHARS + 10)
    record, notice = rate(ticket(), resolved(Rating.GOOD), Rating.BAD, long, TEAM).effects
    assert isinstance(record, RecordRating) and len(record.comment) == COMMENT_CHARS
    assert isinstance(notice, QueueNotice) and notice.kind == NoticeKind.CSAT_BAD
    assert notice.recipient.email == "alice@example.com" and notice.text == record.comment


def test_a_bad_rating_of_an_unowned_ticket_tells_the_managers() -> None:
    _, notice = rate(ticket(None), resolved(), Rating.BAD, "", TEAM).effects
    assert isinstance(notice, QueueNotice) and notice.recipient.email == "bob@example.com"


def test_control_characters_never_reach_the_stored_comment() -> None:
    [record] = rate(
        ticket(), resolved(), Rating.GOOD, " 좋아요\x00\x1b[31m\r\n고마워요 ", TEAM
    ).effects
    assert isinstance(record, RecordRating) and record.comment == "좋아요[31m\n고마워요"
