"""The SLA clocks on a real database with an injected clock: business-time due instants,
a priority change mid-clock, the next-reply cycle, a restart between reminder and breach,
and clock jumps; every reminder and breach a stored decision, sent once."""

from __future__ import annotations

from datetime import date, datetime
from email import message_from_bytes
from email.policy import default
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select

from tests.builders import claim
from tests.edges.test_store import SecureRng, raw
from tests.unit.fakes import CTX, FrozenClock
from ticketd.daemon.business_calendar import public_holidays
from ticketd.daemon.runner import Ingestor
from ticketd.daemon.scheduler import JobReport, run_jobs
from ticketd.mail.message import Address, RawMessage, Source
from ticketd.notifications.notices import NoticeFactory, NoticeSettings
from ticketd.notifications.render import Renderer
from ticketd.routing.calendar import BusinessCalendar, parse_ranges
from ticketd.routing.effects import Decision, Disposition, PublicReply, SetPriority
from ticketd.routing.model import Priority
from ticketd.routing.schedule import ScheduleSettings
from ticketd.routing.sla import SlaPolicy
from ticketd.store.db import Store
from ticketd.store.pages import PageFacts, SqlTicketReader
from ticketd.store.schema import events, outbox, tickets

SEOUL = ZoneInfo("Asia/Seoul")
OPEN = parse_ranges("09:00-18:00")
assert not isinstance(OPEN, str)
CALENDAR = BusinessCalendar(
    "Asia/Seoul",
    {"mon": OPEN, "tue": OPEN, "wed": OPEN, "thu": OPEN, "fri": OPEN},
    public_holidays("KR", range(2027, 2028)) | {date(2027, 5, 4)},
    frozenset({date(2027, 2, 13)}),
)
POLICY = SlaPolicy(8, {Priority.URGENT: 4}, 4, CALENDAR)


def kst(*args: int) -> datetime:
    return datetime(*args, tzinfo=SEOUL)  # type: ignore[misc]


class Desk:
    """ticketd's store, ingestor and scheduler on one database, as one process has them."""

    def __init__(self, engine: Engine, clock: FrozenClock) -> None:
        self.engine, self.clock = engine, clock
        rng = SecureRng()
        notices = NoticeFactory(
            NoticeSettings(
                service_name="Example",
                support_address="support@example.com",
                sender=Address("support@example.com", "Example"),
                base_url="http://127.0.0.1:8080",
                secret_key="k" * 32,
                first_response_hours=8,
                timezone="Asia/Seoul",
            ),
            Renderer.default(),
            rng.token_bytes,
            clock.now,
        )
        self.store = Store(engine, clock.now, build_notice=notices.build, sla=lambda: POLICY)
        self.ingestor = Ingestor(self.store, CTX, clock, rng)
        self.settings = ScheduleSettings(8, 7, CTX.engineers, POLICY)

    def mail(self, data: bytes) -> None:
        self.ingestor.ingest([raw(data)], mailbox="box", checkpoint=None)

    def jobs(self, at: datetime) -> JobReport:
        self.clock.at = at
        return run_jobs(self.store, self.settings, self.clock, lambda stop: 0)

    def apply(self, at: datetime, *effects: object) -> None:
        self.clock.at = at
        with self.store.write() as writer:
            writer.apply(Decision(Disposition.SCHEDULED, (), effects))  # type: ignore[arg-type]

    def ticket(self) -> dict[str, object]:
        with self.engine.connect() as connection:
            return dict(connection.execute(select(tickets)).mappings().one())

    def ref(self) -> object:
        ticket_id = int(self.ticket()["id"])  # type: ignore[call-overload]
        with self.store.write() as writer:
            return writer.locked_ticket(ticket_id).ref

    def sla_events(self) -> list[tuple[str, str | None]]:
        query = select(events.c.type, events.c.value).where(events.c.type.like("sla_%"))
        with self.engine.connect() as connection:
            return [tuple(row) for row in connection.execute(query.order_by(events.c.id))]  # type: ignore[misc]

    def sla_mail(self) -> list[tuple[str, str]]:
        kinds = ("sla_reminder", "sla_breached", "next_reply_reminder", "next_reply_breached")
        query = select(outbox.c.kind, outbox.c.recipient).where(outbox.c.kind.in_(kinds))
        with self.engine.connect() as connection:
            return [tuple(row) for row in connection.execute(query.order_by(outbox.c.id))]  # type: ignore[misc]


@pytest.fixture
def desk(lane_engine: Engine) -> Desk:
    return Desk(lane_engine, FrozenClock(kst(2027, 1, 8, 17)))


def test_a_friday_evening_claim_is_due_in_business_time_and_reminded_then_breached_once(
    desk: Desk,
) -> None:
    desk.mail(claim())
    row = desk.ticket()
    assert row["first_response_due_at"] == kst(2027, 1, 11, 16)
    assert row["first_response_remind_at"] == kst(2027, 1, 11, 14)
    assert desk.jobs(kst(2027, 1, 10, 23)).actions == 0
    assert desk.jobs(kst(2027, 1, 11, 14)).reminders == 1
    assert desk.jobs(kst(2027, 1, 11, 15)).actions == 0
    assert desk.jobs(kst(2027, 1, 11, 16)).breaches == 1
    assert desk.jobs(kst(2027, 1, 12, 16)).actions == 0
    assert desk.sla_events() == [
        ("sla_reminded", "first_response"),
        ("sla_breached", "first_response"),
    ]


def test_the_acknowledgement_names_the_business_time_due(desk: Desk) -> None:
    korean = claim(
        "로그인이 안 됩니다", "관리자 화면에 어제부터 들어갈 수 없습니다.", date=kst(2027, 1, 8, 17)
    )
    arrived = RawMessage(korean, Source.IMAP, kst(2027, 1, 8, 17), uid=1)
    desk.ingestor.ingest([arrived], mailbox="box", checkpoint=None)
    query = select(outbox.c.data).where(outbox.c.kind == "acknowledgement")
    with desk.engine.connect() as connection:
        mail = message_from_bytes(connection.execute(query).scalar_one(), policy=default)
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "늦어도 1월 11일(월) 16:00 (한국 표준시)까지 첫 답변을 드립니다" in text
    assert "8시간" not in text


def test_seollal_and_an_extra_workday_move_the_due_time(desk: Desk) -> None:
    desk.clock.at = kst(2027, 2, 5, 17)
    desk.mail(claim())
    assert desk.ticket()["first_response_due_at"] == kst(2027, 2, 10, 16)
    desk.clock.at = kst(2027, 2, 12, 17)
    desk.mail(claim(subject="Another", body="Another problem", sender="lee@acme.co.kr"))
    with desk.engine.connect() as connection:
        due = connection.execute(select(tickets.c.first_response_due_at).order_by(tickets.c.id))
        assert list(due.scalars())[1] == kst(2027, 2, 13, 16)


def test_a_priority_change_counts_again_from_creation_and_is_recorded(desk: Desk) -> None:
    desk.mail(claim())
    desk.apply(kst(2027, 1, 11, 10), SetPriority(desk.ref(), Priority.URGENT, "bob@example.com"))  # type: ignore[arg-type]
    row = desk.ticket()
    assert row["first_response_due_at"] == kst(2027, 1, 11, 12)
    with desk.engine.connect() as connection:
        summary = connection.execute(
            select(events.c.summary).where(events.c.type == "priority_changed")
        ).scalar_one()
    assert summary == "priority_due:urgent:2027-01-11 12:00 KST"
    assert desk.jobs(kst(2027, 1, 11, 11)).reminders == 1
    assert desk.jobs(kst(2027, 1, 11, 12)).breaches == 1


def test_next_reply_cycle_once_per_unanswered_message(desk: Desk) -> None:
    desk.mail(claim())
    desk.apply(kst(2027, 1, 11, 9), PublicReply(desk.ref(), "Looking into it", "alice@example.com"))  # type: ignore[arg-type]
    tracking = str(desk.ticket()["tracking"])
    desk.clock.at = kst(2027, 1, 11, 17)
    desk.mail(claim(subject=f"Re: [{tracking}] Cannot log in", body="Still broken"))
    row = desk.ticket()
    assert (row["next_response_remind_at"], row["next_response_due_at"]) == (
        kst(2027, 1, 12, 11),
        kst(2027, 1, 12, 12),
    )
    desk.clock.at = kst(2027, 1, 12, 9)
    desk.mail(claim(subject=f"Re: [{tracking}] Cannot log in", body="Hello?"))
    assert desk.ticket()["next_response_due_at"] == kst(2027, 1, 12, 12)
    assert desk.jobs(kst(2027, 1, 12, 11)).reminders == 1
    assert desk.jobs(kst(2027, 1, 12, 12)).breaches == 1
    assert desk.jobs(kst(2027, 1, 13, 12)).actions == 0
    desk.apply(kst(2027, 1, 13, 13), PublicReply(desk.ref(), "Fixed", "alice@example.com"))  # type: ignore[arg-type]
    assert desk.ticket()["next_response_due_at"] is None
    desk.clock.at = kst(2027, 1, 13, 14)
    desk.mail(claim(subject=f"Re: [{tracking}] Cannot log in", body="Broken again"))
    assert desk.jobs(kst(2027, 1, 13, 17)).reminders == 1
    assert desk.sla_events() == [
        ("sla_reminded", "next_response"),
        ("sla_breached", "next_response"),
        ("sla_reminded", "next_response"),
    ]
    assert desk.sla_mail() == [
        ("next_reply_reminder", "alice@example.com"),
        ("next_reply_breached", "alice@example.com"),
        ("next_reply_breached", "bob@example.com"),
        ("next_reply_reminder", "alice@example.com"),
    ]


def test_a_restart_between_reminder_and_breach_repeats_nothing_and_skips_nothing(
    desk: Desk,
) -> None:
    desk.mail(claim())
    assert desk.jobs(kst(2027, 1, 11, 14, 30)).reminders == 1
    restarted = Desk(desk.engine, FrozenClock(kst(2027, 1, 11, 15)))
    assert restarted.jobs(kst(2027, 1, 11, 15)).actions == 0
    assert restarted.jobs(kst(2027, 1, 11, 16, 1)).breaches == 1
    again = Desk(desk.engine, FrozenClock(kst(2027, 1, 11, 17)))
    assert again.jobs(kst(2027, 1, 11, 17)).actions == 0
    kinds = [kind for kind, _ in desk.sla_mail()]
    assert kinds.count("sla_reminder") == 1
    assert kinds.count("sla_breached") == 2


def test_a_clock_jump_forward_breaches_once_without_a_late_reminder_and_back_never_unfires(
    desk: Desk,
) -> None:
    desk.mail(claim())
    report = desk.jobs(kst(2027, 1, 20, 9))
    assert (report.reminders, report.breaches) == (0, 1)
    assert desk.jobs(kst(2027, 1, 11, 14)).actions == 0
    assert desk.jobs(kst(2027, 1, 20, 10)).actions == 0
    assert desk.sla_events() == [("sla_breached", "first_response")]
    assert [kind for kind, _ in desk.sla_mail()] == ["sla_breached", "sla_breached"]


def test_the_status_page_shows_the_business_time_due(desk: Desk) -> None:
    desk.mail(claim())
    reader = SqlTicketReader(desk.engine, PageFacts({}, 8), "test")
    page = reader.ticket_page(str(desk.ticket()["tracking"]))
    assert page is not None and page.first_response_due == kst(2027, 1, 11, 16)
