"""Tracking numbers: format, check symbol, typo tolerance (property tests)."""

from __future__ import annotations

import re
import secrets

from hypothesis import given, settings
from hypothesis import strategies as st

from ticketd.routing.tracking import ALPHABET, check_symbol, find_in_subject, generate, parse

FORMAT = re.compile(r"^SUP-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")
random_bytes = st.binary(min_size=5, max_size=5)


@given(random_bytes)
def test_generated_numbers_have_the_contract_format_and_parse_back(data: bytes) -> None:
    number = generate("SUP", lambda n: data[:n])
    assert FORMAT.match(number)
    assert parse(number, "SUP") == number


def test_numbers_come_from_the_rng_and_are_not_sequential() -> None:
    numbers = {generate("SUP", secrets.token_bytes) for _ in range(500)}
    assert len(numbers) == 500


@given(random_bytes, st.integers(0, 7), st.sampled_from(ALPHABET))
def test_every_single_substitution_is_caught(data: bytes, position: int, symbol: str) -> None:
    number = generate("SUP", lambda n: data[:n])
    code = number.replace("SUP-", "").replace("-", "")
    if code[position] == symbol:
        return
    typo = code[:position] + symbol + code[position + 1 :]
    assert parse("SUP" + typo, "SUP") is None


def test_most_adjacent_swaps_are_caught() -> None:
    caught = total = 0
    for _ in range(2000):
        code = generate("SUP", secrets.token_bytes)[4:].replace("-", "")
        for i in range(7):
            if code[i] == code[i + 1]:
                continue
            swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
            total += 1
            caught += parse("SUP" + swapped, "SUP") is None
    assert caught / total > 0.95


@given(random_bytes)
def test_lookup_accepts_lowercase_missing_dashes_and_o_i_l(data: bytes) -> None:
    number = generate("SUP", lambda n: data[:n])
    typed = number.lower().replace("-", "").replace("0", "o").replace("1", "l")
    assert parse(typed, "SUP") == number
    assert parse(number.replace("1", "I"), "SUP") == number


def test_wrong_prefix_and_garbage_are_rejected() -> None:
    number = generate("SUP", secrets.token_bytes)
    assert parse(number, "ABC") is None
    for garbage in ("", "SUP", "SUP-1234", "SUP-UUUU-UUUU", "<script>", "S-0000-0000"):
        assert parse(garbage, "SUP") is None


def test_check_symbol_is_luhn_mod_32() -> None:
    assert check_symbol("0000000") == "0"
    assert check_symbol("0000001") == ALPHABET[30]


@settings(max_examples=50)
@given(random_bytes, st.text(max_size=30))
def test_find_in_subject(data: bytes, noise: str) -> None:
    number = generate("SUP", lambda n: data[:n])
    assert find_in_subject(f"Re: [{number}] {noise}", "SUP") == number
    assert find_in_subject(f"RE: 회신 {number.lower()} 문의", "SUP") == number
    assert find_in_subject("Re: order 1234-5678", "SUP") is None
