"""The dashboard on a big inbox, on SQLite and on PostgreSQL (a throwaway cluster), for a
year by week, a year by month, 30 days by day and 90 days by week: ``SqlReports.report``
(what every dashboard view, its downloads and ``ticketd report`` read), then the whole
``/staff/dashboard`` page and its CSV download through the web app.

Run: ``python -m bench.dashboard [--tickets N] [--db sqlite|postgres|both]``. The inbox is
``bench.workspace``'s (200,000 tickets over two years, about 1,000,000 messages), given
what reports read besides: a three-level code tree on 80 % of the tickets, types, channels,
the new status on every status change, reopenings, duplicates and satisfaction ratings.
Each is timed once with no day kept (a first ``ticketd report`` before the daemon's jobs
ran) and then, after the days are kept (the jobs' refresh, timed), 25 times, as are the
pages: the target, median < 300 ms, is for the kept case, the dashboard's usual one.
"""

from __future__ import annotations

import argparse
import gc
import random
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, bindparam, func, insert, select, text, update

from bench.workspace import NOW, populate, timed
from tests.fixtures.postgres import start_postgres
from tests.web.staff_support import desk
from ticketd.routing.reports import Granularity, ReportRequest
from ticketd.store.db import Store, make_engine, migrate
from ticketd.store.report_cache import REFRESH_DAYS
from ticketd.store.reports import SqlReports
from ticketd.store.schema import codes, events, tickets

ZONE = "Asia/Seoul"
TOPS = ("배송", "결제", "계정", "Bug report", "Feature")
CHANNELS = ("imap", "imap", "imap", "smtp", "import")
TYPES = ("bug", "feature", "question")


def code_rows() -> list[dict[str, Any]]:
    """5 top codes × 4 × 3: 65 nodes, the leaves numbered after their parents."""
    rows: list[dict[str, Any]] = []
    at = NOW - timedelta(days=800)

    def node(parent: dict[str, Any] | None, name: str) -> dict[str, Any]:
        path = f"{parent['path']}/{name}" if parent else name
        row = {
            "id": len(rows) + 1,
            "parent_id": parent["id"] if parent else None,
            "depth": parent["depth"] + 1 if parent else 1,
            "name": name,
            "label_ko": name,
            "label_en": name,
            "path": path,
            "created_at": at,
        }
        rows.append(row)
        return row

    for top in TOPS:
        parent = node(None, top)
        for middle in range(4):
            child = node(parent, f"{top}-{middle}")
            for leaf in range(2):
                node(child, f"{top}-{middle}-{leaf}")
    return rows


def classify(engine: Engine, count: int, seed: int = 13) -> None:
    """Codes, types and channels on the tickets, the new status on their status changes,
    and reopenings, duplicates and ratings as events."""
    rng = random.Random(seed)
    tree = code_rows()
    leaves = [row["id"] for row in tree if row["depth"] == 3]
    with engine.begin() as connection:
        connection.execute(insert(codes), tree)
        connection.execute(
            update(events)
            .where(events.c.type == "status_changed")
            .values(
                value=select(tickets.c.status)
                .where(tickets.c.id == events.c.ticket_id)
                .scalar_subquery()
            )
        )
        done = connection.execute(
            select(tickets.c.id, tickets.c.resolved_at, tickets.c.status).where(
                tickets.c.resolved_at.is_not(None)
            )
        ).all()
        extra: list[dict[str, Any]] = []
        classified = update(tickets).where(tickets.c.id == bindparam("pk"))
        connection.execute(
            classified.values(
                code_id=bindparam("code"), type=bindparam("kind"), channel=bindparam("via")
            ),
            [
                {
                    "pk": pk,
                    "code": rng.choice(leaves) if rng.random() < 0.8 else None,
                    "kind": rng.choice(TYPES) if rng.random() < 0.9 else None,
                    "via": rng.choice(CHANNELS),
                }
                for pk in range(1, count + 1)
            ],
        )
        connection.execute(
            classified.values(closed_at=bindparam("closed")),
            [
                {"pk": pk, "closed": min(NOW, at + timedelta(days=7))}
                for pk, at, status in done
                if status == "closed"
            ],
        )
        for pk, resolved_at, status in done:
            if rng.random() < 0.3:
                extra.append(_event(pk, "csat", resolved_at, rng.choice(("good",) * 4 + ("bad",))))
            if rng.random() < 0.05:
                extra.append(_event(pk, "status_changed", resolved_at, "open"))
                extra.append(_event(pk, "status_changed", resolved_at, status))
            if rng.random() < 0.05:
                extra.append(_event(pk, "duplicate", resolved_at, None))
        first = connection.execute(select(func.max(events.c.id))).scalar() or 0
        for number, row in enumerate(extra, start=first + 1):
            row["id"] = number  # the generator numbered its rows: no sequence to follow
        connection.execute(insert(events), extra)
    analyze(engine)
    print(f"  {len(tree)} codes; {len(extra)} more events")


def _event(ticket_id: int, kind: str, at: datetime, value: str | None) -> dict[str, Any]:
    return {
        "ticket_id": ticket_id,
        "type": kind,
        "at": at + timedelta(minutes=1),
        "actor": "",
        "public": False,
        "summary": "",
        "value": value,
    }


def analyze(engine: Engine) -> None:
    """The statistics a running desk has (``ticketd init`` and the poller refresh them)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))


ASKS = (
    ("a year by week", 364, Granularity.WEEK),
    ("a year by month", 364, Granularity.MONTH),
    ("30 days by day", 29, Granularity.DAY),
    ("90 days by week", 89, Granularity.WEEK),
)
"""Each view: its name, how many days before today it starts, and its periods."""


def requests() -> Iterator[tuple[str, ReportRequest]]:
    today = NOW.astimezone(ZoneInfo(ZONE)).date()
    for name, back, by in ASKS:
        yield name, ReportRequest(today - timedelta(days=back), today, by, ZONE)


def views(reports: SqlReports) -> Iterator[tuple[str, Callable[[], object]]]:
    for name, request in requests():
        yield name, lambda r=request: reports.report(r, NOW)


@contextmanager
def pages(url: str) -> Iterator[Iterator[tuple[str, Callable[[], object]]]]:
    """Each view as a manager's browser gets it: the whole ``/staff/dashboard`` page (the
    report, its cards and charts, the template) and its CSV download, through the web app
    (a signed-in session in a test client; the figures read from ``url``)."""
    engine = make_engine(url, read_only=True)
    with tempfile.TemporaryDirectory() as root, desk(Path(root), reports=SqlReports(engine)) as d:
        d.clock.at = NOW
        d.sign_in("bob@example.com")  # the desk's manager
        gc.freeze()  # as ticketd run does once started (daemon/service.py)

        def get(path: str, request: ReportRequest) -> Callable[[], object]:
            query = {"from": request.start, "to": request.end, "by": request.by.value}

            def call() -> object:
                answer = d.client.get(path, params=query)
                assert answer.status_code == 200, answer.text[:300]
                return answer

            return call

        def each() -> Iterator[tuple[str, Callable[[], object]]]:
            for name, request in requests():
                yield f"{name}, page", get("/staff/dashboard", request)
                yield f"{name}, csv", get("/staff/dashboard.csv", request)

        yield each()
    engine.dispose()


def run(name: str, url: str, count: int) -> list[tuple[str, str, float, float]]:
    print(f"{name}: building")
    engine = make_engine(url)
    migrate(engine)
    populate(engine, count)
    classify(engine, count)
    engine.dispose()
    engine = make_engine(url, read_only=True)
    reports = SqlReports(engine)
    results = [(name, f"{view}, cold", *once(call)) for view, call in views(reports)]
    writing = make_engine(url)
    begun = time.perf_counter()
    with Store(writing, lambda: NOW).write() as writer:
        kept = chunk = writer.refresh_reports(ZONE)
        while chunk == REFRESH_DAYS:
            chunk = writer.refresh_reports(ZONE)
            kept += chunk
    print(f"  {kept} days kept in {time.perf_counter() - begun:.1f} s")
    analyze(writing)  # the kept rows' statistics, as autovacuum or the poller soon has them
    writing.dispose()
    gc.freeze()  # as ticketd run does once started (daemon/service.py)
    results += [(name, view, *timed(call)) for view, call in views(reports)]
    engine.dispose()
    with pages(url) as each:
        results += [(name, view, *timed(call)) for view, call in each]
    for _, view, median, p95 in results:
        print(f"  {view}: median {median:.1f} ms, p95 {p95:.1f} ms")
    return results


def once(call: Callable[[], object]) -> tuple[float, float]:
    """One call with nothing kept (what ``ticketd report`` costs before the daemon's jobs
    kept the days), in milliseconds."""
    begun = time.perf_counter()
    call()
    spent = (time.perf_counter() - begun) * 1000
    return spent, spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=200_000)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as work:
        if args.db in ("sqlite", "both"):
            results += run("sqlite", f"sqlite:///{Path(work) / 'bench.db'}", args.tickets)
        if args.db in ("postgres", "both"):
            server = start_postgres()
            try:
                results += run("postgres", server.create_database("bench"), args.tickets)
            finally:
                server.stop()
    print(f"\n{args.tickets} tickets over two years; ms")
    print(f"| {'database':9} | {'report':22} | median | p95 |")
    print(f"|{'-' * 11}|{'-' * 24}|--------|-----|")
    for database, view, median, p95 in results:
        flag = "" if median < 300 or view.endswith("cold") else "  (over target)"
        print(f"| {database:9} | {view:22} | {median:6.1f} | {p95:5.1f} |{flag}")


if __name__ == "__main__":
    main()
