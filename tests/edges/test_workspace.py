"""The staff read model on real databases: the queue's tabs, filters, sorts and paging,
SLA badges, and the whole ticket with texts, notes, files and the customer's history."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert

from tests.builders import claim
from tests.unit.fakes import CTX, FrozenClock
from ticketd.daemon.runner import Ingestor
from ticketd.mail.message import Address, Attachment, RawMessage, Source
from ticketd.routing.effects import (
    AddFollower,
    AddNote,
    AddTime,
    AssignOwner,
    ChangeStatus,
    Decision,
    Disposition,
    Effect,
    MarkBreached,
    MergeInto,
    PublicReply,
    SetPriority,
    SetType,
)
from ticketd.routing.model import EngineerInfo, Priority, Role, Status, TicketRef
from ticketd.routing.sla import SlaPolicy
from ticketd.routing.ticket_json import staff_ticket_object
from ticketd.routing.workspace import QueueQuery, SlaState, Sort, StaffUser, Tab
from ticketd.store.attachments import SqlAttachmentReader
from ticketd.store.db import Store, make_engine, migrate, refresh_statistics
from ticketd.store.schema import QUEUED, tickets
from ticketd.store.staff_queue import BadCursor
from ticketd.store.workspace import SqlStaffReader

ENGINEERS = (
    EngineerInfo("alice@example.com", "Alice", Role.AGENT, ("web",)),
    EngineerInfo("bob@example.com", "Bob", Role.MANAGER, ("web",)),
    EngineerInfo("carol@example.com", "Carol", Role.AGENT, ("mail",)),
)
ALICE = StaffUser("alice@example.com", "Alice", Role.AGENT, ("web",))
NOBODY_ROUTES = replace(CTX, engineers=(), default_language="en")


class Desk:
    """Tickets made by the real pipeline (no automatic owner), worked by Writer effects."""

    def __init__(self, engine: Engine, sla: SlaPolicy | None = None) -> None:
        self.clock = FrozenClock()
        self.store = Store(
            engine, self.clock.now, notify=False, **({"sla": lambda: sla} if sla else {})
        )
        self.ingestor = Ingestor(self.store, NOBODY_ROUTES, self.clock, _Rng())
        self.reader = SqlStaffReader(engine, ENGINEERS)
        self.count = 0

    def open(self, subject: str, sender: str = "Kim <kim@acme.co.kr>", **kw: Any) -> str:
        self.mail(claim(subject=subject, sender=sender, **kw))
        with self.store.read() as reader:
            found = [t for t in reader.tickets() if t["subject"] == subject]
        return str(found[-1]["tracking"])

    def mail(self, data: bytes) -> None:
        self.count += 1
        self.ingestor.ingest([RawMessage(data, Source.IMAP, self.clock.now(), uid=self.count)])

    def do(self, tracking: str, *makes: Callable[[TicketRef], Effect]) -> None:
        with self.store.write() as writer:
            for make in makes:
                view = writer.ticket(tracking)
                assert view is not None
                writer.apply(Decision(Disposition.COMMAND, (), (make(view.ref),)))

    def ref(self, tracking: str) -> TicketRef:
        with self.store.write() as writer:
            view = writer.ticket(tracking)
            assert view is not None
            return view.ref

    def queue(self, now: datetime | None = None, **query: Any) -> list[str]:
        page = self.reader.queue(ALICE, QueueQuery(**query), now or self.clock.now())
        return [row.tracking for row in page.rows]


class _Rng:
    def __init__(self) -> None:
        self.n = 0

    def token_bytes(self, n: int) -> bytes:
        self.n += 1
        return hashlib.sha256(str(self.n).encode()).digest()[:n]


def assign(owner: str | None) -> Callable[[TicketRef], Effect]:
    return lambda ref: AssignOwner(ref, owner, "test", actor="bob@example.com")


def status(to: Status) -> Callable[[TicketRef], Effect]:
    return lambda ref: ChangeStatus(ref, to, "test", actor="bob@example.com")


@pytest.fixture
def desk(lane_engine: Engine) -> Desk:
    return Desk(lane_engine)


@pytest.fixture
def inbox(desk: Desk) -> dict[str, str]:
    """Nine tickets, a minute apart: every tab has members and non-members."""
    t: dict[str, str] = {}
    for name in ("mine", "bobs", "carols", "unowned", "waiting", "resolved", "old", "merged"):
        t[name] = desk.open(f"ticket {name}")
        desk.clock.advance(minutes=1)
    t["gmail"] = desk.open("ticket gmail", sender="Park <park@gmail.com>")
    desk.do(t["mine"], assign(ALICE.email))
    desk.do(t["bobs"], assign("bob@example.com"), lambda r: SetType(r, "bug", "bob@example.com"))
    desk.do(t["carols"], assign("carol@example.com"), status(Status.PENDING))
    desk.do(t["waiting"], assign(ALICE.email), status(Status.WAITING))
    desk.do(t["old"], assign(ALICE.email), status(Status.CLOSED))
    target = desk.ref(t["mine"])
    desk.do(t["merged"], lambda r: MergeInto(r, target, "bob@example.com"))
    desk.do(t["gmail"], lambda r: SetPriority(r, Priority.HIGH, "bob@example.com"))
    desk.clock.advance(days=9)
    desk.do(t["resolved"], assign(ALICE.email), status(Status.RESOLVED))
    desk.clock.advance(days=1)
    return t


def test_each_tab_holds_its_tickets_and_every_tab_is_counted(
    desk: Desk, inbox: dict[str, str]
) -> None:
    t = inbox
    expected = {
        Tab.MINE: [t["mine"], t["waiting"]],
        Tab.UNOWNED: [t["unowned"], t["gmail"]],
        Tab.TEAMS: [t["mine"], t["bobs"], t["waiting"]],
        Tab.OPEN: [t["mine"], t["bobs"], t["carols"], t["unowned"], t["waiting"], t["gmail"]],
        Tab.WAITING: [t["waiting"]],
        Tab.RESOLVED: [t["resolved"]],
    }
    for tab, trackings in expected.items():
        assert desk.queue(tab=tab) == trackings, tab
    page = desk.reader.queue(ALICE, QueueQuery(), desk.clock.now())
    assert page.counts == {tab: len(rows) for tab, rows in expected.items()}


def test_a_viewer_in_no_team_has_an_empty_teams_tab(desk: Desk, inbox: dict[str, str]) -> None:
    loner = StaffUser("dave@example.com", "Dave", Role.AGENT)
    page = desk.reader.queue(loner, QueueQuery(tab=Tab.TEAMS), desk.clock.now())
    assert page.rows == () and page.counts[Tab.TEAMS] == 0 and page.counts[Tab.OPEN] == 6


def test_each_filter_narrows_the_tab_and_its_counts(desk: Desk, inbox: dict[str, str]) -> None:
    t, open_tab = inbox, Tab.OPEN
    assert desk.queue(tab=open_tab, status=(Status.PENDING,)) == [t["carols"]]
    assert desk.queue(tab=open_tab, owner="BOB@example.com") == [t["bobs"]]
    assert desk.queue(tab=open_tab, priority=Priority.HIGH) == [t["gmail"]]
    assert desk.queue(tab=open_tab, type="bug") == [t["bobs"]]
    assert desk.queue(tab=open_tab, requester="@gmail.com") == [t["gmail"]]
    assert desk.queue(tab=open_tab, requester="park@gmail.com") == [t["gmail"]]
    first = desk.reader.ticket(t["mine"], desk.clock.now())
    assert first is not None
    start = first.row.created_at
    window = {"since": start + timedelta(minutes=1), "until": start + timedelta(minutes=4)}
    assert desk.queue(tab=open_tab, **window) == [t["bobs"], t["carols"], t["unowned"]]
    page = desk.reader.queue(ALICE, QueueQuery(requester="@acme.co.kr"), desk.clock.now())
    assert page.counts[Tab.UNOWNED] == 1 and page.counts[Tab.OPEN] == 5


def pages(desk: Desk, tab: Tab, sort: Sort, limit: int) -> list[str]:
    seen: list[str] = []
    cursor = None
    while True:
        query = QueueQuery(tab=tab, sort=sort, cursor=cursor, limit=limit)
        page = desk.reader.queue(ALICE, query, desk.clock.now())
        seen += [row.tracking for row in page.rows]
        if page.next is None:
            return seen
        cursor = page.next


def test_every_sort_pages_through_ties_without_skipping_or_repeating(desk: Desk) -> None:
    made = [desk.open(f"same second {i}") for i in range(7)]
    desk.clock.advance(minutes=5)
    later = [desk.open(f"later {i}") for i in range(3)]
    for tracking in (made[1], made[4], later[0]):
        desk.do(tracking, lambda r: PublicReply(r, "answered", "bob@example.com"))
    ids = made + later
    answered = [made[1], made[4], later[0]]
    by_sla = [x for x in ids if x not in answered] + answered
    newest_first = [*reversed(later), made[4], made[1]] + [
        x for x in reversed(made) if x not in answered
    ]
    for limit in (1, 2, 3, 50):
        assert pages(desk, Tab.OPEN, Sort.AGE, limit) == ids
        assert pages(desk, Tab.OPEN, Sort.SLA, limit) == by_sla
        assert pages(desk, Tab.OPEN, Sort.ACTIVITY, limit) == newest_first


def test_a_cursor_not_handed_out_is_refused(desk: Desk) -> None:
    desk.open("one")
    desk.open("two")
    first = desk.reader.queue(ALICE, QueueQuery(tab=Tab.OPEN, limit=1), desk.clock.now())
    assert first.next is not None
    for cursor in ("garbage!", first.next[:-3], "W10"):
        with pytest.raises(BadCursor):
            desk.queue(tab=Tab.OPEN, cursor=cursor)
    with pytest.raises(BadCursor):
        desk.queue(tab=Tab.OPEN, sort=Sort.ACTIVITY, cursor=first.next)


def test_sla_badges_follow_the_first_response_clock(desk: Desk) -> None:
    start = desk.clock.now()
    fresh, answered, closed, marked = (desk.open(f"sla {i}") for i in range(4))
    desk.do(answered, lambda r: PublicReply(r, "on it", "bob@example.com"))
    desk.do(closed, status(Status.RESOLVED))
    desk.do(marked, lambda r: MarkBreached(r, "late"))

    def states(hours: float) -> dict[str, SlaState]:
        at = start + timedelta(hours=hours)
        page = desk.reader.queue(ALICE, QueueQuery(tab=Tab.OPEN), at)
        shown = {row.tracking: row.sla_state for row in page.rows}
        ticket = desk.reader.ticket(closed, at)
        assert ticket is not None
        return {**shown, closed: ticket.row.sla_state}

    none = SlaState.NONE
    assert states(1) == {fresh: SlaState.OK, answered: none, closed: none, marked: "breached"}
    assert states(17.9)[fresh] == SlaState.OK
    assert states(18)[fresh] == SlaState.SOON
    assert states(24)[fresh] == SlaState.BREACHED
    row = desk.reader.ticket(fresh, start)
    assert row is not None and row.row.sla_due == start + timedelta(hours=24)
    assert desk.reader.ticket(answered, start).row.sla_due is None  # type: ignore[union-attr]


def test_the_due_time_follows_the_configured_hours_and_the_sla_sort(lane_engine: Engine) -> None:
    desk = Desk(lane_engine, SlaPolicy(first_response_hours=2))
    first = desk.open("first")
    desk.clock.advance(minutes=1)
    second = desk.open("second")
    desk.do(first, lambda r: SetPriority(r, Priority.URGENT, "bob@example.com"))
    ticket = desk.reader.ticket(second, desk.clock.now())
    assert ticket is not None and ticket.row.sla_due == desk.clock.now() + timedelta(hours=2)
    assert desk.queue(tab=Tab.OPEN, sort=Sort.SLA) == [first, second]
    later = desk.clock.now() + timedelta(hours=1.6)
    assert [
        r.sla_state for r in desk.reader.queue(ALICE, QueueQuery(tab=Tab.OPEN), later).rows
    ] == [
        SlaState.SOON,
        SlaState.SOON,
    ]


def test_the_ticket_shows_every_event_with_texts_notes_files_and_followers(
    desk: Desk, lane_engine: Engine
) -> None:
    mail = claim(
        subject="Invoice wrong",
        body="The invoice of 로그인 is wrong.",
        attachments=[("invoice.pdf", "application/pdf", b"%PDF-1")],
    )
    desk.mail(mail)
    with desk.store.read() as reader:
        number = reader.tickets()[0]["tracking"]
    again = claim(
        subject="Invoice wrong",
        body="The invoice of 로그인 is wrong.",
        attachments=[("again.pdf", "application/pdf", b"%PDF-2")],
    )
    desk.mail(again)
    before = desk.reader.ticket(number, desk.clock.now())
    assert before is not None
    reply_file = Attachment("fixed.pdf", "application/pdf", b"%PDF-3", "ab" * 32)
    desk.do(
        number,
        lambda r: AddNote(r, "internal: <b>check</b> billing", "bob@example.com"),
        lambda r: PublicReply(r, "Fixed, see attached.", "bob@example.com", (reply_file,)),
        lambda r: AddFollower(r, Address("cfo@acme.co.kr", "CFO"), "bob@example.com"),
        lambda r: AddTime(r, 15, "bob@example.com"),
    )
    ticket = desk.reader.ticket(number, desk.clock.now())
    assert ticket is not None
    kinds = [event.kind for event in ticket.events]
    assert kinds == [
        "created",
        "customer_message",
        "assigned",
        "duplicate",
        "note",
        "reply_sent",
        "follower_added",
        "time_logged",
    ]
    assert [e.id for e in ticket.events] == sorted(e.id for e in ticket.events)
    texts = {event.kind: event.text for event in ticket.events}
    assert texts["customer_message"] == "The invoice of 로그인 is wrong."
    assert texts["note"] == "internal: <b>check</b> billing"
    assert texts["reply_sent"] == "Fixed, see attached."
    assert texts["created"] is None and texts["assigned"] is None
    assert texts["duplicate"] == "The invoice of 로그인 is wrong."
    files = {event.kind: [a.filename for a in event.attachments] for event in ticket.events}
    assert files["customer_message"] == ["invoice.pdf"]
    assert files["reply_sent"] == ["fixed.pdf"]
    assert files["duplicate"] == ["again.pdf"]
    assert ticket.followers[0].email == "cfo@acme.co.kr"
    assert ticket.minutes_worked == 15
    assert ticket.first_response_at == desk.clock.now()
    assert ticket.version == ticket.events[-1].id > before.version
    assert ticket.domain == "acme.co.kr"
    internal = next(e for e in ticket.events if e.kind == "duplicate").attachments[0]
    found = desk.reader.attachment(number, internal.id)
    assert found is not None and found.data == b"%PDF-2"
    public = SqlAttachmentReader(lane_engine)
    assert "again.pdf" not in {a.filename for a in public.attachments(number)}
    assert public.attachment(number, internal.id) is None
    data = staff_ticket_object(ticket)
    assert data["version"] == ticket.version and data["code"] is None
    assert data["events"][4] | {"id": 0} == {
        "id": 0,
        "type": "note",
        "at": data["events"][4]["at"],
        "actor": "bob@example.com",
        "public": False,
        "summary": "internal: <b>check</b> billing",
        "text": "internal: <b>check</b> billing",
        "attachments": [],
    }


def test_the_version_changes_when_anything_is_recorded(desk: Desk) -> None:
    number = desk.open("versions")
    first = desk.reader.ticket(number, desk.clock.now())
    desk.do(number, lambda r: AddNote(r, "hello", "bob@example.com"))
    second = desk.reader.ticket(number, desk.clock.now())
    assert first is not None and second is not None and second.version > first.version


def test_history_by_requester_and_company_domain_but_not_webmail(desk: Desk) -> None:
    kim_old = desk.open("kim old")
    desk.clock.advance(minutes=1)
    lee = desk.open("lee", sender="Lee <lee@acme.co.kr>")
    desk.clock.advance(minutes=1)
    kim_new = desk.open("kim new")
    desk.open("elsewhere", sender="Choi <choi@other.example>")
    park_old = desk.open("park old", sender="Park <park@gmail.com>")
    desk.clock.advance(minutes=1)
    park_new = desk.open("park new", sender="Park <park@gmail.com>")
    desk.open("stranger", sender="Han <han@gmail.com>")
    target = desk.ref(kim_new)
    desk.do(kim_old, lambda r: MergeInto(r, target, "bob@example.com"))
    now = desk.clock.now()

    def history(number: str) -> list[str]:
        ticket = desk.reader.ticket(number, now)
        assert ticket is not None
        return [row.tracking for row in ticket.history]

    assert history(kim_new) == [lee, kim_old]
    assert history(lee) == [kim_new, kim_old]
    assert history(park_new) == [park_old]
    gmail = desk.reader.ticket(park_new, now)
    assert gmail is not None and gmail.domain == ""
    merged = desk.reader.ticket(kim_old, now)
    assert merged is not None and merged.merged_into == kim_new
    assert merged.row.status == Status.CLOSED


def test_an_unknown_ticket_is_none(desk: Desk) -> None:
    assert desk.reader.ticket("SUP-000000", desk.clock.now()) is None
    assert desk.reader.attachment("SUP-000000", 1) is None


@pytest.mark.sqlite_only
def test_statistics_let_the_queue_count_on_its_own_index(tmp_path: Path) -> None:
    """``ticketd init`` (and the daemon, hourly) refreshes SQLite's statistics; without
    them a big desk's tab counts walk the status index and read every open ticket."""
    engine = make_engine(f"sqlite:///{tmp_path}/desk.db")
    migrate(engine)
    at = datetime(2026, 11, 1, tzinfo=UTC)
    rows = [
        {
            "tracking": f"SUP-{n:04d}-0000",
            "status": "closed" if n % 5 else "open",
            "subject": "s",
            "requester_email": f"c{n}@acme.co.kr",
            "owner": f"e{n % 7}@example.com",
            "language": "ko",
            "fingerprint": str(n),
            "created_at": at,
            "updated_at": at,
        }
        for n in range(3000)
    ]
    with engine.begin() as connection:
        connection.execute(insert(tickets), rows)
    counting = (
        "EXPLAIN QUERY PLAN SELECT owner, status, count(*) FROM tickets"
        f" WHERE {QUEUED} GROUP BY owner, status"
    )
    try:
        refresh_statistics(engine)
        with engine.connect() as connection:
            plan = " ".join(str(row[-1]) for row in connection.exec_driver_sql(counting))
    finally:
        engine.dispose()
    assert "ix_tickets_queue_load" in plan
