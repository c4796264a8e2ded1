"""The managers' digest rendered to a mail (``templates/{ko,en}/digest.txt``): dates and
due times in the service timezone, owners by name, links into the staff workspace."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from zoneinfo import ZoneInfo

from ticketd.mail.compose import compose, make_message_id
from ticketd.mail.message import Address, OutgoingMessage
from ticketd.notifications.notices import NoticeFactory
from ticketd.routing.digest import DIGEST_KIND, Digest, Listing, RatingFact

KO_WEEKDAYS = "월화수목금토일"
COMMENT_CHARS = 500


def digest_mail(
    notices: NoticeFactory, digest: Digest, recipient: Address, language: str, timezone: str
) -> OutgoingMessage:
    """The digest mail to one recipient, in ``language``."""
    zone = ZoneInfo(timezone)
    names = notices.engineer_names
    staff = notices.staff_url

    def owner(email: str | None) -> str:
        return names.get(email, email) if email else ""

    def tickets(listing: Listing) -> dict[str, object]:
        rows = [
            {
                "tracking": t.tracking,
                "subject": _line(t.subject),
                "owner": owner(t.owner),
                "due": _when(t.due.astimezone(zone), language) if t.due else "",
                "url": f"{staff}t/{t.tracking}",
            }
            for t in listing.tickets
        ]
        return {"rows": rows, "count": listing.count, "more": listing.count - len(rows)}

    def rating(r: RatingFact) -> Mapping[str, str]:
        return {
            "tracking": r.tracking,
            "subject": _line(r.subject),
            "owner": owner(r.owner),
            "comment": _line(r.comment)[:COMMENT_CHARS],
            "url": f"{staff}t/{r.tracking}",
        }

    period = digest.period
    values = {
        "service_name": notices.settings.service_name,
        "recipient_name": recipient.name or recipient.email,
        "one_day": period.start == period.end,
        "days": (period.end - period.start).days + 1,
        "start": _day(period.start, language),
        "end": _day(period.end, language),
        "figures": [
            ("new", digest.new.now, digest.new.delta),
            ("resolved", digest.resolved.now, digest.resolved.delta),
            ("duplicates", digest.duplicates.now, digest.duplicates.delta),
        ],
        "open_by_owner": [(owner(email), n) for email, n in digest.open_by_owner],
        "breached": tickets(digest.breached),
        "at_risk": tickets(digest.at_risk),
        "unowned": tickets(digest.unowned),
        "away_due": tickets(digest.away_due),
        "top_codes": list(digest.top_codes),
        "bad_ratings": [rating(r) for r in digest.bad_ratings],
        "dashboard_url": f"{staff}dashboard",
    }
    rendered = notices.renderer.render(DIGEST_KIND, language, values)
    domain = notices.settings.support_address.rpartition("@")[2]
    return compose(
        from_addr=notices.settings.sender,
        to=[recipient],
        subject=rendered.subject,
        text=rendered.text,
        message_id=make_message_id(notices.token_bytes, domain),
        auto_submitted="auto-generated",
        extra_headers={"X-Ticketd-Digest": period.end.isoformat()},
        date=notices.now(),
    )


def _line(text: str) -> str:
    """Hostile text on one line."""
    return " ".join(text.split())


def _day(day: date, language: str) -> str:
    if language == "ko":
        return f"{day.year}년 {day.month}월 {day.day}일({KO_WEEKDAYS[day.weekday()]})"
    return f"{day:%a} {day.day} {day:%b %Y}"


def _when(at: datetime, language: str) -> str:
    if language == "ko":
        return f"{at.month}월 {at.day}일 {at:%H:%M}"
    return f"{at.day} {at:%b %H:%M}"
