"""Engineer mail: permissions, guards, replies and notes (pure planning)."""

from __future__ import annotations

from tests.unit.fakes import FakeLookup
from ticketd.routing.commands import parse_commands
from ticketd.routing.effects import (
    AddNote,
    AddTime,
    AssignOwner,
    ChangeStatus,
    MergeInto,
    NoticeKind,
    PublicReply,
    QueueNotice,
    SetPriority,
    SetType,
)
from ticketd.routing.engineer import find_engineer, plan_commands
from ticketd.routing.model import EngineerInfo, Priority, Role, Status, TicketRef
from ticketd.routing.outcomes import OutcomeCode, Reason, Verdict

ALICE = EngineerInfo("alice@example.com", "Alice", Role.AGENT)
BOB = EngineerInfo("bob@example.com", "Bob", Role.MANAGER)
CAROL = EngineerInfo("carol@example.com", "Carol Kim", Role.AGENT)
TEAM = (ALICE, BOB, CAROL)


def ticket(owner: str | None = "alice@example.com", status: Status = Status.OPEN) -> TicketRef:
    return TicketRef(1, "SUP-0000-0000", status, owner, "kim@acme.co.kr", "Login", "ko")


def plan(
    text: str,
    actor: EngineerInfo = ALICE,
    t: TicketRef | None = None,
    lookup: FakeLookup | None = None,
):  # type: ignore[no-untyped-def]
    return plan_commands(
        parse_commands(text), actor, t or ticket(), TEAM, lookup or FakeLookup(), "SUP"
    )


def of(result, kind):  # type: ignore[no-untyped-def]
    return [e for e in result.effects if isinstance(e, kind)]


def test_plain_reply_goes_to_the_customer_and_counts_as_first_response() -> None:
    result = plan("Please clear your cache and try again.")
    [reply] = of(result, PublicReply)
    assert reply.text == "Please clear your cache and try again."
    [notice] = of(result, QueueNotice)
    assert notice.kind == NoticeKind.PUBLIC_REPLY and notice.recipient.email == "kim@acme.co.kr"


def test_note_never_reaches_the_customer() -> None:
    result = plan("#note\nCustomer is on the old plan; do not promise a refund.")
    assert of(result, PublicReply) == []
    assert of(result, QueueNotice) == []
    [note] = of(result, AddNote)
    assert "old plan" in note.text


def test_assign_by_name_notifies_the_new_owner() -> None:
    result = plan("#assign carol kim")
    [assign] = of(result, AssignOwner)
    assert assign.owner == "carol@example.com"
    [notice] = of(result, QueueNotice)
    assert (
        notice.kind == NoticeKind.OWNER_ASSIGNED and notice.recipient.email == "carol@example.com"
    )


def test_status_commands_tell_the_customer_of_resolved_and_closed() -> None:
    result = plan("#resolve\n#priority high\n#type bug\n#time 1h30m")
    [change] = of(result, ChangeStatus)
    assert change.status == Status.RESOLVED
    assert [n.kind for n in of(result, QueueNotice)] == [NoticeKind.STATUS_CHANGED]
    assert [a.priority for a in of(result, SetPriority)] == [Priority.HIGH]
    assert [a.type for a in of(result, SetType)] == ["bug"]
    assert of(result, AddTime)[0].minutes == 90


def test_agent_cannot_touch_someone_elses_ticket() -> None:
    result = plan("#status pending\nhello", actor=CAROL)
    assert result.effects == []
    not_yours = Reason.of(OutcomeCode.NOT_YOURS, owner="alice@example.com")
    assert {o.reason for o in result.refused} == {not_yours}


def test_agent_cannot_merge_or_reopen_closed_but_manager_can() -> None:
    other = TicketRef(2, "SUP-0000-001Y", Status.OPEN, "bob@example.com", "x@y.z", "x", "en")
    lookup = FakeLookup(by_tracking={"SUP-0000-001Y": other})
    agent = plan("#merge SUP-0000-001Y", lookup=lookup)
    assert of(agent, MergeInto) == []
    assert agent.refused[0].reason.code == OutcomeCode.MANAGER_MERGES
    manager = plan("#merge sup0000001y", actor=BOB, lookup=lookup)
    assert of(manager, MergeInto)[0].target == other
    closed = ticket(status=Status.CLOSED)
    assert plan("#reopen", t=closed).refused[0].reason.code == OutcomeCode.MANAGER_REOPENS
    assert of(plan("#reopen", actor=BOB, t=closed), ChangeStatus)[0].status == Status.OPEN


def test_stale_guard_applies_nothing() -> None:
    result = plan("#if-owner carol@example.com\n#close\nDone!", actor=BOB)
    assert result.effects == []
    assert [(o.line, o.verdict) for o in result.refused] == [
        ("#if-owner carol@example.com", Verdict.NOT_APPLIED),
        ("#close", Verdict.NOT_APPLIED),
        ("", Verdict.NOT_SENT),
    ]
    changed = Reason.of(
        OutcomeCode.OWNER_CHANGED, owner="alice@example.com", wanted="carol@example.com"
    )
    assert {o.reason for o in result.refused} == {changed}
    holds = plan("#if-owner alice@example.com\n#if-status open\n#close", actor=BOB)
    assert of(holds, ChangeStatus)


def test_take_wins_only_when_unowned() -> None:
    taken = plan("#take", actor=CAROL, t=ticket(owner=None))
    assert of(taken, AssignOwner)[0].only_if_unowned
    lost = plan("#take", actor=CAROL)
    assert of(lost, AssignOwner) == []
    assert lost.refused[0].reason == Reason.of(OutcomeCode.ALREADY_OWNED, owner=ALICE.email)


def test_help_mails_the_command_list_back() -> None:
    [notice] = of(plan("#help"), QueueNotice)
    assert notice.kind == NoticeKind.HELP and notice.recipient.email == ALICE.email


def test_find_engineer_by_address_or_name() -> None:
    assert find_engineer(TEAM, "Carol Kim") == CAROL
    assert find_engineer(TEAM, "<BOB@example.com>") == BOB
    assert find_engineer(TEAM, "mallory") is None
