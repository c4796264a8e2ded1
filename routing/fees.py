"""Support fees: which tickets are charged, for how many minutes, at
which rate, and the month's total per customer. Pure; amounts are exact ``Decimal``s
rounded once to the currency's minor unit, halves up.

A ticket is billable when ``#billable yes|no`` says so; otherwise unless its type is one
of ``free_types`` or its code lies under one of ``free_codes``. Its billable minutes are
its time worked rounded up to ``increment_minutes``, and at least ``minimum_minutes``
when any time was logged (a ticket with no time logged costs nothing). A customer is the
requester's domain, or the ``[[fees.customers]]`` domain it lies under (subdomains
included); a webmail requester (``gmail.com``, ``naver.com``…) is a customer of their own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from ticketd.routing.currencies import rounded
from ticketd.routing.workspace import WEBMAIL_DOMAINS

MINUTES_PER_HOUR = Decimal(60)
_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


@dataclass(frozen=True, slots=True)
class CustomerRate:
    """One ``[[fees.customers]]`` entry."""

    domain: str
    rate: Decimal
    currency: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class FeePolicy:
    """The ``[fees]`` section."""

    currency: str = "KRW"
    default_rate: Decimal = Decimal(0)
    minimum_minutes: int = 0
    increment_minutes: int = 1
    free_types: tuple[str, ...] = ()
    free_codes: tuple[str, ...] = ()
    notify_customer: bool = False
    customers: tuple[CustomerRate, ...] = ()


@dataclass(frozen=True, slots=True)
class FeeTicket:
    """What decides one ticket's fee: who asked (the address, or just its domain), its
    time, type, code and ``#billable``."""

    requester: str
    minutes: int
    type: str | None = None
    code: str | None = None
    billable: bool | None = None


@dataclass(frozen=True, slots=True)
class TicketFee:
    """One ticket's fee."""

    customer: str
    billable: bool
    minutes: int
    billable_minutes: int
    rate: Decimal
    amount: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class CustomerFees:
    """One customer's month: ``amount`` is ``rate`` × the billable hours, rounded once."""

    customer: str
    name: str
    tickets: int
    minutes: int
    billable_minutes: int
    rate: Decimal
    amount: Decimal
    currency: str


def customer_key(requester: str) -> str:
    """The domain a requester is billed under; a webmail address is its own customer."""
    address = requester.strip().lower()
    domain = address.rpartition("@")[2]
    return address if domain in WEBMAIL_DOMAINS else domain


def customer_rate(policy: FeePolicy, customer: str) -> CustomerRate | None:
    """The ``[[fees.customers]]`` entry a customer domain lies under (the longest one)."""
    found = [
        entry
        for entry in policy.customers
        if customer == entry.domain or customer.endswith("." + entry.domain)
    ]
    return max(found, key=lambda entry: len(entry.domain), default=None)


def is_billable(policy: FeePolicy, ticket: FeeTicket) -> bool:
    """``#billable`` wins; else not a free type and not under a free code."""
    if ticket.billable is not None:
        return ticket.billable
    if ticket.type is not None and ticket.type in policy.free_types:
        return False
    code = ticket.code or ""
    return not any(code == free or code.startswith(free + "/") for free in policy.free_codes)


def billable_minutes(policy: FeePolicy, minutes: int) -> int:
    """``minutes`` rounded up to the increment, at least the minimum (0 stays 0)."""
    if minutes <= 0:
        return 0
    step = max(policy.increment_minutes, 1)
    return max(-(-minutes // step) * step, policy.minimum_minutes)


def amount(rate: Decimal, minutes: int, currency: str) -> Decimal:
    """``rate`` per hour × ``minutes``, exactly, then to the currency's minor unit."""
    return rounded(rate * minutes / MINUTES_PER_HOUR, currency)


def ticket_fee(policy: FeePolicy, ticket: FeeTicket) -> TicketFee:
    """One ticket's fee at its customer's rate."""
    customer = customer_key(ticket.requester)
    entry = customer_rate(policy, customer)
    rate = entry.rate if entry else policy.default_rate
    currency = entry.currency if entry else policy.currency
    billable = is_billable(policy, ticket)
    charged = billable_minutes(policy, ticket.minutes) if billable else 0
    return TicketFee(
        entry.domain if entry else customer,
        billable,
        ticket.minutes,
        charged,
        rate,
        amount(rate, charged, currency),
        currency,
    )


def month_fees(
    policy: FeePolicy, groups: Iterable[tuple[FeeTicket, int]]
) -> tuple[CustomerFees, ...]:
    """Each customer's total, sorted by customer, over ``groups``: alike tickets and how
    many there are of each."""
    totals: dict[str, CustomerFees] = {}
    for ticket, count in groups:
        fee = ticket_fee(policy, ticket)
        entry = customer_rate(policy, fee.customer)
        before = totals.get(fee.customer) or CustomerFees(
            fee.customer, entry.name if entry else "", 0, 0, 0, fee.rate, Decimal(0), fee.currency
        )
        totals[fee.customer] = replace(
            before,
            tickets=before.tickets + count,
            minutes=before.minutes + fee.minutes * count,
            billable_minutes=before.billable_minutes + fee.billable_minutes * count,
        )
    return tuple(
        replace(total, amount=amount(total.rate, total.billable_minutes, total.currency))
        for _, total in sorted(totals.items())
    )


def month_bounds(month: str, timezone: str) -> tuple[datetime, datetime] | None:
    """The UTC start and end of ``YYYY-MM`` in ``timezone`` (None: not such a month)."""
    match = _MONTH.fullmatch(month.strip())
    if match is None:
        return None
    year, number = int(match.group(1)), int(match.group(2))
    zone = ZoneInfo(timezone)
    start = datetime(year, number, 1, tzinfo=zone)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)
