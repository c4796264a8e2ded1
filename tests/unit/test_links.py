"""Signed status and reply tokens: only the issued token verifies; hostile input never raises."""

from hypothesis import given
from hypothesis import strategies as st

from ticketd.routing.links import (
    attachment_signature,
    form_token,
    reply_token,
    status_token,
    verify_attachment_signature,
    verify_form_token,
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
    assert not verify_attachment_signature(SECRET, "SUP-0003-FNNZ", 1, token)
    assert not verify_form_token(SECRET, "a" * 26, token)


def test_an_attachment_signature_names_one_ticket_and_one_attachment() -> None:
    signature = attachment_signature(SECRET, "SUP-0003-FNNZ", 7)
    assert verify_attachment_signature(SECRET, "SUP-0003-FNNZ", 7, signature)
    assert not verify_attachment_signature(SECRET, "SUP-0003-FNNZ", 8, signature)
    assert not verify_attachment_signature(SECRET, "SUP-0003-FNNY", 7, signature)
    assert signature != status_token(SECRET, "SUP-0003-FNNZ")


def test_a_form_token_belongs_to_its_cookie_nonce() -> None:
    token = form_token(SECRET, "a" * 26)
    assert verify_form_token(SECRET, "a" * 26, token)
    assert not verify_form_token(SECRET, "b" * 26, token)
    assert not verify_form_token("another secret", "a" * 26, token)


def test_a_reply_token_is_bound_to_its_engineer_and_expires() -> None:
    token = reply_token(SECRET, "bob@example.com", "SUP-0003-FNNZ", expires=20_000)
    assert verify_reply_token(SECRET, "BOB@example.com", "SUP-0003-FNNZ", token, today=20_000)
    assert not verify_reply_token(SECRET, "eve@example.com", "SUP-0003-FNNZ", token, today=1)
    assert not verify_reply_token(SECRET, "bob@example.com", "SUP-0003-FNNZ", token, today=20_001)
