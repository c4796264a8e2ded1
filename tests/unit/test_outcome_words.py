"""What the core reports, said in Korean and in English: every code has words in both,
Korean words carry no English of ours, particles fit the word before them, and stored
assignment reasons read back (older free text as written)."""

from __future__ import annotations

import re

import pytest

from ticketd.routing.commands import CommandName
from ticketd.routing.event_notes import FIELDS, EventNote, NoteKind, note
from ticketd.routing.help_words import help_text
from ticketd.routing.macros import check_macro
from ticketd.routing.model import EventKind
from ticketd.routing.outcome_words import (
    ASSIGN_WORDS,
    NOTE_WORDS,
    STATUS_WORDS,
    WORDS,
    assign_words,
    assigned_reason,
    assigned_summary,
    event_summary,
    outcome_words,
    problem_words,
    reason_words,
    report_words,
)
from ticketd.routing.outcomes import (
    AssignKind,
    AssignReason,
    Outcome,
    OutcomeCode,
    Reason,
    StatusKind,
    StatusReason,
    Verdict,
    store_reasons,
)

FIELD = re.compile(r"\{(\w+)(?:\|\w+)?\}")
TECHNICAL = {"DKIM", "Authentication", "Results", "SMTP", "smtp_listener", "trusted_relays"}
"""Names Korean mail keeps as they are: a header, a protocol, configuration keys."""
COMMAND_SYNTAX = (
    "#cc add",
    "#cc remove",
    "#take",
    "#status resolved",
    "#priority low",
    "45m",
    "1h30m",
)


def fields(words: str) -> set[str]:
    return set(FIELD.findall(words))


@pytest.mark.parametrize("code", list(OutcomeCode))
def test_every_code_has_words_in_both_languages_from_the_same_arguments(
    code: OutcomeCode,
) -> None:
    english, korean = WORDS["en"][code], WORDS["ko"][code]
    assert bool(english) == bool(korean) == (code != OutcomeCode.APPLIED)
    assert fields(korean) <= fields(english)  # Korean need not repeat the quoted line


@pytest.mark.parametrize("kind", list(AssignKind))
def test_every_assignment_reason_has_words_in_both_languages(kind: AssignKind) -> None:
    english, korean = ASSIGN_WORDS["en"][kind], ASSIGN_WORDS["ko"][kind]
    assert english and korean and fields(english) == fields(korean)


@pytest.mark.parametrize("kind", list(StatusKind))
def test_every_status_reason_has_words_in_both_languages(kind: StatusKind) -> None:
    english, korean = STATUS_WORDS["en"][kind], STATUS_WORDS["ko"][kind]
    assert english and korean and fields(english) == fields(korean)


@pytest.mark.parametrize("kind", list(NoteKind))
def test_every_event_note_has_words_in_both_languages_from_its_fields(kind: NoteKind) -> None:
    english, korean = NOTE_WORDS["en"][kind], NOTE_WORDS["ko"][kind]
    assert english and korean and fields(english) == fields(korean) == set(FIELDS[kind])


KOREAN = [
    *WORDS["ko"].values(),
    *ASSIGN_WORDS["ko"].values(),
    *STATUS_WORDS["ko"].values(),
    *NOTE_WORDS["ko"].values(),
]


@pytest.mark.parametrize("words", KOREAN, ids=lambda w: w[:20])
def test_korean_words_hold_no_english_of_ours(words: str) -> None:
    ours = FIELD.sub(" ", words)
    for syntax in COMMAND_SYNTAX:
        ours = ours.replace(syntax, " ")
    english = set(re.findall(r"[A-Za-z_]{2,}", ours)) - TECHNICAL
    assert english == set()


def test_particles_fit_the_words_before_them() -> None:
    assert (
        reason_words(Reason.of(OutcomeCode.ALREADY_OWNED, owner="bob@example.com"), "ko")
        == "이미 bob@example.com이 맡고 있습니다"
    )
    missing = Reason.of(OutcomeCode.NO_SUCH_ENGINEER, name="김철수")
    assert reason_words(missing, "ko") == "엔지니어 '김철수'를 찾을 수 없습니다"
    missing = Reason.of(OutcomeCode.NO_SUCH_ENGINEER, name="박민준")
    assert reason_words(missing, "ko") == "엔지니어 '박민준'을 찾을 수 없습니다"
    chosen = Reason.of(OutcomeCode.CODE_SET, path="배송/지연")
    assert reason_words(chosen, "ko") == "코드를 배송/지연으로 정했습니다"
    chosen = Reason.of(OutcomeCode.CODE_SET, path="결제/환불요청")
    assert reason_words(chosen, "ko") == "코드를 결제/환불요청으로 정했습니다"
    chosen = Reason.of(OutcomeCode.CODE_SET, path="배송/파손")
    assert reason_words(chosen, "ko") == "코드를 배송/파손으로 정했습니다"
    assert reason_words(Reason.of(OutcomeCode.CODE_SET, path="배송/교환"), "ko").endswith(
        "교환으로 정했습니다"
    )
    assert reason_words(Reason.of(OutcomeCode.CODE_SET, path="A/메일"), "ko").endswith(
        "메일로 정했습니다"
    )


def test_guards_name_statuses_in_the_readers_words() -> None:
    changed = Reason.of(OutcomeCode.STATUS_CHANGED, status="open", wanted="pending")
    assert reason_words(changed, "ko") == "지금 상태는 '처리 중'이 아니라 '접수됨'입니다"
    assert reason_words(changed, "en") == "the status is now open, not pending"


def test_report_lines_quote_the_engineers_line_and_translate_only_ours() -> None:
    merge = Outcome("#merge SUP-AAAA-BBBB", Verdict.REFUSED, Reason(OutcomeCode.MANAGER_MERGES))
    assert (
        outcome_words(merge, "ko")
        == "#merge SUP-AAAA-BBBB  -- 거부: 티켓 병합은 매니저만 할 수 있습니다"
    )
    assert (
        outcome_words(merge, "en")
        == "#merge SUP-AAAA-BBBB  -- refused: only a manager may merge tickets"
    )
    guard = Reason.of(OutcomeCode.OWNER_GONE, wanted="bob@example.com")
    held = Outcome("", Verdict.NOT_SENT, guard)
    assert (
        outcome_words(held, "ko")
        == "(답장 본문)  -- 보내지 않음: 지금은 담당이 없습니다(bob@example.com이 아닙니다)"
    )
    assert (
        outcome_words(held, "en")
        == "(reply text)  -- not sent: the owner is now nobody, not bob@example.com"
    )
    sent = Outcome("", Verdict.DONE, Reason(OutcomeCode.REPLY_SENT))
    plain = Outcome("#priority high", Verdict.DONE)
    assert report_words((plain, sent), "ko") == "#priority high\n(고객에게 답장을 보냈습니다)"
    assert report_words((plain, sent), "en") == "#priority high\n(reply sent to the customer)"
    assert report_words((), "ko") == "(처리할 내용이 없습니다)"
    assert report_words((), "xx") == "(nothing to do)"


@pytest.mark.parametrize(
    "reason",
    [
        AssignReason(AssignKind.RULE_FIXED, 1),
        AssignReason(AssignKind.RULE_TEAM, 2, "sales"),
        AssignReason(AssignKind.RULE_TEAM, 3, "a:b"),
        AssignReason(AssignKind.LEAST_LOADED),
        AssignReason(AssignKind.NOBODY_ON_DUTY),
        AssignReason(AssignKind.ASSIGNED_BY, name="alice@example.com"),
        AssignReason(AssignKind.TAKEN),
    ],
    ids=str,
)
def test_assignment_reasons_are_stored_in_a_stable_form_and_read_back(
    reason: AssignReason,
) -> None:
    assert AssignReason.parse(str(reason)) == reason


def test_assignment_reasons_read_in_either_language_and_old_text_stays() -> None:
    assert str(AssignReason(AssignKind.RULE_TEAM, 2, "sales")) == "rule:2:team:sales"
    assert assign_words("rule:1:fixed", "ko") == "라우팅 규칙 1번: 지정 담당자"
    assert assign_words("rule:1:fixed", "en") == "routing rule 1: fixed owner"
    assert assign_words("rule:2:team:sales", "ko") == "라우팅 규칙 2번: sales 팀"
    assert assign_words("assigned_by:alice@example.com", "ko") == "alice@example.com이 배정"
    assert assigned_summary("nobody: nobody_on_duty", "ko").startswith("담당 없음: 근무 중인")
    assert assigned_reason("bob@example.com: least_loaded", "en") == (
        "least-loaded engineer on duty"
    )
    for old in ("routing rule 1: fixed owner", "#take", "rule:x:fixed", "rule:1:other"):
        assert AssignReason.parse(old) is None and assign_words(old, "ko") == old
    older = "bob@example.com: assigned by alice@example.com"
    assert assigned_summary(older, "ko") == older
    assert event_summary("assigned", "bob@example.com: taken", "ko") == (
        "bob@example.com: #take로 직접 맡음"
    )
    assert event_summary("note", "rule:1:fixed", "ko") == "rule:1:fixed"


def test_status_changes_read_in_either_language_and_old_text_stays() -> None:
    for reason in (
        StatusReason(StatusKind.BY, "alice@example.com"),
        StatusReason(StatusKind.CUSTOMER_REPLIED),
        StatusReason(StatusKind.NO_REPLY, "7"),
        StatusReason(StatusKind.NO_REPLY_AFTER_REMINDER, "3"),
        StatusReason(StatusKind.MERGED_INTO, "SUP-AAAA-BBBB"),
    ):
        assert StatusReason.parse(str(reason)) == reason
    assert StatusReason.parse("by") is None and StatusReason.parse("customer replied") is None
    assert event_summary("status_changed", "open → resolved: by:alice@example.com", "ko") == (
        "접수됨 → 해결됨: alice@example.com이 변경"
    )
    assert event_summary("status_changed", "resolved → closed: no_reply:7", "en") == (
        "Resolved → Closed: no reply for 7 days"
    )
    assert event_summary("status_changed", "resolved → open: customer_replied", "ko") == (
        "해결됨 → 접수됨: 고객이 답장함"
    )
    assert event_summary("status_changed", "open → closed: merged_into:SUP-AAAA-BBB1", "ko") == (
        "접수됨 → 종료됨: SUP-AAAA-BBB1로 병합됨"
    )
    assert event_summary("status_changed", "open → closed: by bob", "ko") == (
        "접수됨 → 종료됨: by bob"
    )


def test_rejection_reasons_are_stored_and_read_in_either_language() -> None:
    why = (
        Reason.of(OutcomeCode.AUTH_UNTRUSTED, server="mx.evil.example"),
        Reason(OutcomeCode.NOT_SIGNED_ADDRESS),
    )
    stored = store_reasons(why)
    assert event_summary("command_rejected", stored, "ko") == (
        "인증 결과 헤더를 쓴 서버 mx.evil.example는 신뢰하는 서버가 아닙니다; "
        "서명된 회신 주소로 보낸 메일이 아닙니다"
    )
    assert event_summary("command_rejected", stored, "en") == (
        "Authentication-Results from untrusted server mx.evil.example; "
        "not sent to a signed reply address"
    )
    for old in ("no Authentication-Results header", "reasons:[[", 'reasons:[["nope", {}]]'):
        assert event_summary("command_rejected", old, "ko") == old
    long = store_reasons((Reason.of(OutcomeCode.NO_ALIGNED_DKIM, domain="x", seen="y" * 5000),))
    assert len(long) < 2000


@pytest.mark.parametrize("language", ["ko", "en"])
def test_the_command_list_names_every_command_in_either_language(language: str) -> None:
    listed = help_text(language)
    assert all(f"#{name.value}" in listed for name in CommandName)
    if language == "ko":
        prose = re.sub(r"#[a-z-]+( [a-z|]+)*|\b(?:Cc|\d+h\d+m|\d+m)\b", " ", listed)
        assert re.findall(r"[A-Za-z]{2,}", prose) == []


def test_a_saved_reply_form_says_what_is_wrong_in_either_language() -> None:
    problems = check_macro("two words", "", "", "#macro loop\n#status nonsense")
    assert [problem_words(p, "en") for p in problems] == [
        "name: letters, digits, '-', '_' or '.', at most 64, no spaces",
        "text: write the Korean or the English text (or both)",
        "command '#status nonsense': unknown status 'nonsense' "
        "(open, pending, waiting, resolved, closed)",
        "command '#macro loop': not allowed in a saved reply",
    ]
    assert [problem_words(p, "ko") for p in problems][3] == (
        "명령 '#macro loop': 저장된 답장에는 쓸 수 없는 명령입니다"
    )


NOTES = [
    (EventKind.CODE_CHANGED, note(NoteKind.CODE, "배송/파손"), "코드를 배송/파손으로 정했습니다"),
    (EventKind.CODE_CHANGED, note(NoteKind.CODE_CLEARED), "코드를 지웠습니다"),
    (EventKind.TIME_LOGGED, note(NoteKind.TIME, 45), "45분을 기록했습니다"),
    (EventKind.BILLABLE_CHANGED, note(NoteKind.BILLABLE, "no"), "과금 여부: 아니요"),
    (EventKind.TYPE_CHANGED, note(NoteKind.TYPE, "bug"), "유형: 버그"),
    (EventKind.PRIORITY_CHANGED, note(NoteKind.PRIORITY, "urgent"), "우선순위: 긴급"),
    (EventKind.MERGED, note(NoteKind.DUPLICATE_OF, "SUP-7"), "SUP-7의 중복 티켓입니다"),
    (EventKind.DUPLICATE, note(NoteKind.MERGED_FROM, "SUP-8"), "SUP-8을 이 티켓으로 병합했습니다"),
    (
        EventKind.DELIVERY_FAILED,
        note(NoteKind.DELIVERY_FAILED, "550 5.1.1 <kim@acme.co.kr>: no such user"),
        "발송 실패: 550 5.1.1 <kim@acme.co.kr>: no such user",
    ),
    (
        EventKind.NOTICE_SUPPRESSED,
        note(NoteKind.SUPPRESSED_CAP, "acknowledgement", 5, "kim@acme.co.kr"),
        "kim@acme.co.kr에게 접수 확인 메일을 보내지 않았습니다: "
        "한 시간에 자동 메일 5통을 넘었습니다",
    ),
    (
        EventKind.SLA_BREACHED,
        note(NoteKind.SLA_MISSED, "first_response", 4),
        "4시간 안에 첫 응답이 없었습니다",
    ),
]


@pytest.mark.parametrize(("kind", "stored", "korean"), NOTES, ids=lambda v: str(v)[:24])
def test_event_notes_are_stored_in_a_stable_form_and_read_in_either_language(
    kind: EventKind, stored: str, korean: str
) -> None:
    note_read = EventNote.parse(kind, stored)
    assert note_read is not None and str(note_read) == stored
    assert event_summary(kind, stored, "ko") == korean
    assert not re.search(r"[가-힣]", event_summary(kind, stored, "en").replace("배송/파손", ""))


def test_old_event_text_and_words_of_others_stay_as_written() -> None:
    for kind, old in [
        (EventKind.CODE_CHANGED, "code: 배송/파손"),
        (EventKind.BILLABLE_CHANGED, "billable: yes"),
        (EventKind.TIME_LOGGED, "45 min"),
        (EventKind.MERGED, "duplicate of SUP-7"),
        (EventKind.DUPLICATE, "SUP-8 merged into this ticket"),
        (EventKind.DELIVERY_FAILED, "550 5.1.1 no such user"),
        (EventKind.CSAT, "time:45"),
        (EventKind.NOTE, "billable:yes"),
    ]:
        assert event_summary(kind, old, "ko") == old
    assert event_summary(EventKind.TIME_LOGGED, "time:45", "en") == "45 min"
    assert note(NoteKind.BOUNCE, "failed", "5:1", "a@b:c") == "bounce:failed:5/1:a@b:c"
