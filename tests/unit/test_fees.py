"""Support fees: which tickets are charged, their minutes, the amounts in each currency,
the month's bounds, the ``#billable`` command and the ``[fees]`` configuration."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.unit.test_config import EXAMPLE, problems
from ticketd.daemon.config import load_config
from ticketd.routing.commands import HELP_TEXT, parse_commands
from ticketd.routing.currencies import money
from ticketd.routing.fee_format import duration, fee_summary, fees_csv, fees_json
from ticketd.routing.fees import (
    CustomerRate,
    FeePolicy,
    FeeTicket,
    is_billable,
    month_bounds,
    month_fees,
    ticket_fee,
)
from ticketd.routing.outcome_words import reason_words

ACME = CustomerRate("acme.co.kr", Decimal(50000), "KRW", "ACME")
US = CustomerRate("us-client.com", Decimal("99.99"), "USD", "US Client")
POLICY = FeePolicy(
    default_rate=Decimal(30000),
    minimum_minutes=30,
    increment_minutes=15,
    free_types=("bug",),
    free_codes=("장애",),
    customers=(ACME, US),
)


def fee(requester: str, minutes: int, **given: object) -> tuple[int, Decimal, str]:
    found = ticket_fee(POLICY, FeeTicket(requester, minutes, **given))  # type: ignore[arg-type]
    return found.billable_minutes, found.amount, found.currency


def test_time_is_rounded_up_to_the_increment_with_a_minimum_per_ticket() -> None:
    assert fee("kim@acme.co.kr", 0) == (0, Decimal(0), "KRW")
    assert fee("kim@acme.co.kr", 5) == (30, Decimal(25000), "KRW")
    assert fee("kim@acme.co.kr", 31) == (45, Decimal(37500), "KRW")
    assert fee("kim@acme.co.kr", 60) == (60, Decimal(50000), "KRW")
    assert fee("kim@acme.co.kr", 61) == (75, Decimal(62500), "KRW")


def test_amounts_round_half_up_to_the_currencys_minor_unit() -> None:
    # 99.99 USD an hour for 45 minutes is 74.9925: 74.99; for 30 minutes 49.995: 50.00.
    assert fee("ann@us-client.com", 45) == (45, Decimal("74.99"), "USD")
    assert fee("ann@us-client.com", 30) == (30, Decimal("50.00"), "USD")
    odd = FeePolicy(default_rate=Decimal(1001))
    # 1001 KRW an hour for 30 minutes is 500.5 won: 501 (no decimals in KRW).
    assert ticket_fee(odd, FeeTicket("a@b.kr", 30)).amount == Decimal(501)
    assert ticket_fee(odd, FeeTicket("a@b.kr", 1)).amount == Decimal(17)  # 16.68…


def test_a_listed_domain_covers_its_subdomains_and_webmail_is_per_address() -> None:
    assert ticket_fee(POLICY, FeeTicket("lee@seoul.acme.co.kr", 60)).customer == "acme.co.kr"
    assert ticket_fee(POLICY, FeeTicket("lee@notacme.co.kr", 60)).customer == "notacme.co.kr"
    assert ticket_fee(POLICY, FeeTicket("Park@Naver.com", 60)).customer == "park@naver.com"
    assert fee("park@naver.com", 60) == (60, Decimal(30000), "KRW")


def test_billable_unless_a_free_type_or_code_and_the_command_wins() -> None:
    assert is_billable(POLICY, FeeTicket("a@b.kr", 60, type="question"))
    assert not is_billable(POLICY, FeeTicket("a@b.kr", 60, type="bug"))
    assert not is_billable(POLICY, FeeTicket("a@b.kr", 60, code="장애/서버"))
    assert is_billable(POLICY, FeeTicket("a@b.kr", 60, code="장애물"))
    assert not is_billable(POLICY, FeeTicket("a@b.kr", 60, type="question", billable=False))
    assert is_billable(POLICY, FeeTicket("a@b.kr", 60, code="장애/서버", billable=True))
    assert fee("kim@acme.co.kr", 60, type="bug") == (0, Decimal(0), "KRW")
    assert fee("kim@acme.co.kr", 60, type="bug", billable=True) == (60, Decimal(50000), "KRW")


def test_the_month_per_customer_with_its_own_rate_and_currency() -> None:
    rows = month_fees(
        POLICY,
        [
            (FeeTicket("kim@acme.co.kr", 50), 2),  # 2 × 60 billable minutes
            (FeeTicket("lee@acme.co.kr", 10, type="bug"), 1),  # free
            (FeeTicket("ann@us-client.com", 100), 1),  # 105 minutes at 99.99 USD
            (FeeTicket("other.kr", 20), 3),  # 3 × 30 at the default rate
        ],
    )
    assert fees_json(rows) == [
        {
            "customer": "acme.co.kr",
            "name": "ACME",
            "tickets": 3,
            "minutes": 110,
            "billable_minutes": 120,
            "rate": 50000,
            "amount": 100000,
            "currency": "KRW",
        },
        {
            "customer": "other.kr",
            "name": "",
            "tickets": 3,
            "minutes": 60,
            "billable_minutes": 90,
            "rate": 30000,
            "amount": 45000,
            "currency": "KRW",
        },
        {
            "customer": "us-client.com",
            "name": "US Client",
            "tickets": 1,
            "minutes": 100,
            "billable_minutes": 105,
            "rate": 99.99,
            "amount": 174.98,  # 174.9825
            "currency": "USD",
        },
    ]
    lines = fees_csv(rows).split("\r\n")
    assert lines[0] == "\ufeffcustomer,name,tickets,minutes,billable_minutes,rate,amount,currency"
    assert lines[1] == "acme.co.kr,ACME,3,110,120,50000,100000,KRW"
    assert lines[3] == "us-client.com,US Client,1,100,105,99.99,174.98,USD"


def test_a_month_is_bounded_in_the_service_timezone() -> None:
    bounds = month_bounds("2026-11", "Asia/Seoul")
    assert bounds is not None
    assert [b.isoformat() for b in bounds] == [
        "2026-10-31T15:00:00+00:00",
        "2026-11-30T15:00:00+00:00",
    ]
    assert month_bounds("2026-12", "UTC")[1].isoformat() == "2027-01-01T00:00:00+00:00"  # type: ignore[index]
    for bad in ("2026-13", "2026-1", "26-11", "november", "2026-11-01"):
        assert month_bounds(bad, "UTC") is None


def test_money_and_time_read_naturally_in_korean_and_english() -> None:
    assert money(Decimal(45000), "KRW", "ko") == "45,000원"
    assert money(Decimal(45000), "KRW", "en") == "KRW 45,000"
    assert money(Decimal("1234.5"), "USD", "en") == "USD 1,234.50"
    assert money(Decimal("1234.5"), "USD", "ko") == "1,234.50달러"
    assert money(Decimal("3.1"), "KWD", "en") == "KWD 3.100"
    assert duration(90, "ko") == "1시간 30분" and duration(60, "ko") == "1시간"
    assert duration(45, "en") == "45 min" and duration(75, "en") == "1 h 15 min"


def test_the_resolution_summary_only_when_asked_for_and_charged() -> None:
    on = FeePolicy(default_rate=Decimal(30000), increment_minutes=15, notify_customer=True)
    assert fee_summary(on, FeeTicket("a@b.kr", 80), "ko") == {
        "worked": "1시간 20분",
        "billable": "1시간 30분",
        "rate": "30,000원",
        "amount": "45,000원",
    }
    assert fee_summary(on, FeeTicket("a@b.kr", 80, billable=False), "ko") is None
    assert fee_summary(on, FeeTicket("a@b.kr", 0), "ko") is None
    assert fee_summary(FeePolicy(default_rate=Decimal(1)), FeeTicket("a@b.kr", 80), "en") is None
    assert fee_summary(on, None, "en") is None


def test_billable_command_takes_yes_or_no() -> None:
    block = parse_commands("#billable YES\n#billable no\n#billable maybe\nthanks")
    assert [(c.name.value, c.argument) for c in block.commands] == [
        ("billable", "yes"),
        ("billable", "no"),
    ]
    assert [reason_words(r.reason, "en") for r in block.refused] == [
        "unknown billable 'maybe' (yes, no)"
    ]
    assert "#billable yes|no" in HELP_TEXT


def write(tmp_path: Path, fees: str) -> Path:
    """The example configuration with ``fees`` for its ``[fees]`` section."""
    text = EXAMPLE.read_text(encoding="utf-8")
    start, end = text.index("\n[fees]"), text.index("\n[ingest]")
    path = tmp_path / "ticketd.toml"
    path.write_text(text[:start] + fees + text[end:], encoding="utf-8")
    return path


FEES = """
[fees]
currency = "usd"
default_rate = 27.5
minimum_minutes = 15
increment_minutes = 6
free_types = ["bug"]
free_codes = ["장애/"]
notify_customer = true

[[fees.customers]]
domain = "acme.co.kr"
rate = 45000
currency = "KRW"
name = "ACME"

[[fees.customers]]
domain = "@beta.com"
rate = 0
"""


def test_the_fees_section_is_read_exactly(tmp_path: Path) -> None:
    fees = load_config(write(tmp_path, FEES), {}).fees
    assert fees == FeePolicy(
        currency="USD",
        default_rate=Decimal("27.5"),
        minimum_minutes=15,
        increment_minutes=6,
        free_types=("bug",),
        free_codes=("장애",),
        notify_customer=True,
        customers=(
            CustomerRate("acme.co.kr", Decimal(45000), "KRW", "ACME"),
            CustomerRate("beta.com", Decimal(0), "USD", ""),
        ),
    )


def test_without_a_fees_section_nothing_is_charged(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, ""), {}).fees == FeePolicy()
    assert load_config(EXAMPLE, {}).fees == FeePolicy()


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ('currency = "usd"', 'fees.currency: not an ISO 4217 currency code: "WON"'),
        ("default_rate = 27.5", "fees.default_rate: must be at least 0"),
        ("increment_minutes = 6", "fees.increment_minutes: must be between 1 and 1440"),
        ('free_types = ["bug"]', "fees.free_types: unknown type 'crash' (bug, feature, question)"),
        ('name = "ACME"', "fees.customers[0].nmae: unknown key (did you mean `name`?)"),
        ('domain = "@beta.com"', "fees.customers[1].domain: acme.co.kr is listed twice"),
        ("rate = 45000", "fees.customers[0].rate: must be at least 0"),
        ("notify_customer = true", "fees.notify_customer: expected true or false, got 'yes'"),
    ],
)
def test_every_fees_problem_names_its_key(tmp_path: Path, change: str, problem: str) -> None:
    broken = {
        'currency = "usd"': 'currency = "WON"',
        "default_rate = 27.5": "default_rate = -1",
        "increment_minutes = 6": "increment_minutes = 0",
        'free_types = ["bug"]': 'free_types = ["crash"]',
        'name = "ACME"': 'nmae = "ACME"',
        'domain = "@beta.com"': 'domain = "ACME.co.kr"',
        "rate = 45000": "rate = -45000",
        "notify_customer = true": 'notify_customer = "yes"',
    }[change]
    found = problems(write(tmp_path, FEES.replace(change, broken, 1)))
    assert found == [problem.replace('"WON"', "'WON'")]
