"""Charset decoding that never raises, with the Korean aliases mail really uses.

Python maps ``ks_c_5601-1987`` (Outlook) and ``euc-kr`` to EUC-KR, which cannot decode
cp949 syllables such as 똠, 햏, 뷁; both are decoded as cp949 here.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from email.header import decode_header

from charset_normalizer import from_bytes

ALIASES = {
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "ks_c_5601_1987": "cp949",
    "ksc5601": "cp949",
    "euc-kr": "cp949",
    "euc_kr": "cp949",
    "euckr": "cp949",
    "x-windows-949": "cp949",
    "windows-949": "cp949",
    "uhc": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "x-sjis": "cp932",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "utf8": "utf-8",
    "unicode-1-1-utf-7": "utf-7",
}
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
_OPEN_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\??$")
_COMMON_HANGUL = re.compile(rb"[\xb0-\xc8][\xa1-\xfe]")
"""Bytes of the 2,350 common Hangul syllables (KS X 1001): Korean text always has some."""
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def codec_for(label: str | None) -> str | None:
    """A Python codec name for a MIME charset label, or None when unknown."""
    if not label:
        return None
    name = label.strip().strip('"').lower()
    name = ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_bytes(data: bytes, label: str | None) -> str:
    """Decode ``data`` labelled ``label``; unknown or wrong labels fall back to detection."""
    codec = codec_for(label)
    if codec == "cp1252" and not data.isascii():
        try:
            return data.decode("utf-8")  # UTF-8 labelled Latin-1 (web forms); never the reverse
        except UnicodeDecodeError:
            pass
    if codec:
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if len(data) <= 200_000:
        best = from_bytes(data).best()
        if best is not None and best.encoding:
            guessed = codec_for(best.encoding) or "utf-8"
            return data.decode(guessed, errors="replace")
    try:
        return data.decode("cp949")
    except UnicodeDecodeError:
        return data.decode(codec or "utf-8", errors="replace")


def decode_header_value(raw: str) -> str:
    """Decode a header value: RFC 2047 encoded words and raw 8-bit bytes; never raises."""
    if "=?" not in raw:
        return decode_unencoded(raw)
    try:
        parts = decode_header(_join_adjacent_words(_close_last_word(raw)))
    except Exception:
        return decode_unencoded(raw)
    text = []
    for chunk, charset in parts:
        if isinstance(chunk, bytes):
            text.append(decode_bytes(chunk, charset))
        else:
            text.append(_undo_surrogates(chunk))
    return _clean("".join(text))


def decode_unencoded(raw: str) -> str:
    """Decode header text without looking for encoded words (raw 8-bit bytes only)."""
    return _clean(_undo_surrogates(raw))


def _close_last_word(raw: str) -> str:
    """An encoded word cut off at the end of the value (its ``?=`` lost) closed again."""
    last = _OPEN_WORD.search(raw)
    return raw[: last.start()] + last.group().rstrip("?") + "?=" if last else raw


def _join_adjacent_words(raw: str) -> str:
    return re.sub(r"\?=\s+=\?", "?==?", raw)


def _undo_surrogates(text: str) -> str:
    """compat32 hands 8-bit header bytes over as surrogate escapes: decode them properly."""
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    data = text.encode("utf-8", errors="surrogateescape")
    for codec in ("utf-8", "cp949"):
        try:
            decoded = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if codec == "utf-8" or _COMMON_HANGUL.search(data):
            return decoded  # else Latin-1 that happens to pair up: Müßig, not M廻ig
    return data.decode("cp1252", errors="replace")


def _clean(text: str) -> str:
    """One line, no control characters, composed (NFC): decomposed Hangul from a Mac reads
    and searches like any other."""
    text = text.replace("\r", " ").replace("\n", " ")
    return unicodedata.normalize("NFC", " ".join(_CONTROL.sub("", text).split()))
