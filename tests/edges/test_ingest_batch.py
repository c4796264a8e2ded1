"""A batch of inbound mail is processed under one savepoint; a message that fails rolls the
batch back and the batch is taken again one message at a time, so only that message is
retried and everything else commits once, as if the failure never happened."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage

from sqlalchemy import Engine, func, select

from tests.builders import claim
from tests.edges.test_ingest_statements import statements
from tests.edges.test_store import count, ingestor, raw
from ticketd.daemon.runner import Ingestor
from ticketd.routing.effects import NoticeKind
from ticketd.routing.model import EventKind
from ticketd.store.inbound import Position
from ticketd.store.schema import events, inbound, outbox, tickets

POISON = "poison"


def poisoned(runner: Ingestor) -> Ingestor:
    """``runner``, whose notices about a message with the subject ``POISON`` raise."""
    real_build = runner.store.build_notice

    def build(*args: object) -> object:
        msg = getattr(args[-1], "message", None)
        if msg is not None and getattr(msg, "subject", "") == POISON:
            raise RuntimeError("template exploded")
        return real_build(*args)  # type: ignore[arg-type]

    runner.store.build_notice = build  # type: ignore[assignment]
    return runner


def claims(n: int, sender: str = "Kim Minsu <kim@acme.co.kr>") -> list[bytes]:
    return [claim(f"Order {i} missing", f"Order {i:04d} never arrived", sender) for i in range(n)]


def test_a_clean_batch_is_one_savepoint(lane_engine: Engine) -> None:
    mails = claims(10)
    with statements(lane_engine) as seen:
        report = ingestor(lane_engine).ingest([raw(m, uid=n) for n, m in enumerate(mails, 1)])
    assert report.counts == {"new": 10}
    assert sum(1 for s in seen if s.startswith("SAVEPOINT")) == 1


def test_a_failing_message_rolls_back_only_itself_and_the_rest_commits_once(
    lane_engine: Engine,
) -> None:
    """Thirty claims with the poison last: more than five new tickets go to each engineer,
    so their owner notices are folded into one list per engineer, which names each ticket
    of the batch once (none of the rolled-back first pass)."""
    mails = [*claims(29), claim(POISON, "boom", "Lee <lee@acme.co.kr>")]
    batch = [raw(m, uid=n) for n, m in enumerate(mails, 1)]
    report = poisoned(ingestor(lane_engine)).ingest(
        batch, mailbox="box", checkpoint=Position(1, 30)
    )
    assert report.counts == {"new": 29, "failed": 1}
    assert count(lane_engine, tickets) == 29
    assert count(lane_engine, inbound) == 30
    assert count(lane_engine, inbound, inbound.c.state == "retry") == 1
    with lane_engine.connect() as connection:
        numbers = list(connection.execute(select(tickets.c.tracking)).scalars())
        assert connection.execute(
            select(func.count()).select_from(events).where(events.c.type == "created")
        ).scalar() == len(numbers)
        lists = connection.execute(
            select(outbox.c.data).where(outbox.c.kind == NoticeKind.NEW_TICKETS.value)
        ).scalars()
        listed = " ".join(text_of(data) for data in lists)
        owner_notices = connection.execute(
            select(func.count())
            .select_from(outbox)
            .where(outbox.c.kind == NoticeKind.OWNER_ASSIGNED.value)
        ).scalar()
    assert listed
    assert sum(listed.count(f"[{number}]") for number in numbers) == len(numbers) - owner_notices


def text_of(data: bytes) -> str:
    msg = message_from_bytes(data, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())  # type: ignore[attr-defined]


def test_the_hourly_cap_on_automatic_mail_holds_within_and_across_batches(
    lane_engine: Engine,
) -> None:
    """Five acknowledgements an hour to one customer: three claims, then five more in a
    second batch, give five acknowledgements and three suppressions."""
    mails = claims(8)
    ingestor(lane_engine).ingest([raw(m, uid=n) for n, m in enumerate(mails[:3], 1)])
    ingestor(lane_engine).ingest([raw(m, uid=n) for n, m in enumerate(mails[3:], 4)])
    acknowledged = outbox.c.kind == NoticeKind.ACKNOWLEDGEMENT.value
    assert count(lane_engine, outbox, acknowledged) == 5
    assert count(lane_engine, events, events.c.type == EventKind.NOTICE_SUPPRESSED.value) == 3


def test_a_batch_asks_once_about_claims_automatic_mail_and_followers(lane_engine: Engine) -> None:
    mails = claims(10)
    with statements(lane_engine) as seen:
        ingestor(lane_engine).ingest([raw(m, uid=n) for n, m in enumerate(mails, 1)])
    assert not [s for s in seen if "JOIN CLAIMS" in s]
    assert not [s for s in seen if s.startswith("SELECT COUNT(*)") and "FROM OUTBOX" in s]
    assert not [s for s in seen if "FROM FOLLOWERS" in s]
