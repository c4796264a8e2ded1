"""The month's support fees per customer, read in one aggregate
query: alike resolved tickets are counted together, and ``routing.fees`` prices them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, Engine, Label, case, func, select

from ticketd.routing.fees import CustomerFees, FeePolicy, FeeTicket, month_fees
from ticketd.routing.model import Status
from ticketd.routing.workspace import WEBMAIL_DOMAINS
from ticketd.store.schema import codes, tickets

BILLED_STATUSES = (Status.RESOLVED.value, Status.CLOSED.value)
"""A ticket is billed in the month it was (last) resolved, if it is still resolved or
closed; a merged duplicate is not billed."""


def _requester() -> Label[str]:
    """The requester as billing groups it: the domain, or for webmail the address."""
    return case(
        (tickets.c.requester_domain.in_(sorted(WEBMAIL_DOMAINS)), tickets.c.requester_email),
        else_=tickets.c.requester_domain,
    ).label("requester")


def month_groups(
    connection: Connection, start: datetime, end: datetime
) -> list[tuple[FeeTicket, int]]:
    """Tickets resolved in ``[start, end)``, grouped by what decides their fee."""
    requester = _requester()
    query = (
        select(
            requester,
            tickets.c.minutes_worked,
            tickets.c.type,
            codes.c.path,
            tickets.c.billable,
            func.count().label("n"),
        )
        .select_from(tickets.outerjoin(codes, codes.c.id == tickets.c.code_id))
        .where(
            tickets.c.resolved_at >= start,
            tickets.c.resolved_at < end,
            tickets.c.status.in_(BILLED_STATUSES),
            tickets.c.merged_into.is_(None),
        )
        .group_by(
            requester, tickets.c.minutes_worked, tickets.c.type, codes.c.path, tickets.c.billable
        )
    )
    return [
        (FeeTicket(r.requester, r.minutes_worked, r.type, r.path, r.billable), r.n)
        for r in connection.execute(query)
    ]


def fee_ticket(connection: Connection, ticket_id: int) -> FeeTicket:
    """What decides one ticket's fee, as it stands."""
    row = connection.execute(
        select(
            tickets.c.requester_email,
            tickets.c.minutes_worked,
            tickets.c.type,
            codes.c.path,
            tickets.c.billable,
        )
        .select_from(tickets.outerjoin(codes, codes.c.id == tickets.c.code_id))
        .where(tickets.c.id == ticket_id)
    ).one()
    return FeeTicket(*row)


class SqlFees:
    """The fees figures for the CLI and the dashboard."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def month(self, policy: FeePolicy, start: datetime, end: datetime) -> Sequence[CustomerFees]:
        """Each customer's fees for the tickets resolved in ``[start, end)``."""
        with self.engine.connect() as connection:
            return month_fees(policy, month_groups(connection, start, end))
