"""Signed status and reply tokens: only the issued token verifies; hostile input never raises."""

from hypothesis import given
from hypothesis import strategies as st

from ticketd.routing.links import (
    reply_token,
    status_token,
    verify_reply_token,
    verify_status_token,
)

SECRET = "0123456789abcdef"


def test_the_issued_status_token_verifies_whatever_its_case_and_padding() -> None:
    token = status_token(SECRET, "SUP-0003-FNNZ")
    assert verify_status_token(SECRET, "SUP-0003-FNNZ", f" {token.upper()} ")


def test_a_status_token_belongs_to_one_ticket_and_one_secret() -> None:
    token = status_token(SECRET, "SUP-0003-FNNZ")
    assert not verify_status_token(SECRET, "SUP-0003-FNNY", token)
    assert not verify_status_token("another secret", "SUP-0003-FNNZ", token)


@given(st.text())
def test_any_text_is_refused_without_raising(token: str) -> None:
    assert not verify_status_token(SECRET, "SUP-0003-FNNZ", token)
    assert not verify_reply_token(SECRET, "bob@example.com", "SUP-0003-FNNZ", token, today=1)


def test_a_reply_token_is_bound_to_its_engineer_and_expires() -> None:
    token = reply_token(SECRET, "bob@example.com", "SUP-0003-FNNZ", expires=20_000)
    assert verify_reply_token(SECRET, "BOB@example.com", "SUP-0003-FNNZ", token, today=20_000)
    assert not verify_reply_token(SECRET, "eve@example.com", "SUP-0003-FNNZ", token, today=1)
    assert not verify_reply_token(SECRET, "bob@example.com", "SUP-0003-FNNZ", token, today=20_001)
