"""Addresses from raw header values, safe from display-name tricks. Pure: no I/O.

The RFC 5322 structure (groups, mailboxes, ``<addr-spec>``) is read from the raw value
first; RFC 2047 encoded words are decoded only inside display names (RFC 2047 §5), so a
name, encoded or not, can never change, add or hide an address.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ticketd.mail.charsets import decode_header_value, decode_unencoded
from ticketd.mail.message import Address

MAX_NAME_CHARS = 200
MAX_PHRASE_CHARS = 8000  # raw text read for a name (encoded words are ~12 chars a character)
MAX_REPEATS = 10
"""Occurrences of a one-mailbox header (From, Sender) read; they must all agree."""
MAX_LIST_CHARS = 20_000
"""Raw text of one address header read (some hundreds of addresses); the rest is ignored."""
_SPECIALS = frozenset("<>,:;@.")
_ATOM = re.compile(r'[^\s()<>\[\]:;@\\,."]+')
_ENCODED_WORDS = re.compile(r"(?:=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=)+")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"]{1,64}@[A-Za-z0-9.-]{1,253}$")

_Kind = Literal["atom", "quoted", "comment", "literal", "special"]
_ENCLOSED: dict[str, tuple[_Kind, str]] = {
    '"': ("quoted", '"'),
    "(": ("comment", ")"),
    "[": ("literal", "]"),
}


@dataclass(frozen=True, slots=True)
class _Token:
    kind: _Kind
    text: str
    spaced: bool


@dataclass(frozen=True, slots=True)
class _Entry:
    address: Address | None
    rejected: str = ""
    defect: str = ""


@dataclass(frozen=True, slots=True)
class AddressList:
    """An address header: its usable addresses in order (group members included), how
    many mailboxes and groups it wrote, why each unusable mailbox was skipped, and what
    else was wrong but could be read."""

    addresses: tuple[Address, ...]
    mailboxes: int
    groups: int
    rejected: tuple[str, ...]
    defects: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Mailbox:
    """A header that must name exactly one mailbox (From, Sender): the address, or the
    ``problem`` saying why there is none; ``defects``: what else was wrong, header named."""

    address: Address | None
    problem: str
    defects: tuple[str, ...]


def parse_mailbox(values: Sequence[str], header: str, charset: str | None = None) -> Mailbox:
    """The one mailbox of a header given as all its raw values (one per occurrence); raw
    8-bit names are read as ``charset`` (see ``charsets.header_charset``)."""
    if not values:
        return Mailbox(None, f"no {header} header", ())
    if len(values) > 1:
        each = [parse_mailbox([value], header, charset) for value in values[:MAX_REPEATS]]
        emails = {m.address.email if m.address else None for m in each}
        if None in emails or len(emails) > 1:
            return Mailbox(None, f"{len(values)} {header} headers", ())
        return Mailbox(each[0].address, "", (f"{header} repeated {len(values)} times",))
    found = parse_address_list(values[0], charset)
    problem = ""
    if found.groups:
        problem = f"{header} is a group"
    elif found.mailboxes == 0:
        problem = f"{header} has no address"
    elif found.mailboxes > 1:
        problem = f"{header} has {found.mailboxes} addresses"
    elif not found.addresses:
        problem = f"{header} has no usable address ({found.rejected[0]})"
    defects = tuple(f"{header}: {defect}" for defect in found.defects)
    return Mailbox(None if problem else found.addresses[0], problem, defects)


def parse_address_list(
    raw: str, charset: str | None = None, *, bounded: bool = False
) -> AddressList:
    """Every mailbox of one raw (undecoded) header value, groups flattened; ``bounded``
    (a list header: To, Cc, Reply-To): past ``MAX_LIST_CHARS``, cut at an address boundary,
    the value is ignored."""
    cut: list[str] = []
    if bounded and len(raw) > MAX_LIST_CHARS:
        comma = raw.rfind(",", 0, MAX_LIST_CHARS)
        raw = raw[: comma if comma > 0 else MAX_LIST_CHARS]
        cut.append(f"over {MAX_LIST_CHARS} characters: the rest ignored")
    tokens, defects = _tokenize(raw)
    defects[:0] = cut
    entries, groups = _entries(tokens)
    addresses: list[Address] = []
    rejected: list[str] = []
    mailboxes = 0
    for words in entries:
        entry = _mailbox(words, charset)
        if entry is None:
            if any(t.kind != "comment" for t in words):
                defects.append("text without an address ignored")
            continue
        mailboxes += 1
        if entry.address is not None:
            addresses.append(entry.address)
        if entry.rejected:
            rejected.append(entry.rejected)
        if entry.defect:
            defects.append(entry.defect)
    return AddressList(tuple(addresses), mailboxes, groups, tuple(rejected), tuple(defects))


def _tokenize(raw: str) -> tuple[list[_Token], list[str]]:
    tokens: list[_Token] = []
    defects: list[str] = []
    index, spaced = 0, False
    while index < len(raw):
        char = raw[index]
        kind: _Kind
        if char.isspace():
            index, spaced = index + 1, True
            continue
        if char in _ENCLOSED:
            kind, close = _ENCLOSED[char]
            text, index, closed = _enclosed(raw, index + 1, close, nests=char == "(")
            if not closed:
                defects.append(f"unterminated {kind}")
        elif char in _SPECIALS:
            kind, text, index = "special", char, index + 1
        else:
            match = _ATOM.match(raw, index)
            text = match.group() if match else char
            kind, index = "atom", index + len(text)
        tokens.append(_Token(kind, text, spaced))
        spaced = False
    return tokens, defects


def _enclosed(raw: str, start: int, close: str, *, nests: bool) -> tuple[str, int, bool]:
    """Text up to the matching ``close`` (backslash escapes undone; comments nest)."""
    out: list[str] = []
    depth, index = 1, start
    while index < len(raw):
        char = raw[index]
        if char == "\\" and index + 1 < len(raw):
            out.append(raw[index + 1])
            index += 2
            continue
        if char == close:
            depth -= 1
            if depth == 0:
                return "".join(out), index + 1, True
        elif nests and char == "(":
            depth += 1
        out.append(char)
        index += 1
    return "".join(out), index, False


def _entries(tokens: list[_Token]) -> tuple[list[list[_Token]], int]:
    """Split at top-level commas; a group's name is dropped and its members kept."""
    entries: list[list[_Token]] = [[]]
    in_angle = in_group = False
    groups = 0
    for token in tokens:
        if token.kind == "special" and token.text in "<>":
            in_angle = token.text == "<"
        elif token.kind == "special" and not in_angle:
            if token.text == ",":
                entries.append([])
                continue
            if token.text == ":" and not in_group:
                in_group, groups = True, groups + 1
                entries[-1] = []
                continue
            if token.text == ";" and in_group:
                in_group = False
                entries.append([])
                continue
        entries[-1].append(token)
    return entries, groups


def _is(token: _Token, *specials: str) -> bool:
    return token.kind == "special" and token.text in specials


def _mailbox(entry: list[_Token], charset: str | None) -> _Entry | None:
    """One mailbox, or None when the entry writes no address at all."""
    words = [t for t in entry if t.kind != "comment"]
    comments = [_Token("quoted", t.text, t.spaced) for t in entry if t.kind == "comment"]
    if not any(_is(t, "<", "@") for t in words):
        return None
    if any(_is(t, "<") for t in words):
        return _angle_mailbox(words, comments, charset)
    return _bare_mailbox(words, comments, charset)


def _angle_mailbox(words: list[_Token], comments: list[_Token], charset: str | None) -> _Entry:
    start = next(i for i, t in enumerate(words) if _is(t, "<"))
    end = next((i for i in range(start + 1, len(words)) if _is(words[i], ">")), len(words))
    inner, after = words[start + 1 : end], words[end + 1 :]
    if any(_is(t, "<", "@") for t in after):
        return _Entry(None, "another address after <...>")
    if inner and _is(inner[0], "@"):
        colons = [i for i, t in enumerate(inner) if _is(t, ":")]
        inner = inner[colons[-1] + 1 :] if colons else inner
    email, why = _addr_spec(inner)
    if email is None:
        return _Entry(None, why)
    defect = "unterminated <" if end == len(words) else "text after <...> ignored" if after else ""
    name = _display_name(words[:start], charset) or _display_name(comments, charset)
    return _Entry(Address(email, name), defect=defect)


def _bare_mailbox(words: list[_Token], comments: list[_Token], charset: str | None) -> _Entry:
    """``addr-spec``, or leniently ``words addr-spec`` (no brackets): the unbroken run
    around the single ``@`` is the address, the other words its name."""
    ats = [i for i, t in enumerate(words) if _is(t, "@")]
    if len(ats) > 1:
        return _Entry(None, "several @ without <>")
    email, why = _addr_spec(words)
    if email is not None:
        return _Entry(Address(email, _display_name(comments, charset)))
    low = high = ats[0]
    while low > 0 and _touch(words[low - 1], words[low]):
        low -= 1
    while high + 1 < len(words) and _touch(words[high], words[high + 1]):
        high += 1
    email, why = _addr_spec(words[low : high + 1])
    if email is None:
        return _Entry(None, why)
    name = _display_name([*words[:low], *words[high + 1 :]], charset) or _display_name(
        comments, charset
    )
    return _Entry(Address(email, name), defect="address without <> after other text")


def _touch(left: _Token, right: _Token) -> bool:
    """Both can be part of an addr-spec and no space separates them."""
    return not right.spaced and all(
        t.kind in ("atom", "quoted") or _is(t, ".", "@") for t in (left, right)
    )


def _addr_spec(tokens: Sequence[_Token]) -> tuple[str | None, str]:
    """``local@domain`` lower-cased, or None and why it is not usable."""
    ats = [i for i, t in enumerate(tokens) if _is(t, "@")]
    if len(ats) != 1:
        return None, "no @" if not ats else "more than one @"
    local = _dotted(tokens[: ats[0]], ("atom", "quoted"))
    domain = _dotted(tokens[ats[0] + 1 :], ("atom",))
    if local is None or domain is None:
        return None, "malformed address"
    try:
        email = f"{local}@{domain}".encode("utf-8", "surrogateescape").decode("utf-8")
    except UnicodeError:
        return None, "undecodable bytes in the address"
    usable = _EMAIL.match(email) and "" not in domain.split(".")
    if not usable or any(unicodedata.category(c)[0] in "CZ" for c in email):
        return None, "malformed address"
    return email.lower(), ""


def _dotted(tokens: Sequence[_Token], kinds: tuple[_Kind, ...]) -> str | None:
    """The text of words joined by dots; None when two words touch or anything else is
    there. Stray dots are kept (some carriers issue ``a..b@`` addresses)."""
    parts: list[str] = []
    after_word = False
    for token in tokens:
        if _is(token, "."):
            parts.append(".")
            after_word = False
        elif token.kind in kinds and not after_word:
            parts.append(token.text)
            after_word = True
        else:
            return None
    return "".join(parts)


def _display_name(tokens: Sequence[_Token], charset: str | None) -> str:
    """The decoded phrase: encoded words only as whole words (also inside quotes, as many
    mailers write them), raw 8-bit text as the Subject's; one line, bidi controls removed.
    Atoms and dots not parted by spaces are one word (sloppy ``=?utf-8?q?J.R.?=`` too)."""
    pieces: list[tuple[list[str], bool]] = []
    touching = False
    budget = MAX_PHRASE_CHARS
    for token in tokens:
        budget -= len(token.text)
        if budget < 0:
            break
        if token.kind == "quoted":
            words = token.text.split()
            pieces.extend(([w], token.spaced or i > 0) for i, w in enumerate(words))
            touching = False
        elif token.kind == "atom" or _is(token, ".", "@"):
            if touching and not token.spaced:
                pieces[-1][0].append(token.text)
            else:
                pieces.append(([token.text], token.spaced))
            touching = True
    runs: list[tuple[str, list[str], bool]] = []  # separator before, words, encoded
    for parts, spaced in pieces:
        word = "".join(parts)
        encoded = _ENCODED_WORDS.fullmatch(word) is not None
        separator = " " if spaced and runs else ""
        if runs and encoded == runs[-1][2]:
            # whitespace between encoded words is not text (RFC 2047 §6.2)
            runs[-1][1].append(("" if encoded else separator) + word)
            continue
        runs.append((separator, [word], encoded))
    name = "".join(
        separator + (decode_header_value if encoded else decode_unencoded)("".join(words), charset)
        for separator, words, encoded in runs
    )
    return " ".join(_BIDI.sub("", name).split())[:MAX_NAME_CHARS]
