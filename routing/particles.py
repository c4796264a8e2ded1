"""Korean particles that depend on the word before them: 으로/로, 을/를, 이/가, 은/는, 와/과.

The choice follows the sound of the word's last character: a Hangul syllable by its final
consonant (batchim), a digit by its Korean reading (영 일 이 삼 사 오 육 칠 팔 구), a Latin
letter by its usual reading (엘, 엠, 엔, 알 end in a consonant; the others do not). Closing
quotes, brackets and punctuation after the word are looked through.
"""

from __future__ import annotations

HANGUL_FIRST, HANGUL_LAST = 0xAC00, 0xD7A3
FINAL_COUNT = 28
RIEUL = 8
"""The index of ㄹ among the final consonants: 으로 takes 로 after it."""

DIGIT_FINALS = {
    "0": 21,  # 영: ㅇ
    "1": RIEUL,  # 일
    "2": 0,  # 이
    "3": 16,  # 삼: ㅁ
    "4": 0,  # 사
    "5": 0,  # 오
    "6": 1,  # 육: ㄱ
    "7": RIEUL,  # 칠
    "8": RIEUL,  # 팔
    "9": 0,  # 구
}
LETTER_FINALS = {"L": RIEUL, "M": 16, "N": 4, "R": RIEUL}
"""엘, 엠, 엔, 알; every other letter's reading ends in a vowel."""

PAIRS = {
    "으로": ("으로", "로"),
    "을": ("을", "를"),
    "이": ("이", "가"),
    "은": ("은", "는"),
    "과": ("과", "와"),
}
"""A particle by its form after a consonant: (after a consonant, after a vowel)."""
ALIASES = {"로": "으로", "를": "을", "가": "이", "는": "은", "와": "과"}


def final_consonant(word: str) -> int | None:
    """The final-consonant index (0: none) of the word's last readable character, or None
    when it has none (empty, or symbols only)."""
    for char in reversed(word.strip()):
        code = ord(char)
        if HANGUL_FIRST <= code <= HANGUL_LAST:
            return (code - HANGUL_FIRST) % FINAL_COUNT
        if char in DIGIT_FINALS:
            return DIGIT_FINALS[char]
        if char.isascii() and char.isalpha():
            return LETTER_FINALS.get(char.upper(), 0)
    return None


def particle(word: str, which: str) -> str:
    """The form of particle ``which`` (either form: ``"으로"`` or ``"로"``) after ``word``;
    an unreadable word gets both, ``(으)로``."""
    consonant, vowel = PAIRS[ALIASES.get(which, which)]
    final = final_consonant(word)
    if final is None:
        return "(으)로" if consonant == "으로" else f"{consonant}({vowel})"
    if consonant == "으로":
        return vowel if final in (0, RIEUL) else consonant
    return consonant if final else vowel


def with_particle(word: str, which: str) -> str:
    """``word`` followed by the right form of ``which``: ``with_particle("해결", "로")`` is
    ``해결로``, ``with_particle("SUP-1234-5678", "을")`` is ``SUP-1234-5678을``."""
    return f"{word}{particle(word, which)}"
