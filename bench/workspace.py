"""The staff workspace's read views on a big inbox: every queue tab (default and SLA sort,
with the tab counts) and the page of a 50-event ticket, on SQLite and on PostgreSQL (a
throwaway cluster, as the tests start one).

Run: ``python -m bench.workspace [--tickets N] [--db sqlite|postgres|both] [--explain]``.
The default is 200,000 tickets with about 1,000,000 messages. Rows (and the search
documents the Writer would store with them) go straight into the tables from a seeded
generator (Korean and English texts, a realistic status, owner and priority mix, 10
engineers in 3 teams, 1 ticket in 1,000 with 50 events).
Targets: median < 100 ms, p95 < 300 ms for every view.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, insert, text

from tests.fixtures.postgres import start_postgres
from ticketd.routing.model import EngineerInfo, Role
from ticketd.routing.workspace import QueueQuery, Sort, StaffUser, Tab
from ticketd.store import search
from ticketd.store.db import make_engine, migrate
from ticketd.store.schema import events, messages, search_documents, tickets
from ticketd.store.workspace import SqlStaffReader

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
CHUNK = 5000
RUNS = 25
TEAMS = ("web", "mail", "billing")
ENGINEERS = tuple(
    EngineerInfo(f"eng{i}@example.com", f"Engineer {i}", Role.AGENT, (TEAMS[i % 3],))
    for i in range(10)
)
STATUSES = (("open", 15), ("pending", 5), ("waiting", 5), ("resolved", 10), ("closed", 65))
PRIORITIES = (("normal", 70), ("high", 15), ("low", 10), ("urgent", 5))
WEBMAIL = ("gmail.com", "naver.com", "daum.net", "hanmail.net", "outlook.com")
SUBJECTS = (
    "로그인이 안 됩니다",
    "결제 영수증 재발행 요청",
    "관리자 페이지 500 오류",
    "Cannot log in since the update",
    "Invoice shows the wrong amount",
    "API returns 429 too often",
    "비밀번호 초기화 메일이 오지 않아요",
    "Export to CSV is empty",
)
SENTENCES = (
    ("안녕하세요.", 30),
    ("어제부터 관리자 페이지에 로그인이 되지 않습니다.", 12),
    ("로그인 후 화면이 멈춥니다.", 6),
    ("주문한 상품의 배송이 늦어지고 있습니다.", 8),
    ("배송 조회가 되지 않아요.", 4),
    ("지난달 청구서 금액이 계약과 다릅니다.", 6),
    ("수정된 영수증을 보내주세요.", 6),
    ("고객님, 불편을 드려 죄송합니다.", 15),
    ("원인을 확인 중이며 곧 다시 안내드리겠습니다.", 15),
    ("확인 부탁드립니다.", 20),
    ("택배사에서 분실 신고서를 받았습니다.", 1),
    ("Hello, the admin page answers error 500 when we open the report.", 8),
    ("Please send a corrected invoice for last month.", 8),
    ("Thanks for the quick answer, it works again on our side.", 10),
    ("We attached the logs from this morning.", 8),
    ("The failures start at 09:12 KST.", 4),
    ("Could you check this again, please?", 12),
)
"""Message texts are 1-4 of these (weighted): "로그인" is in about a fifth of the texts,
"배송" and "invoice" in about a tenth, "분실" in under one in a hundred."""
SEARCHES = ("로그인", "분실", "배송", "invoice", "로그인 확인", "admin invoice")


def weighted(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([name for name, _ in table], [weight for _, weight in table])[0]


def body(rng: random.Random) -> str:
    """A message text of 1-4 weighted sentences, with an order number of its own."""
    picked = rng.choices([t for t, _ in SENTENCES], [w for _, w in SENTENCES], k=rng.randint(1, 4))
    return " ".join(picked) + f" (#{rng.randrange(10**8):08d})"


def populate(engine: Engine, count: int, seed: int = 12) -> list[str]:
    """``count`` tickets with about 5 messages each; returns the 50-event tickets."""
    rng = random.Random(seed)
    domains = [f"company{i}.co.kr" for i in range(1500)] + [f"shop{i}.com" for i in range(500)]
    long_ones: list[str] = []
    message_id = event_id = 0
    with engine.begin() as connection:
        for start in range(0, count, CHUNK):
            rows, texts, steps, documents = [], [], [], []
            for pk in range(start + 1, min(start + CHUNK, count) + 1):
                row = _ticket(rng, pk, domains)
                rows.append(row)
                first = len(documents)
                documents.append(_document(pk, 0, "subject", row["subject"], None))
                long = pk % 1000 == 500
                if long:
                    long_ones.append(row["tracking"])
                for kind, at, message in _timeline(rng, row, 49 if long else rng.randint(1, 9)):
                    event_id += 1
                    ref = None
                    if message is not None:
                        message_id += 1
                        ref = message_id
                        said = body(rng)
                        kind = "note" if message == "note" else "message"
                        documents.append(_document(pk, len(documents) - first, kind, said, ref))
                        texts.append(
                            {
                                "id": message_id,
                                "ticket_id": pk,
                                "message_id": f"<m{message_id}@bench>",
                                "direction": message,
                                "author": row["requester_email"],
                                "body": said,
                                "public": message != "note",
                                "at": at,
                            }
                        )
                    steps.append(
                        {
                            "id": event_id,
                            "ticket_id": pk,
                            "type": kind,
                            "at": at,
                            "actor": row["owner"] or "",
                            "public": kind != "note",
                            "summary": "",
                            "message_ref": ref,
                        }
                    )
            connection.execute(insert(tickets), rows)
            connection.execute(insert(messages), texts)
            connection.execute(insert(events), steps)
            connection.execute(insert(search_documents), documents)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))  # as autovacuum leaves a steady database
    else:
        with engine.begin() as connection:  # committed: ticketd's engine opens its own BEGIN
            connection.execute(text("ANALYZE"))
    print(f"  {count} tickets, {message_id} messages, {event_id} events")
    return long_ones


def _document(ticket_id: int, n: int, kind: str, said: str, ref: int | None) -> dict[str, Any]:
    """The search document the Writer stores with a text (``store.search_pending``); the FTS5
    triggers and the trigram index take it as they take the Writer's."""
    return {
        "id": search.document_id(ticket_id, n),
        "ticket_id": ticket_id,
        "kind": kind,
        "text": search.fold(said),
        "message_ref": ref,
    }


def _ticket(rng: random.Random, pk: int, domains: list[str]) -> dict[str, Any]:
    status = weighted(rng, STATUSES)
    active = status in ("open", "pending", "waiting")
    created = NOW - timedelta(minutes=rng.randint(1, 60 * 24 * (30 if active else 700)))
    answered = not active or rng.random() < 0.6
    customer = rng.randint(1, 40000)
    domain = rng.choice(WEBMAIL) if customer % 10 < 3 else domains[customer % len(domains)]
    owner = None if active and rng.random() < 0.15 else rng.choice(ENGINEERS).email
    updated = min(NOW, created + timedelta(minutes=rng.randint(0, 60 * 24 * 5)))
    return {
        "id": pk,
        "tracking": f"SUP-{pk:04X}-{rng.randrange(16**4):04X}",
        "status": status,
        "priority": weighted(rng, PRIORITIES),
        "type": rng.choice((None, None, "bug", "question", "billing")),
        "subject": rng.choice(SUBJECTS),
        "requester_email": f"user{customer}@{domain}",
        "requester_domain": domain,
        "requester_name": f"고객 {customer}",
        "owner": owner,
        "language": "ko" if domain.endswith(".kr") or domain in WEBMAIL else "en",
        "fingerprint": f"{pk:064x}",
        "merged_into": pk - 1 if status == "closed" and pk > 1 and rng.random() < 0.01 else None,
        "created_at": created,
        "updated_at": updated,
        "first_response_at": created + timedelta(hours=2) if answered else None,
        "first_response_due_at": None if answered else created + timedelta(hours=24),
        "resolved_at": updated if not active else None,
        "sla_breached_at": None,
    }


def _timeline(
    rng: random.Random, row: dict[str, Any], messages_count: int
) -> Iterator[tuple[str, datetime, str | None]]:
    """(event type, time, message direction or None) in order."""
    at = row["created_at"]
    yield "created", at, None
    yield "customer_message", at, "in"
    yield "assigned", at, None
    for i in range(messages_count - 1):
        at += timedelta(minutes=rng.randint(1, 300))
        kind, direction = [("reply_sent", "out"), ("customer_message", "in"), ("note", "note")][
            i % 3
        ]
        yield kind, at, direction
    if row["status"] != "open":
        yield "status_changed", at, None


def timed(call: Callable[[], object]) -> tuple[float, float]:
    """Median and p95 of ``RUNS`` calls, in milliseconds."""
    call()
    spent = []
    for _ in range(RUNS):
        begun = time.perf_counter()
        call()
        spent.append((time.perf_counter() - begun) * 1000)
    spent.sort()
    return statistics.median(spent), spent[int(len(spent) * 0.95) - 1]


def views(
    reader: SqlStaffReader, long_ones: list[str]
) -> Iterator[tuple[str, Callable[[], object]]]:
    viewer = StaffUser(ENGINEERS[0].email, ENGINEERS[0].name, Role.AGENT, ENGINEERS[0].teams)
    for tab in Tab:
        for sort in (Sort.AGE, Sort.SLA):
            query = QueueQuery(tab=tab, sort=sort)
            yield f"queue {tab.value} ({sort.value})", lambda q=query: reader.queue(viewer, q, NOW)
    picks = iter(long_ones * RUNS)
    yield "ticket page (50 events)", lambda: reader.ticket(next(picks), NOW)
    for words in SEARCHES:
        yield f"search {words}", lambda w=words: reader.search(w, None, 50, NOW)


def explain(engine: Engine, reader: SqlStaffReader) -> None:
    """The plan of every statement one queue call of each tab and sort runs."""
    statements: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, sql: str, params: Any, *_: Any) -> None:
        statements.append((sql, params))

    event.listen(engine, "before_cursor_execute", keep)
    viewer = StaffUser(ENGINEERS[0].email, ENGINEERS[0].name, Role.AGENT, ENGINEERS[0].teams)
    for tab in Tab:
        for sort in Sort:
            reader.queue(viewer, QueueQuery(tab=tab, sort=sort), NOW)
    event.remove(engine, "before_cursor_execute", keep)
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as connection:
        for sql, params in statements:
            plan = connection.exec_driver_sql(prefix + sql, params).all()
            print(" ".join(sql.split())[:160])
            for line in plan:
                print("    ", line[-1])


def run(name: str, url: str, count: int, show_plans: bool) -> list[tuple[str, str, float, float]]:
    print(f"{name}: building")
    engine = make_engine(url)
    migrate(engine)
    begun = time.perf_counter()
    long_ones = populate(engine, count)
    print(f"  built in {time.perf_counter() - begun:.0f} s")
    engine.dispose()
    engine = make_engine(url, read_only=True)
    reader = SqlStaffReader(engine, ENGINEERS)
    if show_plans:
        explain(engine, reader)
    results = [(name, view, *timed(call)) for view, call in views(reader, long_ones)]
    engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=200_000)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as work:
        if args.db in ("sqlite", "both"):
            url = f"sqlite:///{Path(work) / 'bench.db'}"
            results += run("sqlite", url, args.tickets, args.explain)
        if args.db in ("postgres", "both"):
            server = start_postgres()
            try:
                url = server.create_database("bench")
                results += run("postgres", url, args.tickets, args.explain)
            finally:
                server.stop()
    print(f"\n{args.tickets} tickets; {RUNS} runs each; ms")
    print(f"| {'database':9} | {'view':28} | median | p95 |")
    print(f"|{'-' * 11}|{'-' * 30}|--------|-----|")
    for database, view, median, p95 in results:
        flag = "" if median < 100 and p95 < 300 else "  (over target)"
        print(f"| {database:9} | {view:28} | {median:6.1f} | {p95:5.1f} |{flag}")


if __name__ == "__main__":
    main()
