"""Engineers away until a date, from the TOML (``away_until``) or the workspace: out of
assignment through that day in the service's timezone, back from the next midnight; their
tickets with a running SLA promise are listed as at risk."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from tests.builders import claim
from tests.e2e.support import write_config
from tests.edges.test_sla_clocks import Desk, kst
from tests.edges.test_store import SecureRng
from tests.unit.fakes import CTX, FrozenClock
from ticketd.daemon.config import ConfigError, load_config
from ticketd.daemon.runner import Ingestor
from ticketd.routing.assign import Availability, back_at
from ticketd.routing.model import EngineerInfo
from ticketd.store.away import away_owner_tickets
from ticketd.store.schema import tickets

BACK = back_at(date(2027, 1, 10), "Asia/Seoul")
ALICE, BOB = CTX.engineers


def owners(desk: Desk) -> list[str | None]:
    with desk.engine.connect() as connection:
        return list(connection.execute(select(tickets.c.owner).order_by(tickets.c.id)).scalars())


def run_claims(desk: Desk, engineers: tuple[EngineerInfo, ...]) -> list[str | None]:
    """Claims on the 8th, late on the 10th and just after midnight, in Seoul."""
    desk.ingestor = Ingestor(desk.store, replace(CTX, engineers=engineers), desk.clock, SecureRng())
    for number, at in enumerate((kst(2027, 1, 8, 10), kst(2027, 1, 10, 23, 59), kst(2027, 1, 11))):
        desk.clock.at = at
        desk.mail(claim(subject=f"Claim {number}", body=f"Order {number} is late."))
    return owners(desk)


@pytest.fixture
def desk(lane_engine: Engine) -> Desk:
    return Desk(lane_engine, FrozenClock(kst(2027, 1, 8, 10)))


def test_away_until_in_the_toml_keeps_an_engineer_out_until_the_day_ends(desk: Desk) -> None:
    found = run_claims(desk, (replace(ALICE, away_until=BACK), BOB))
    assert found == [BOB.email, BOB.email, ALICE.email]


def test_away_until_set_in_the_workspace_does_the_same(desk: Desk) -> None:
    with desk.store.write() as writer:
        writer.set_availability(ALICE.email, Availability(True, BACK), BOB.email)
    assert run_claims(desk, CTX.engineers) == [BOB.email, BOB.email, ALICE.email]


def test_their_tickets_with_a_running_promise_are_at_risk_until_they_are_back(
    desk: Desk,
) -> None:
    desk.mail(claim())
    desk.mail(claim(subject="Second", body="Another problem", sender="lee@acme.co.kr"))
    first_owner = owners(desk)[0]
    assert first_owner is not None
    engineers = tuple(
        replace(e, away_until=BACK) if e.email == first_owner else e for e in CTX.engineers
    )
    with desk.engine.connect() as connection:
        risky = away_owner_tickets(connection, engineers, kst(2027, 1, 9))
        assert [row.owner for row in risky] == [first_owner] and risky[0].owner_away
        assert away_owner_tickets(connection, engineers, kst(2027, 1, 11)) == ()


def test_away_until_is_read_as_a_date_in_the_service_timezone(tmp_path: Path) -> None:
    ws = write_config(tmp_path)
    text = ws.config.read_text(encoding="utf-8")
    ws.config.write_text(
        text.replace('name = "Alice"\n', 'name = "Alice"\naway_until = "2027-01-10"\n'),
        encoding="utf-8",
    )
    config = load_config(ws.config)
    alice = config.engineers[0]
    assert alice.away_until == back_at(date(2027, 1, 10), config.service.timezone)
    ws.config.write_text(
        text.replace('name = "Alice"\n', 'name = "Alice"\naway_until = "next week"\n'),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as raised:
        load_config(ws.config)
    assert any(p.startswith("engineers[0].away_until") for p in raised.value.problems)
