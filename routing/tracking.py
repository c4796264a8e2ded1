"""Tracking numbers: ``PREFIX-XXXX-XXXX``, Crockford base32 with a Luhn mod 32 check symbol.

Generated from a cryptographic byte source passed in (never sequential); parsed
typo-tolerantly (lowercase, missing dashes, O/I/L for 0/1/1).
"""

from __future__ import annotations

import re
from collections.abc import Callable

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
N = len(ALPHABET)
BODY_LENGTH = 7
_VALUE = {symbol: value for value, symbol in enumerate(ALPHABET)}
_TYPOS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_PREFIX = re.compile(r"^[A-Z]{2,5}$")
_CANDIDATE = re.compile(
    r"(?<![A-Za-z0-9])([A-Za-z]{2,5})[\s-]?([0-9A-Za-z]{4})[\s-]?([0-9A-Za-z]{4})(?![A-Za-z0-9])"
)


def check_symbol(body: str) -> str:
    """The Luhn mod 32 check symbol over the given symbols."""
    total = 0
    factor = 2
    for symbol in reversed(body):
        addend = factor * _VALUE[symbol]
        total += addend // N + addend % N
        factor = 1 if factor == 2 else 2
    return ALPHABET[(N - total % N) % N]


def generate(prefix: str, token_bytes: Callable[[int], bytes]) -> str:
    """A fresh tracking number from 35 random bits (5 bits per symbol, uniform)."""
    bits = int.from_bytes(token_bytes(5), "big") >> 5
    body = "".join(ALPHABET[(bits >> (5 * i)) & 31] for i in range(BODY_LENGTH))
    code = body + check_symbol(body)
    return f"{prefix}-{code[:4]}-{code[4:]}"


def _shaped(text: str, prefix: str | None) -> tuple[str, str] | None:
    """Prefix and the eight symbols (typos read) of text shaped like a number, checked
    or not."""
    cleaned = re.sub(r"[\s-]", "", text.strip()).upper()
    match = re.fullmatch(r"([A-Z]{2,5})([0-9A-Z]{8})", cleaned)
    if not match:
        return None
    found_prefix, code = match.groups()
    if prefix is not None and found_prefix != prefix.upper():
        return None
    return found_prefix, code.translate(_TYPOS)


def parse(text: str, prefix: str | None = None) -> str | None:
    """The canonical number typed in ``text``, or None when it is not a valid one."""
    shaped = _shaped(text, prefix)
    if shaped is None:
        return None
    found_prefix, code = shaped
    if not _PREFIX.match(found_prefix) or any(c not in _VALUE for c in code):
        return None
    if check_symbol(code[:BODY_LENGTH]) != code[BODY_LENGTH]:
        return None
    return f"{found_prefix}-{code[:4]}-{code[4:]}"


def mistyped(text: str, prefix: str) -> bool:
    """Whether ``text`` is shaped like one of our numbers but cannot be one (its check
    symbol fails, or it has a symbol no number has): a typing mistake, not an unknown
    number."""
    return _shaped(text, prefix) is not None and parse(text, prefix) is None


def find_in_subject(subject: str, prefix: str) -> str | None:
    """A valid tracking number with our prefix in a Subject, bracketed ones first."""
    bracketed = re.findall(r"\[([^\[\]]{10,20})\]", subject)
    for candidate in bracketed:
        number = parse(candidate, prefix)
        if number:
            return number
    for match in _CANDIDATE.finditer(subject):
        number = parse("".join(match.groups()), prefix)
        if number:
            return number
    return None
