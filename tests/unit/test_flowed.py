"""``format=flowed`` (RFC 3676) text reads as its writer typed it; other text is untouched."""

from __future__ import annotations

from tests.builders import claim
from ticketd.mail.flowed import unflow
from ticketd.mail.parse import parse


def test_soft_breaks_join_and_hard_breaks_stay() -> None:
    text = "The admin page \r\nanswers 500.\r\nSince yesterday.\r\n"
    assert unflow(text, delsp=False) == "The admin page answers 500.\nSince yesterday.\n"


def test_delsp_drops_the_space_a_writer_added_inside_a_word() -> None:
    assert unflow("다시 설 \n치해도 같습니다.", delsp=True) == "다시 설치해도 같습니다."
    assert unflow("다시 설 \n치해도 같습니다.", delsp=False) == "다시 설 치해도 같습니다."


def test_quotes_flow_within_their_depth_only() -> None:
    text = ">> deep \n>> quote\n> shallow \n> quote\nnew text \nhere"
    assert unflow(text, delsp=False) == ">> deep quote\n> shallow quote\nnew text here"
    assert unflow("> ends flowed \nnot quoted", delsp=False) == "> ends flowed \nnot quoted"


def test_stuffing_is_undone_and_the_signature_line_does_not_flow() -> None:
    assert unflow(" From the logs\n>not a quote", delsp=False) == "From the logs\n> not a quote"
    assert unflow("Thanks\n-- \nKim", delsp=False) == "Thanks\n-- \nKim"


def test_parse_unflows_only_text_labelled_flowed() -> None:
    body = "A long line that was \nbroken by the mailer."
    flowed = claim(body=body).replace(b"charset=", b"format=flowed; charset=")
    assert parse(flowed).text == "A long line that was broken by the mailer."
    assert parse(claim(body=body)).text == body
