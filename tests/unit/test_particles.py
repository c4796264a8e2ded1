"""Korean particles follow the sound of the word before them."""

from __future__ import annotations

import pytest

from ticketd.routing.particles import particle, with_particle


@pytest.mark.parametrize(
    ("word", "which", "expected"),
    [
        ("해결", "으로", "해결로"),  # ㄹ takes 로
        ("종료", "으로", "종료로"),
        ("처리 중", "로", "처리 중으로"),
        ("'답변 대기'", "으로", "'답변 대기'로"),
        ("SUP-7K2M-9QXA", "을", "SUP-7K2M-9QXA를"),
        ("SUP-7K2M-9QXL", "을", "SUP-7K2M-9QXL을"),  # 엘
        ("SUP-0000-0003", "은", "SUP-0000-0003은"),  # 삼
        ("SUP-0000-0002", "는", "SUP-0000-0002는"),  # 이
        ("SUP-0000-0001", "으로", "SUP-0000-0001로"),  # 일: ㄹ
        ("SUP-0000-0006", "로", "SUP-0000-0006으로"),  # 육
        ("SUP-0000-0008", "과", "SUP-0000-0008과"),  # 팔
        ("SUP-0000-0009", "와", "SUP-0000-0009와"),  # 구
        ("김민수", "이", "김민수가"),
        ("상담원", "가", "상담원이"),
        ("[SUP-7K2M-9QXM]", "를", "[SUP-7K2M-9QXM]을"),  # 엠, brackets looked through
    ],
)
def test_particles_follow_the_last_sound(word: str, which: str, expected: str) -> None:
    assert with_particle(word, which) == expected


def test_a_word_without_a_readable_end_gets_both_forms() -> None:
    assert particle("", "으로") == "(으)로"
    assert particle("!!", "을") == "을(를)"
