"""Reports read from kept days, weeks and months give the figures counted live, a change
after a day was kept is seen, and a later rating replaces an earlier one of the same
resolution on a ticket with a history (both lanes)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event, insert, select

from tests.edges.test_reports import ALICE, NOW, WEEKS, at, fill
from ticketd.routing.effects import AssignOwner, Decision, Disposition
from ticketd.routing.report_format import report_json
from ticketd.routing.reports import Granularity, ReportRequest
from ticketd.store.db import Store
from ticketd.store.lookup import ticket_ref
from ticketd.store.report_days import gather
from ticketd.store.reports import SqlReports
from ticketd.store.schema import events, tickets

ZONE = "Asia/Seoul"
LATER = datetime(2027, 3, 2, 12, 0, tzinfo=UTC)
ASKS = (
    WEEKS,
    ReportRequest(date(2027, 1, 1), date(2027, 2, 28), Granularity.MONTH, ZONE),
    ReportRequest(date(2027, 1, 1), date(2027, 2, 28), Granularity.WEEK, ZONE),
    ReportRequest(date(2027, 1, 2), date(2027, 1, 20), Granularity.DAY, ZONE),
)


def figures(engine: Engine, now: datetime) -> list[dict[str, Any]]:
    return [report_json(SqlReports(engine).report(ask, now)) for ask in ASKS]


def keep(engine: Engine, now: datetime) -> int:
    with Store(engine, lambda: now).write() as writer:
        return writer.refresh_reports(ZONE)


def test_kept_months_weeks_and_days_give_the_live_figures_and_see_a_change(
    lane_engine: Engine,
) -> None:
    fill(lane_engine)
    live = figures(lane_engine, LATER)
    assert keep(lane_engine, LATER) > 0
    assert figures(lane_engine, LATER) == live

    with lane_engine.connect() as connection:
        row = connection.execute(select(tickets).where(tickets.c.id == 2)).mappings().one()
    with Store(lane_engine, lambda: LATER).write() as writer:
        writer.apply(
            Decision(Disposition.SCHEDULED, (), (AssignOwner(ticket_ref(row), ALICE, "test"),))
        )
    changed = figures(lane_engine, LATER)
    assert live[1]["periods"][0]["by_owner"][ALICE]["first_response_median_hours"] == 6.0
    january = changed[1]["periods"][0]["by_owner"][ALICE]
    assert january["first_response_median_hours"] == 4.0  # T1's 2 h, T2's 4 h, T4's 10 h
    assert keep(lane_engine, LATER) >= 1
    assert figures(lane_engine, LATER) == changed


def test_a_later_rating_of_the_same_resolution_replaces_the_earlier_one(
    lane_engine: Engine,
) -> None:
    fill(lane_engine)
    with lane_engine.begin() as connection:
        for when, kind, value in (
            (at(12, 10), "status_changed", "resolved"),  # T4 resolved again after reopening
            (at(12, 11), "csat", "good"),
            (at(12, 12), "csat", "bad"),  # replaces the good one just before
        ):
            connection.execute(
                insert(events).values(ticket_id=4, type=kind, at=when, public=True, value=value)
            )
    week_2 = report_json(SqlReports(lane_engine).report(WEEKS, NOW))["periods"][1]
    assert week_2["csat"] == {"good": 1, "bad": 1}  # the first resolution's good one stands
    keep(lane_engine, NOW)
    week_2 = report_json(SqlReports(lane_engine).report(WEEKS, NOW))["periods"][1]
    assert week_2["csat"] == {"good": 1, "bad": 1}


def test_todays_created_tickets_are_read_from_an_index_alone(lane_engine: Engine) -> None:
    """What a day's figures read of the tickets created on it (today's, gathered live at
    every dashboard view) is covered by one index: no ticket row is visited."""
    if lane_engine.dialect.name != "sqlite":
        pytest.skip("SQLite's query plan")
    fill(lane_engine)
    plans: list[str] = []

    def explain(connection: Connection, cursor: Any, statement: str, *args: Any) -> None:
        if "FROM tickets" in statement and "created_at >=" in statement:
            rows = cursor.connection.execute(f"EXPLAIN QUERY PLAN {statement}", args[0])
            plans.append(" ".join(row[3] for row in rows))

    event.listen(lane_engine, "before_cursor_execute", explain)
    with lane_engine.connect() as connection:
        gather(connection, [date(2027, 1, 5)], ZONE)
    event.remove(lane_engine, "before_cursor_execute", explain)
    assert plans
    assert all("COVERING INDEX ix_tickets_created_report" in plan for plan in plans), plans
