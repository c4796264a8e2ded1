"""The report query layer on a hand-counted inbox: six tickets over two Seoul weeks (and
one the week before), every figure counted by hand; the JSON and CSV agree; ``ticketd
report`` prints them end to end."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, insert, select

from tests.builders import claim
from tests.e2e.support import write_config
from tests.edges.test_store import ingestor
from ticketd.mail.message import RawMessage, Source
from ticketd.routing.effects import AssignOwner, ChangeStatus, Decision, Disposition
from ticketd.routing.model import Status
from ticketd.routing.report_format import report_csv, report_json
from ticketd.routing.reports import Granularity, ReportRequest
from ticketd.store.db import Store, make_engine
from ticketd.store.lookup import ticket_ref
from ticketd.store.reports import SqlReports
from ticketd.store.schema import codes, events, tickets

SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2027, 1, 20, 12, 0, tzinfo=UTC)
ALICE, BOB = "alice@example.com", "bob@example.com"
WEEKS = ReportRequest(date(2027, 1, 4), date(2027, 1, 17), Granularity.WEEK, "Asia/Seoul")


def at(day: int, hour: float) -> datetime:
    """January ``day``, 2027, at ``hour`` in Seoul, as UTC."""
    return (datetime(2027, 1, day, tzinfo=SEOUL) + timedelta(hours=hour)).astimezone(UTC)


TICKETS: list[dict[str, Any]] = [
    # T1: week 1, answered in 2 h, resolved, rated good then bad (the bad one counts)
    dict(id=1, created=at(4, 10), owner=ALICE, code=2, type="bug", channel="smtp", answer=2,
         due=24, status="resolved", resolved=at(5, 10)),
    # T2: 01:00 Monday in Seoul is still Sunday in UTC: week 1; answered in 4 h, open
    dict(id=2, created=at(4, 1), owner=BOB, code=1, type="question", channel="imap", answer=4,
         due=24, status="open"),
    # T3: the week before; resolved in week 1, closed in week 2; never answered, past due
    dict(id=3, created=at(3, 23), owner=ALICE, channel="smtp", due=24, status="closed",
         resolved=at(7, 9), closed=at(12, 9)),
    # T4: week 2, answered in 10 h after its 8 h due time, resolved, rated, reopened
    dict(id=4, created=at(11, 9), owner=ALICE, type="bug", channel="smtp", answer=10, due=8,
         status="open", resolved=at(11, 20)),
    # T5: week 2, answered in 1 h, a resent claim (duplicate), and T6 merged into it
    dict(id=5, created=at(12, 9), owner=BOB, channel="import", answer=1, due=24, status="open"),
    # T6: week 2, merged into T5 (closed), never answered and past due
    dict(id=6, created=at(13, 9), owner=BOB, channel="imap", due=24, status="closed",
         resolved=at(13, 10), closed=at(13, 10), merged=5),
]  # fmt: skip
EVENTS = [
    (at(5, 10), 1, "status_changed", "resolved"),
    (at(6, 9), 1, "csat", "good"),
    (at(6, 10), 1, "csat", "bad"),
    (at(7, 9), 3, "status_changed", "resolved"),
    (at(11, 20), 4, "status_changed", "resolved"),
    (at(11, 21), 4, "csat", "good"),
    (at(12, 9), 3, "status_changed", "closed"),
    (at(12, 9.5), 4, "status_changed", "open"),
    (at(13, 8), 5, "duplicate", None),
    (at(13, 10), 6, "status_changed", "closed"),
    (at(13, 10), 5, "duplicate", None),
]

WEEK_1 = {
    "start": "2027-01-04",
    "new": 2,
    "resolved": 2,
    "closed": 0,
    "reopened": 0,
    "duplicates": 0,
    "first_response_median_hours": 3.0,
    "first_response_p90_hours": 3.8,
    "sla_met_ratio": 1.0,
    "by_code": {"배송": 1, "배송/파손": 1},
    "by_type": {"bug": 1, "question": 1},
    "by_channel": {"imap": 1, "smtp": 1},
    "by_owner": {
        ALICE: {"open": 0, "handled": 2, "first_response_median_hours": 2.0},
        BOB: {"open": 1, "handled": 0, "first_response_median_hours": 4.0},
    },
    "csat": {"good": 0, "bad": 1},
}
WEEK_2 = {
    "start": "2027-01-11",
    "new": 3,
    "resolved": 1,
    "closed": 2,
    "reopened": 1,
    "duplicates": 2,
    "first_response_median_hours": 5.5,
    "first_response_p90_hours": 9.1,
    "sla_met_ratio": 0.3333,
    "by_code": {},
    "by_type": {"bug": 1},
    "by_channel": {"imap": 1, "import": 1, "smtp": 1},
    "by_owner": {
        ALICE: {"open": 1, "handled": 1, "first_response_median_hours": 10.0},
        BOB: {"open": 2, "handled": 0, "first_response_median_hours": 1.0},
    },
    "csat": {"good": 1, "bad": 0},
}


def fill(engine: Engine) -> None:
    """The inbox above, as rows with explicit times."""
    with engine.begin() as connection:
        for number, path in ((1, "배송"), (2, "배송/파손")):
            connection.execute(
                insert(codes).values(
                    id=number, parent_id=1 if number == 2 else None, depth=number,
                    name=path.rsplit("/")[-1], path=path, created_at=at(1, 0),
                )
            )  # fmt: skip
        for t in TICKETS:
            created = t["created"]
            answer = t.get("answer")
            connection.execute(
                insert(tickets).values(
                    id=t["id"], tracking=f"SUP-TEST-000{t['id']}", status=t["status"],
                    type=t.get("type"), subject="s", requester_email="c@acme.test",
                    owner=t["owner"], language="ko", fingerprint=str(t["id"]),
                    created_at=created, updated_at=created, code_id=t.get("code"),
                    channel=t["channel"], resolved_at=t.get("resolved"),
                    closed_at=t.get("closed"),
                    first_response_at=created + timedelta(hours=answer) if answer else None,
                    first_response_due_at=None if answer else created + timedelta(hours=t["due"]),
                    first_response_late=answer > t["due"] if answer else None,
                )
            )  # fmt: skip
        connection.execute(tickets.update().values(merged_into=5).where(tickets.c.id == 6))
        for when, ticket, kind, value in EVENTS:
            connection.execute(
                insert(events).values(
                    ticket_id=ticket, type=kind, at=when, public=True, value=value
                )
            )


@pytest.fixture
def engine(lane_engine: Engine) -> Engine:
    fill(lane_engine)
    return lane_engine


def test_every_figure_of_two_weeks_as_counted_by_hand(engine: Engine) -> None:
    found = report_json(SqlReports(engine).report(WEEKS, NOW))
    assert [{key: period[key] for key in WEEK_1} for period in found["periods"]] == [
        WEEK_1,
        WEEK_2,
    ]
    total = found["total"]
    assert (total["new"], total["resolved"], total["closed"], total["reopened"]) == (5, 3, 2, 1)
    assert (total["first_response_median_hours"], total["first_response_p90_hours"]) == (3.0, 8.2)
    assert total["sla_met_ratio"] == 0.6
    assert total["csat"] == {"good": 1, "bad": 1}
    assert total["code_types"] == {"배송": {"question": 1}, "배송/파손": {"bug": 1}}
    previous = found["previous"]
    assert (previous["start"], previous["new"], previous["sla_met_ratio"]) == ("2026-12-21", 1, 0.0)
    assert previous["first_response_median_hours"] is None
    assert found["status_now"] == {"closed": 2, "open": 3, "resolved": 1}
    assert found["open_by_owner"] == {ALICE: 1, BOB: 2}


def test_local_days_follow_the_service_timezone(engine: Engine) -> None:
    days = ReportRequest(date(2027, 1, 3), date(2027, 1, 4), Granularity.DAY, "Asia/Seoul")
    periods = SqlReports(engine).report(days, NOW).periods
    assert [(p.start.day, p.new) for p in periods] == [(3, 1), (4, 2)]
    utc = ReportRequest(date(2027, 1, 3), date(2027, 1, 4), Granularity.DAY, "UTC")
    assert [p.new for p in SqlReports(engine).report(utc, NOW).periods] == [2, 1]


def csv_figures(text: str) -> dict[tuple[str, str, str], str]:
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0] == ["period", "measure", "key", "value"]
    return {(period, measure, key): value for period, measure, key, value in rows[1:]}


def test_csv_holds_the_same_numbers_as_json(engine: Engine) -> None:
    report = SqlReports(engine).report(WEEKS, NOW)
    rows = csv_figures(report_csv(report))
    for period in report_json(report)["periods"]:
        start = period["start"]
        assert rows[start, "new", ""] == str(period["new"])
        assert rows[start, "sla_met_ratio", ""] == str(period["sla_met_ratio"])
        for path, count in period["by_code"].items():
            assert rows[start, "by_code", path] == str(count)
        for email, owner in period["by_owner"].items():
            assert rows[start, "by_owner.open", email] == str(owner["open"])
            assert rows[start, "by_owner.handled", email] == str(owner["handled"])
    assert rows["2027-01-04", "by_code", "배송/파손"] == "1"
    assert rows["total", "code_types", "배송/파손|bug"] == "1"
    assert rows["total", "code_types", "배송|question"] == "1"


def test_ticketd_report_prints_the_figures(tmp_path: Path) -> None:
    ws = write_config(tmp_path)
    assert ws.subprocess("init").returncode == 0
    engine = make_engine(ws.database_url)
    fill(engine)
    engine.dispose()
    args = ("report", "--from", "2027-01-04", "--to", "2027-01-17", "--by", "week")
    done = ws.subprocess(*args)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert (printed["from"], printed["to"], printed["by"]) == ("2027-01-04", "2027-01-17", "week")
    assert [period["new"] for period in printed["periods"]] == [2, 3]
    assert printed["periods"][0]["by_owner"][ALICE] == WEEK_1["by_owner"][ALICE]
    as_csv = ws.subprocess(*args, "--format", "csv")
    assert csv_figures(as_csv.stdout)["2027-01-11", "duplicates", ""] == "2"
    default = json.loads(ws.subprocess("report").stdout)
    assert len(default["periods"]) == 30 and default["by"] == "day"
    bad = ws.subprocess("report", "--from", "2027-02-30")
    assert bad.returncode != 0
    assert bad.stderr.strip().splitlines() == [
        "error: --from: expected a date YYYY-MM-DD, not '2027-02-30'"
    ]


def test_the_writer_keeps_each_tickets_channel_and_close_time(lane_engine: Engine) -> None:
    runner = ingestor(lane_engine)
    arrived = datetime.now(UTC)
    runner.ingest(
        [RawMessage(claim(subject="by imap"), Source.IMAP, arrived, uid=1)], mailbox="box"
    )
    runner.ingest([RawMessage(claim(subject="by smtp"), Source.SMTP, arrived)])
    with lane_engine.connect() as connection:
        rows = connection.execute(select(tickets.c.subject, tickets.c.channel)).all()
    assert sorted(rows) == [("by imap", "imap"), ("by smtp", "smtp")]

    def change(status: Status) -> datetime | None:
        with lane_engine.connect() as connection:
            ref = ticket_ref(connection.execute(select(tickets).limit(1)).mappings().one())
        with Store(lane_engine, lambda: NOW).write() as writer:
            writer.apply(Decision(Disposition.SCHEDULED, (), (ChangeStatus(ref, status, "t"),)))
        with lane_engine.connect() as connection:
            return connection.execute(
                select(tickets.c.closed_at).where(tickets.c.id == ref.id)
            ).scalar_one()

    assert change(Status.CLOSED) == NOW
    assert change(Status.OPEN) is None


def test_kept_days_give_the_same_figures_and_a_later_change_is_seen(engine: Engine) -> None:
    live = report_json(SqlReports(engine).report(WEEKS, NOW))
    store = Store(engine, lambda: NOW)
    with store.write() as writer:
        kept = writer.refresh_reports("Asia/Seoul")
    assert kept == (date(2027, 1, 19) - date(2027, 1, 3)).days + 1  # first ticket to yesterday
    with store.write() as writer:
        assert writer.refresh_reports("Asia/Seoul") == 0
    assert report_json(SqlReports(engine).report(WEEKS, NOW)) == live

    with engine.connect() as connection:
        t2 = ticket_ref(
            connection.execute(select(tickets).where(tickets.c.id == 2)).mappings().one()
        )
    with store.write() as writer:
        writer.apply(Decision(Disposition.SCHEDULED, (), (AssignOwner(t2, ALICE, "test"),)))
    changed = report_json(SqlReports(engine).report(WEEKS, NOW))["periods"][0]["by_owner"]
    assert changed[ALICE]["first_response_median_hours"] == 3.0  # T1's 2 h and T2's 4 h
    assert BOB not in changed
    with store.write() as writer:
        assert writer.refresh_reports("Asia/Seoul") >= 1  # the stale days are kept again
    assert report_json(SqlReports(engine).report(WEEKS, NOW))["periods"][0]["by_owner"] == changed
