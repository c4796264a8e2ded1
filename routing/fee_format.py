"""The month's fees as the JSON and CSV that ``ticketd fees`` prints
and the dashboard can offer, so both give the same figures."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from ticketd.routing.currencies import decimals, money
from ticketd.routing.fees import CustomerFees, FeePolicy, FeeTicket, ticket_fee
from ticketd.routing.report_format import spreadsheet_csv

CSV_COLUMNS = (
    "customer",
    "name",
    "tickets",
    "minutes",
    "billable_minutes",
    "rate",
    "amount",
    "currency",
)


def number(value: Decimal, places: int | None = None) -> int | float:
    """A JSON number: whole amounts as integers, others to ``places`` decimals."""
    if places is not None:
        value = value.quantize(Decimal(1).scaleb(-places))
    return int(value) if value == value.to_integral_value() and not places else float(value)


def fees_json(rows: Sequence[CustomerFees]) -> list[dict[str, Any]]:
    """One object per customer: the contract's keys, plus ``name``."""
    return [
        {
            "customer": row.customer,
            "name": row.name,
            "tickets": row.tickets,
            "minutes": row.minutes,
            "billable_minutes": row.billable_minutes,
            "rate": number(row.rate),
            "amount": number(row.amount, decimals(row.currency)),
            "currency": row.currency,
        }
        for row in rows
    ]


def fees_csv(rows: Sequence[CustomerFees]) -> str:
    """One row per customer with a header, amounts with the currency's decimals, and a
    byte-order mark."""
    return spreadsheet_csv(
        [
            CSV_COLUMNS,
            *(
                (
                    row.customer,
                    row.name,
                    row.tickets,
                    row.minutes,
                    row.billable_minutes,
                    f"{row.rate.normalize():f}",
                    f"{row.amount:.{decimals(row.currency)}f}",
                    row.currency,
                )
                for row in rows
            ),
        ]
    )


def duration(minutes: int, language: str) -> str:
    """``1시간 30분`` or ``1 h 30 min``."""
    hours, rest = divmod(minutes, 60)
    if language == "ko":
        parts = [f"{hours}시간" if hours else "", f"{rest}분" if rest or not hours else ""]
    else:
        parts = [f"{hours} h" if hours else "", f"{rest} min" if rest or not hours else ""]
    return " ".join(part for part in parts if part)


def fee_summary(
    policy: FeePolicy, ticket: FeeTicket | None, language: str
) -> dict[str, str] | None:
    """What a resolution mail says of the ticket's fee, when ``notify_customer`` is on and
    the ticket is charged something: time worked, billable time, rate, amount."""
    if ticket is None or not policy.notify_customer:
        return None
    fee = ticket_fee(policy, ticket)
    if not fee.billable or fee.amount <= 0:
        return None
    return {
        "worked": duration(fee.minutes, language),
        "billable": duration(fee.billable_minutes, language),
        "rate": money(fee.rate, fee.currency, language),
        "amount": money(fee.amount, fee.currency, language),
    }
