"""Customer mail reads as one person wrote it: one mail per engineer action, the signature
as "name · service", the tracking number set off and no template wrapping in the HTML."""

from __future__ import annotations

from email.message import EmailMessage

from tests.e2e.support import text_of
from tests.e2e.test_satisfaction import ALICE, Desk, desk
from ticketd.daemon.actions import StoreActions
from ticketd.routing.actions import ActionRequest

__all__ = ["desk"]


def html_of(mail: EmailMessage) -> str:
    body = mail.get_body(preferencelist=("html",))
    assert body is not None
    return str(body.get_content())


def to_kim(desk: Desk) -> list[EmailMessage]:
    return [m for m in desk.ws.sent_mail() if "kim@acme.co.kr" in str(m["To"])]


def reply_and_resolve(desk: Desk) -> list[EmailMessage]:
    """Alice answers and resolves in one action; the mail the customer got for it (besides
    the acknowledgement, flushed in the same run)."""
    with desk.components.store.write() as writer:
        ref = writer.lookup.ticket_to_act_on(desk.tracking)
        assert ref is not None
        version = writer.lookup.version(ref.id)

    result = StoreActions(desk.components).act(
        ALICE, desk.tracking, version, ActionRequest(("#resolve",), "비밀번호를 초기화했습니다.")
    )
    assert not result.refused, result
    code, _, err = desk.ws.cli(desk.capsys, "run", "--once")
    assert code == 0, err
    return [m for m in to_kim(desk) if "문의가 접수되었습니다" not in str(m["Subject"])]


def test_a_reply_that_resolves_is_one_mail_with_the_reply_and_the_new_status(desk: Desk) -> None:
    [mail] = reply_and_resolve(desk)
    text = text_of(mail)
    assert "비밀번호를 초기화했습니다." in text
    assert "'해결됨'으로 바뀌었습니다" in text
    assert "/rate?" in text and "만족해요" in text
    assert "Alice · Example Support" in text
    assert "Auto-Submitted" not in mail
    shown = desk.ws.cli_json(desk.capsys, "ticket", "show", desk.tracking)
    assert shown["status"] == "resolved"


def test_the_acknowledgement_html_sets_the_number_off_and_drops_template_wrapping(
    desk: Desk,
) -> None:
    reply_and_resolve(desk)
    [ack] = [m for m in to_kim(desk) if "문의가 접수되었습니다" in str(m["Subject"])]
    html = html_of(ack)
    assert f'letter-spacing:0.06em;color:#111827;">{desk.tracking}</p>' in html
    assert "접수되었으며 접수 번호는" in html
    assert "접수되었으며\r\n접수 번호는" in text_of(ack)
    assert f"[{desk.tracking}]{'를' if desk.tracking[-1] not in 'LMNR013678' else '을'}" in (
        text_of(ack)
    )
