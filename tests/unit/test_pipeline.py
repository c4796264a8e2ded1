"""The decision table, driven through ``route()`` with an in-memory lookup."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from tests.unit.fakes import CTX, CountingRng, FakeLookup, FrozenClock, message, ticket
from ticketd.mail.message import Address, DeliveryReport
from ticketd.routing.dedupe import claim_fingerprint
from ticketd.routing.effects import (
    AppendMessage,
    AssignOwner,
    ChangeStatus,
    Disposition,
    Hold,
    NoticeKind,
    OpenTicket,
    QueueNotice,
    RecordBounce,
    RecordDuplicate,
    RejectCommand,
    Suppressed,
)
from ticketd.routing.model import Status
from ticketd.routing.pipeline import detect_language, route
from ticketd.routing.tracking import parse


def decide(msg, lookup=None, **kw):  # type: ignore[no-untyped-def]
    return route(msg, lookup or FakeLookup(), CTX, FrozenClock(), CountingRng(), **kw)


def kinds(decision):  # type: ignore[no-untyped-def]
    return [type(e) for e in decision.effects]


def test_new_claim_opens_one_ticket_with_owner_ack_and_owner_notice() -> None:
    decision = decide(message())
    assert decision.disposition == Disposition.NEW
    opened = decision.effects[0]
    assert isinstance(opened, OpenTicket)
    assert parse(opened.handle.tracking, "SUP") == opened.handle.tracking
    assert kinds(decision) == [OpenTicket, AppendMessage, AssignOwner, QueueNotice, QueueNotice]
    assert all(e.ticket == opened.handle for e in decision.effects[1:])  # type: ignore[union-attr]
    notices = [e for e in decision.effects if isinstance(e, QueueNotice)]
    assert notices[0].kind == NoticeKind.ACKNOWLEDGEMENT
    assert notices[0].recipient.email == "kim@acme.co.kr"
    assert notices[1].kind == NoticeKind.OWNER_ASSIGNED
    assert notices[1].recipient.email == "alice@example.com"


def test_tracking_numbers_are_not_sequential() -> None:
    rng = CountingRng()
    decisions = [route(message(), FakeLookup(), CTX, FrozenClock(), rng) for _ in range(3)]
    numbers = {d.effects[0].handle.tracking for d in decisions}  # type: ignore[union-attr]
    assert len(numbers) == 3


def test_seen_message_id_is_ignored() -> None:
    decision = decide(message(), FakeLookup(seen={"m1@acme.co.kr"}))
    assert decision.disposition == Disposition.IGNORE
    assert decision.effects == ()


def test_reply_by_tracking_number_in_subject_even_mistyped_lowercase() -> None:
    existing = ticket("SUP-0000-0000")
    number = existing.tracking
    lookup = FakeLookup(by_tracking={number: existing})
    typed = number.lower().replace("-", "").replace("0", "o")
    decision = decide(
        message(subject=f"Re: [{typed[:3]}-{typed[3:7]}-{typed[7:]}] Cannot log in"), lookup
    )
    assert decision.disposition == Disposition.REPLY
    assert kinds(decision) == [AppendMessage, QueueNotice]


def test_reply_by_references_only() -> None:
    lookup = FakeLookup(by_message_id={"ack-1@example.com": ticket()})
    msg = message(subject="other words", references=("x@y", "ack-1@example.com"))
    assert decide(msg, lookup).disposition == Disposition.REPLY


@pytest.mark.parametrize("status", [Status.RESOLVED, Status.CLOSED, Status.WAITING])
def test_customer_reply_reopens(status: Status) -> None:
    lookup = FakeLookup(by_message_id={"a@b": ticket(status=status)})
    decision = decide(message(in_reply_to=("a@b",)), lookup)
    assert kinds(decision) == [AppendMessage, ChangeStatus, QueueNotice]
    _, change, notice = decision.effects
    assert isinstance(change, ChangeStatus) and change.status == Status.OPEN
    assert isinstance(notice, QueueNotice) and notice.kind == NoticeKind.CUSTOMER_WROTE
    assert notice.recipient.email == "alice@example.com"


def test_resend_within_24h_is_a_duplicate_not_a_ticket() -> None:
    clock = FrozenClock()
    msg = message(message_id="m2@acme.co.kr", subject="RE: Cannot log in")
    lookup = FakeLookup(
        claims={claim_fingerprint(message()): (ticket(), clock.now() - timedelta(hours=23))}
    )
    decision = route(msg, lookup, CTX, clock, CountingRng())
    assert decision.disposition == Disposition.DUPLICATE
    assert kinds(decision) == [RecordDuplicate]


def test_resend_after_24h_is_a_new_claim() -> None:
    clock = FrozenClock()
    lookup = FakeLookup(
        claims={claim_fingerprint(message()): (ticket(), clock.now() - timedelta(hours=25))}
    )
    assert route(message(), lookup, CTX, clock, CountingRng()).disposition == Disposition.NEW


@pytest.mark.parametrize(
    "fields",
    [
        {"auto_submitted": "auto-replied"},
        {"precedence": "bulk"},
        {"precedence": "junk"},
        {"list_id": "<news.acme.co.kr>"},
        {"from_addr": Address("mailer-daemon@acme.co.kr")},
        {"from_addr": Address("postmaster@acme.co.kr")},
        {"from_addr": Address("no-reply@shop.com")},
        {"from_addr": Address("noreply@shop.com")},
        {"from_addr": Address("support@example.com")},
        {"x_loop": ("support@example.com",)},
    ],
)
def test_automatic_mail_never_opens_a_ticket_or_gets_an_answer(fields: dict[str, object]) -> None:
    decision = decide(message(**fields))
    assert decision.disposition == Disposition.HOLD
    assert kinds(decision) == [Hold]
    lookup = FakeLookup(by_message_id={"a@b": ticket()})
    on_ticket = decide(message(in_reply_to=("a@b",), **fields), lookup)
    assert on_ticket.disposition == Disposition.AUTOMATIC
    assert not any(isinstance(e, QueueNotice) for e in on_ticket.effects)


def test_auto_submitted_no_is_a_person() -> None:
    assert decide(message(auto_submitted="no")).disposition == Disposition.NEW


def test_bounce_is_recorded_on_the_ticket_it_concerns() -> None:
    report = DeliveryReport(
        "ack-9@example.com", ("kim@acme.co.kr",), "failed", "5.1.1", "no such user"
    )
    lookup = FakeLookup(by_message_id={"ack-9@example.com": ticket()})
    decision = decide(
        message(from_addr=Address("mailer-daemon@mx.acme.co.kr"), report=report), lookup
    )
    assert decision.disposition == Disposition.BOUNCE
    assert kinds(decision) == [RecordBounce]
    unknown = decide(message(from_addr=Address("mailer-daemon@mx.acme.co.kr"), report=report))
    assert unknown.disposition == Disposition.HOLD


def test_missing_sender_is_quarantined() -> None:
    decision = decide(message(from_addr=None))
    assert decision.disposition == Disposition.SHUNT
    assert isinstance(decision.effects[0], Hold)


def test_acknowledgements_are_rate_limited_per_requester() -> None:
    decision = decide(message(), FakeLookup(automatic_sent=5))
    assert decision.disposition == Disposition.NEW
    assert any(isinstance(e, Suppressed) for e in decision.effects)
    acks = [
        e
        for e in decision.effects
        if isinstance(e, QueueNotice) and e.kind == NoticeKind.ACKNOWLEDGEMENT
    ]
    assert acks == []


def test_released_automatic_mail_opens_a_ticket_without_acknowledgement() -> None:
    decision = decide(message(auto_submitted="auto-generated"), released=True)
    assert decision.disposition == Disposition.NEW
    assert not any(
        isinstance(e, QueueNotice) and e.kind == NoticeKind.ACKNOWLEDGEMENT
        for e in decision.effects
    )


def test_language_follows_the_customer() -> None:
    assert detect_language(message(subject="로그인이 안 됩니다"), "en") == "ko"
    assert detect_language(message(), "ko") == "en"
    assert (
        detect_language(message(subject="Café", text="Ça ne marche pas", new_text="Ça"), "ko")
        == "ko"
    )


@pytest.mark.parametrize(("authres_trusted", "obeyed"), [(True, True), (False, False)])
def test_authentication_results_count_only_where_a_trusted_server_wrote_them(
    authres_trusted: bool, obeyed: bool
) -> None:
    found = ticket()
    lookup = FakeLookup(by_tracking={found.tracking: found})
    msg = message(
        from_addr=Address("bob@example.com", "Bob"),
        subject=f"Re: [{found.tracking}] Cannot log in",
        new_text="#close",
        text="#close",
        authentication_results=("mx.example.com; dkim=pass header.d=example.com",),
    )
    ctx = replace(CTX, trusted_authserv_ids=("mx.example.com",))
    decision = route(
        msg, lookup, ctx, FrozenClock(), CountingRng(), authres_trusted=authres_trusted
    )
    assert (ChangeStatus in kinds(decision)) is obeyed
    assert (RejectCommand in kinds(decision)) is not obeyed
