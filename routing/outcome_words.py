"""How ``routing.outcomes`` values read in Korean (합니다체) and English: one table of
words for the mail and the workspace alike (pure).

A word's ``{name}`` takes the argument as given (the engineer's own text, an address, a
path); ``{name|이}`` adds the Korean particle that fits it (``routing.particles``); the
``what`` argument is our own word, said in the reader's language, and so are the statuses a
guard names in Korean (English keeps the command's own status words).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from ticketd.routing.event_notes import EventNote, NoteKind
from ticketd.routing.labels import LANGUAGES, priority_label, status_label
from ticketd.routing.model import EventKind
from ticketd.routing.outcomes import (
    AssignKind,
    AssignReason,
    Outcome,
    OutcomeCode,
    Reason,
    StatusKind,
    StatusReason,
    Verdict,
    stored_reasons,
)
from ticketd.routing.particles import with_particle

C = OutcomeCode
WORDS: dict[str, dict[OutcomeCode, str]] = {
    "en": {
        C.APPLIED: "",
        C.GUARD_HOLDS: "holds",
        C.SEND_ANYWAY: "sent even if the ticket changed",
        C.HELP_SENT: "command list sent",
        C.NOTE_RECORDED: "internal note recorded",
        C.REPLY_SENT: "reply sent to the customer",
        C.NOTHING_TO_DO: "nothing to do",
        C.CODE_SET: "code: {path}",
        C.CODE_CLEARED: "code cleared",
        C.CODE_ADDED: "code {path} added",
        C.CODE_RETIRED: "code {path} retired",
        C.UNKNOWN_COMMAND: "unknown command #{command}",
        C.TAKES_NO_ARGUMENT: "#{command} takes no argument",
        C.NEEDS_ARGUMENT: "#{command} needs an argument",
        C.UNKNOWN_CHOICE: "unknown {what} '{value}' ({allowed})",
        C.NOT_A_DURATION: "not a duration: '{value}' (e.g. 45m, 1h30m)",
        C.CC_USAGE: "write #cc add EMAIL or #cc remove EMAIL",
        C.NOT_A_COMMAND: "not a command",
        C.ALREADY_OWNED: "{owner} already has it",
        C.NOT_YOURS: "the ticket belongs to {owner}; agents act only on their own tickets",
        C.NOT_AN_ENGINEER: "you are no longer a configured engineer",
        C.NO_SUCH_ENGINEER: "no engineer called '{name}'",
        C.MANAGER_REOPENS: "only a manager may reopen a closed ticket",
        C.MANAGER_MERGES: "only a manager may merge tickets",
        C.MANAGER_ADDS_CODES: "only a manager may add codes",
        C.MANAGER_RETIRES_CODES: "only a manager may retire codes",
        C.NO_OTHER_TICKET: "no other ticket '{number}'",
        C.CC_ENGINEER: "{email} is an engineer; engineers follow tickets by owning them",
        C.OWNER_CHANGED: "the owner is now {owner}, not {wanted}",
        C.OWNER_GONE: "the owner is now nobody, not {wanted}",
        C.STATUS_CHANGED: "the status is now {status}, not {wanted}",
        C.NO_SAVED_REPLY: "no saved reply '{name}' (available: {available})",
        C.CODE_ADDED_HERE: "the code {path} is added by this mail",
        C.CODE_CONTROL_CHARS: "a code path may not contain control characters",
        C.NOT_A_CODE_PATH: "not a code path: '{text}' (e.g. 배송/파손/교환요청)",
        C.CODE_TOO_DEEP: "a code has at most {count} levels",
        C.CODE_SEGMENT_TOO_LONG: "a code segment has at most {count} characters",
        C.CODE_AMBIGUOUS: "'{text}' matches {count} codes: {candidates}",
        C.CODE_IS_RETIRED: "the code {path} is retired",
        C.NO_SUCH_CODE: "no code '{text}'",
        C.NO_SUCH_CODE_NEAR: "no code '{text}'; closest: {candidates}",
        C.CODE_EXISTS: "the code {path} exists",
        C.CODE_GONE: "no such code",
        C.CODE_UNDER_ITSELF: "a code cannot move under itself",
        C.CODE_NAME_TAKEN: "a code {name} exists there",
        C.CODE_IN_USE: "a code {path} is in use",
        C.MACRO_BAD_NAME: "name: letters, digits, '-', '_' or '.', at most 64, no spaces",
        C.MACRO_NO_TEXT: "text: write the Korean or the English text (or both)",
        C.MACRO_TEXT_TOO_LONG: "text: at most {count} characters",
        C.MACRO_ONLY_COMMANDS: "commands: only command lines (#status resolved, #priority low …)",
        C.MACRO_NOT_ALLOWED: "not allowed in a saved reply",
        C.MACRO_EXISTS: "name: a saved reply called '{name}' exists; edit it",
        C.NO_AUTH_RESULTS: "no Authentication-Results header",
        C.AUTH_UNPARSEABLE: "unparseable Authentication-Results header",
        C.AUTH_UNTRUSTED: "Authentication-Results from untrusted server {server}",
        C.AUTH_UNTRUSTED_PEER: "Authentication-Results not believed: the mail came straight "
        "to the SMTP listener from a peer that is not in [smtp_listener].trusted_relays",
        C.NO_DKIM_RESULT: "no DKIM result from {server}",
        C.NO_ALIGNED_DKIM: "no aligned dkim=pass for {domain}: {seen}",
        C.DKIM_PASS: "dkim=pass for {signer} from {server}",
        C.NOT_SIGNED_ADDRESS: "not sent to a signed reply address",
        C.SIGNED_ADDRESS: "signed reply address",
        C.BAD_SIGNED_ADDRESS: "invalid or expired signed reply address",
    },
    "ko": {
        C.APPLIED: "",
        C.GUARD_HOLDS: "조건이 맞습니다",
        C.SEND_ANYWAY: "티켓이 바뀌었어도 보냅니다",
        C.HELP_SENT: "명령 목록을 보냈습니다",
        C.NOTE_RECORDED: "내부 메모를 기록했습니다",
        C.REPLY_SENT: "고객에게 답장을 보냈습니다",
        C.NOTHING_TO_DO: "처리할 내용이 없습니다",
        C.CODE_SET: "코드를 {path|로} 정했습니다",
        C.CODE_CLEARED: "코드를 지웠습니다",
        C.CODE_ADDED: "코드 {path|를} 추가했습니다",
        C.CODE_RETIRED: "코드 {path|를} 폐지했습니다",
        C.UNKNOWN_COMMAND: "알 수 없는 명령입니다",
        C.TAKES_NO_ARGUMENT: "#{command} 명령에는 인자를 붙이지 않습니다",
        C.NEEDS_ARGUMENT: "#{command} 명령에는 인자가 필요합니다",
        C.UNKNOWN_CHOICE: "'{value}'|는 알 수 없는 {what}입니다(가능한 값: {allowed})",
        C.NOT_A_DURATION: "'{value}'|는 시간 길이가 아닙니다(예: 45m, 1h30m)",
        C.CC_USAGE: "#cc add 주소 또는 #cc remove 주소로 쓰십시오",
        C.NOT_A_COMMAND: "명령 줄이 아닙니다",
        C.ALREADY_OWNED: "이미 {owner|가} 맡고 있습니다",
        C.NOT_YOURS: "이 티켓의 담당은 {owner}입니다. 에이전트는 자기 티켓에만 명령할 수 있습니다",
        C.NOT_AN_ENGINEER: "이제 설정에 등록된 엔지니어가 아닙니다",
        C.NO_SUCH_ENGINEER: "엔지니어 '{name}'|를 찾을 수 없습니다",
        C.MANAGER_REOPENS: "종료된 티켓은 매니저만 다시 열 수 있습니다",
        C.MANAGER_MERGES: "티켓 병합은 매니저만 할 수 있습니다",
        C.MANAGER_ADDS_CODES: "코드 추가는 매니저만 할 수 있습니다",
        C.MANAGER_RETIRES_CODES: "코드 폐지는 매니저만 할 수 있습니다",
        C.NO_OTHER_TICKET: "다른 티켓 '{number}'|를 찾을 수 없습니다",
        C.CC_ENGINEER: "{email}|는 엔지니어입니다. 엔지니어는 담당을 맡아 티켓을 따라갑니다",
        C.OWNER_CHANGED: "지금 담당은 {wanted}|가 아니라 {owner}입니다",
        C.OWNER_GONE: "지금은 담당이 없습니다({wanted}|가 아닙니다)",
        C.STATUS_CHANGED: "지금 상태는 '{wanted}'|가 아니라 '{status}'입니다",
        C.NO_SAVED_REPLY: "저장된 답장 '{name}'|가 없습니다(있는 답장: {available})",
        C.CODE_ADDED_HERE: "코드 {path}|는 이 메일에서 추가하는 코드입니다",
        C.CODE_CONTROL_CHARS: "코드 경로에는 제어 문자를 쓸 수 없습니다",
        C.NOT_A_CODE_PATH: "'{text}'|는 코드 경로가 아닙니다(예: 배송/파손/교환요청)",
        C.CODE_TOO_DEEP: "코드는 {count}단계까지만 만들 수 있습니다",
        C.CODE_SEGMENT_TOO_LONG: "코드 한 단계는 {count}자까지 쓸 수 있습니다",
        C.CODE_AMBIGUOUS: "'{text}'에 맞는 코드가 {count}개입니다: {candidates}",
        C.CODE_IS_RETIRED: "코드 {path}|는 폐지되었습니다",
        C.NO_SUCH_CODE: "코드 '{text}'|가 없습니다",
        C.NO_SUCH_CODE_NEAR: "코드 '{text}'|가 없습니다. 가장 가까운 코드: {candidates}",
        C.CODE_EXISTS: "코드 {path}|는 이미 있습니다",
        C.CODE_GONE: "그런 코드가 없습니다",
        C.CODE_UNDER_ITSELF: "코드를 자기 아래로 옮길 수 없습니다",
        C.CODE_NAME_TAKEN: "그 자리에 이미 코드 {name}|가 있습니다",
        C.CODE_IN_USE: "코드 {path}|가 이미 쓰이고 있습니다",
        C.MACRO_BAD_NAME: "이름: 글자, 숫자, '-', '_', '.'만 공백 없이 64자까지 쓸 수 있습니다",
        C.MACRO_NO_TEXT: "본문: 한국어나 영어 본문(또는 둘 다)을 쓰십시오",
        C.MACRO_TEXT_TOO_LONG: "본문: {count}자까지 쓸 수 있습니다",
        C.MACRO_ONLY_COMMANDS: "명령: 명령 줄만 쓸 수 있습니다(#status resolved, #priority low …)",
        C.MACRO_NOT_ALLOWED: "저장된 답장에는 쓸 수 없는 명령입니다",
        C.MACRO_EXISTS: "이름: 저장된 답장 '{name}'|이 이미 있습니다. 그 답장을 고치십시오",
        C.NO_AUTH_RESULTS: "인증 결과 헤더(Authentication-Results)가 없습니다",
        C.AUTH_UNPARSEABLE: "인증 결과 헤더(Authentication-Results)를 읽을 수 없습니다",
        C.AUTH_UNTRUSTED: "인증 결과 헤더를 쓴 서버 {server}|는 신뢰하는 서버가 아닙니다",
        C.AUTH_UNTRUSTED_PEER: "메일이 [smtp_listener].trusted_relays에 없는 곳에서 SMTP "
        "리스너로 바로 들어와 인증 결과 헤더를 믿지 않았습니다",
        C.NO_DKIM_RESULT: "{server}의 인증 결과에 DKIM 결과가 없습니다",
        C.NO_ALIGNED_DKIM: "{domain}에 맞는 DKIM 통과 결과가 없습니다: {seen}",
        C.DKIM_PASS: "{server}에서 {signer}의 DKIM 서명을 확인했습니다",
        C.NOT_SIGNED_ADDRESS: "서명된 회신 주소로 보낸 메일이 아닙니다",
        C.SIGNED_ADDRESS: "서명된 회신 주소로 보낸 메일입니다",
        C.BAD_SIGNED_ADDRESS: "회신 주소의 서명이 틀렸거나 기한이 지났습니다",
    },
}
"""Every code's words in each language."""

VERDICTS: dict[str, dict[Verdict, str]] = {
    "en": {
        Verdict.DONE: "{line}  -- {reason}",
        Verdict.REFUSED: "{line}  -- refused: {reason}",
        Verdict.NOT_APPLIED: "{line}  -- not applied: {reason}",
        Verdict.NOT_SENT: "{line}  -- not sent: {reason}",
    },
    "ko": {
        Verdict.DONE: "{line}  -- {reason}",
        Verdict.REFUSED: "{line}  -- 거부: {reason}",
        Verdict.NOT_APPLIED: "{line}  -- 적용하지 않음: {reason}",
        Verdict.NOT_SENT: "{line}  -- 보내지 않음: {reason}",
    },
}
"""A report line: the engineer's line, then what became of it."""

TERMS: dict[str, dict[str, str]] = {
    "en": {
        "reply_text": "(reply text)",
        "command_problem": "command '{line}': {reason}",
        "status": "status",
        "priority": "priority",
        "type": "type",
        "billable": "billable",
        "none": "none",
        "nobody": "nobody",
        "yes": "yes",
        "no": "no",
        "first_response": "first response",
        "next_response": "next reply",
        "bug": "bug",
        "feature": "feature request",
        "question": "question",
        "acknowledgement": "acknowledgement",
        "status_link": "status link",
        "notice": "automatic mail",
    },
    "ko": {
        "reply_text": "(답장 본문)",
        "command_problem": "명령 '{line}': {reason}",
        "status": "상태",
        "priority": "우선순위",
        "type": "유형",
        "billable": "과금 여부",
        "none": "없음",
        "nobody": "담당 없음",
        "yes": "예",
        "no": "아니요",
        "first_response": "첫 응답",
        "next_response": "다음 답변",
        "bug": "버그",
        "feature": "기능 요청",
        "question": "질문",
        "acknowledgement": "접수 확인 메일",
        "status_link": "진행 상황 링크 메일",
        "notice": "자동 메일",
    },
}
"""Our own words that arguments name (``what``) and the report's fixed parts."""

ASSIGN_WORDS: dict[str, dict[AssignKind, str]] = {
    "en": {
        AssignKind.RULE_FIXED: "routing rule {rule}: fixed owner",
        AssignKind.RULE_TEAM: "routing rule {rule}: team {team}",
        AssignKind.LEAST_LOADED: "least-loaded engineer on duty",
        AssignKind.NOBODY_ON_DUTY: "nobody on duty: unowned until someone takes it",
        AssignKind.ASSIGNED_BY: "assigned by {name}",
        AssignKind.TAKEN: "taken with #take",
    },
    "ko": {
        AssignKind.RULE_FIXED: "라우팅 규칙 {rule}번: 지정 담당자",
        AssignKind.RULE_TEAM: "라우팅 규칙 {rule}번: {team} 팀",
        AssignKind.LEAST_LOADED: "근무 중인 엔지니어 가운데 맡은 티켓이 가장 적음",
        AssignKind.NOBODY_ON_DUTY: "근무 중인 엔지니어 없음: 누군가 가져갈 때까지 담당 없음",
        AssignKind.ASSIGNED_BY: "{name|이} 배정",
        AssignKind.TAKEN: "#take로 직접 맡음",
    },
}
"""Why a ticket got its owner."""

STATUS_WORDS: dict[str, dict[StatusKind, str]] = {
    "en": {
        StatusKind.BY: "by {name}",
        StatusKind.CUSTOMER_REPLIED: "customer replied",
        StatusKind.NO_REPLY: "no reply for {days} days",
        StatusKind.NO_REPLY_AFTER_REMINDER: "no reply for {days} days after the reminder",
        StatusKind.MERGED_INTO: "merged into {tracking}",
    },
    "ko": {
        StatusKind.BY: "{name|이} 변경",
        StatusKind.CUSTOMER_REPLIED: "고객이 답장함",
        StatusKind.NO_REPLY: "{days}일 동안 고객의 답이 없음",
        StatusKind.NO_REPLY_AFTER_REMINDER: "다시 알린 뒤 {days}일 동안 고객의 답이 없음",
        StatusKind.MERGED_INTO: "{tracking}|으로 병합됨",
    },
}
"""Why a ticket's status changed."""

NOTE_WORDS: dict[str, dict[NoteKind, str]] = {
    "en": {
        NoteKind.RECEIVED: "received",
        NoteKind.CODE: "code: {path}",
        NoteKind.CODE_CLEARED: "code cleared",
        NoteKind.CODE_SUGGESTED: "suggested code: {path}",
        NoteKind.TIME: "{minutes} min",
        NoteKind.BILLABLE: "billable: {answer}",
        NoteKind.PRIORITY: "priority: {priority}",
        NoteKind.PRIORITY_DUE: "priority: {priority}; first response due {due}",
        NoteKind.TYPE: "type: {type}",
        NoteKind.DUPLICATE_OF: "duplicate of {tracking}",
        NoteKind.MERGED_FROM: "{tracking} merged into this ticket",
        NoteKind.RESENT: "same sender, subject and body as {tracking} within 24 h",
        NoteKind.SUPPRESSED_CAP: "{notice} to {recipient} not sent: "
        "more than {limit} automatic mails in an hour",
        NoteKind.SUPPRESSED_RELEASED: "{notice} to {recipient} not sent: released by an operator",
        NoteKind.SUPPRESSED_HISTORY: "{notice} to {recipient} not sent: the mail arrived "
        "{age} h before it was processed (more than {max} h: history)",
        NoteKind.DELIVERY_FAILED: "delivery failed: {error}",
        NoteKind.BOUNCE: "delivery report: {action} {status} {recipients}",
        NoteKind.SLA_DUE: "{clock} due within {hours} h",
        NoteKind.SLA_MISSED: "no {clock} within {hours} h",
        NoteKind.WAITING_REMINDED: "customer reminded after {days} days waiting",
        NoteKind.HELD: "{count} new message(s) since the notice answered; nothing applied",
    },
    "ko": {
        NoteKind.RECEIVED: "접수했습니다",
        NoteKind.CODE: "코드를 {path|로} 정했습니다",
        NoteKind.CODE_CLEARED: "코드를 지웠습니다",
        NoteKind.CODE_SUGGESTED: "코드 {path|를} 제안합니다",
        NoteKind.TIME: "{minutes}분을 기록했습니다",
        NoteKind.BILLABLE: "과금 여부: {answer}",
        NoteKind.PRIORITY: "우선순위: {priority}",
        NoteKind.PRIORITY_DUE: "우선순위: {priority}. 첫 응답 기한은 {due}입니다",
        NoteKind.TYPE: "유형: {type}",
        NoteKind.DUPLICATE_OF: "{tracking}의 중복 티켓입니다",
        NoteKind.MERGED_FROM: "{tracking|를} 이 티켓으로 병합했습니다",
        NoteKind.RESENT: "24시간 안에 {tracking}와 같은 보낸 사람, 제목, 본문으로 다시 왔습니다",
        NoteKind.SUPPRESSED_CAP: "{recipient}에게 {notice|를} 보내지 않았습니다: "
        "한 시간에 자동 메일 {limit}통을 넘었습니다",
        NoteKind.SUPPRESSED_RELEASED: "{recipient}에게 {notice|를} 보내지 않았습니다: "
        "운영자가 풀어 준 메일입니다",
        NoteKind.SUPPRESSED_HISTORY: "{recipient}에게 {notice|를} 보내지 않았습니다: "
        "메일이 처리되기 {age}시간 전에 왔습니다({max}시간이 넘은 지난 메일)",
        NoteKind.DELIVERY_FAILED: "발송 실패: {error}",
        NoteKind.BOUNCE: "반송 보고: {action} {status} {recipients}",
        NoteKind.SLA_DUE: "{clock} 기한이 {hours}시간 안에 다가옵니다",
        NoteKind.SLA_MISSED: "{hours}시간 안에 {clock|이} 없었습니다",
        NoteKind.WAITING_REMINDED: "{days}일 동안 답을 기다린 고객에게 다시 알렸습니다",
        NoteKind.HELD: "알림 뒤에 새 메시지 {count}통이 있어 아무것도 적용하지 않았습니다",
    },
}
"""What an event's summary says (``routing.event_notes``)."""

_OUR_VALUES = frozenset({"answer", "clock", "type"})
"""The arguments whose values are our own words, said in the reader's language."""


_FIELD = re.compile(r"(')?\{(\w+)(?:\|(\w+))?\}(')?(?:\|(\w+))?")
"""``{name}``, ``{name|이}``, ``'{name}'`` or ``'{name}'|이``."""


def _language(language: str) -> str:
    return language if language in LANGUAGES else "en"


def _fill(words: str, args: Mapping[str, str], language: str) -> str:
    """``words`` with each ``{name}`` replaced, its particle added where asked."""

    def one(match: re.Match[str]) -> str:
        before, name, inner, after, outer = match.groups()
        value, which = args.get(name, ""), inner or outer
        if name == "what":
            value = TERMS[language].get(value, value)
        said = f"{before or ''}{value}{after or ''}"
        return with_particle(said, which) if which and language == "ko" else said

    return _FIELD.sub(one, words)


def reason_words(reason: Reason, language: str) -> str:
    """A reason in ``language`` (English for an unknown one)."""
    language = _language(language)
    args = dict(reason.args)
    if reason.code == C.NO_SAVED_REPLY and not args.get("available"):
        args["available"] = TERMS[language]["none"]
    if reason.code == C.STATUS_CHANGED and language == "ko":
        args = {name: status_label(value, language) for name, value in args.items()}
    return _fill(WORDS[language][reason.code], args, language)


def outcome_words(outcome: Outcome, language: str) -> str:
    """One report line: ``#merge SUP-…  -- 거부: 티켓 병합은 매니저만 할 수 있습니다``; the
    mail's own text is named, a plain done line is the line alone."""
    language = _language(language)
    said = reason_words(outcome.reason, language)
    if not outcome.line and outcome.verdict == Verdict.DONE:
        return f"({said})"
    line = outcome.line or TERMS[language]["reply_text"]
    if not said:
        return line
    return VERDICTS[language][outcome.verdict].format(line=line, reason=said)


def problem_words(outcome: Outcome, language: str) -> str:
    """What is wrong with a form: the reason, after the command line it is about."""
    language = _language(language)
    said = reason_words(outcome.reason, language)
    if not outcome.line:
        return said
    return TERMS[language]["command_problem"].format(line=outcome.line, reason=said)


def report_words(outcomes: Iterable[Outcome], language: str) -> str:
    """The whole report, one line per outcome (``nothing to do`` when there is none)."""
    lines = [outcome_words(outcome, language) for outcome in outcomes]
    return "\n".join(lines) or f"({reason_words(Reason(C.NOTHING_TO_DO), language)})"


def assign_words(stored: str, language: str) -> str:
    """An assignment reason as stored: the machine form said in ``language``, older free
    text as it was written."""
    reason = AssignReason.parse(stored)
    if reason is None:
        return stored
    language = _language(language)
    args = {"rule": str(reason.rule), "team": reason.name, "name": reason.name}
    return _fill(ASSIGN_WORDS[language][reason.kind], args, language)


def assigned_summary(summary: str, language: str) -> str:
    """An ``assigned`` event's summary (``OWNER: REASON``, owner ``nobody`` when none) in
    ``language``."""
    owner, sep, stored = summary.partition(": ")
    if not sep:
        return summary
    language = _language(language)
    who = TERMS[language]["nobody"] if owner == "nobody" else owner
    return f"{who}: {assign_words(stored, language)}"


def status_summary(summary: str, language: str) -> str:
    """A ``status_changed`` event's summary (``BEFORE → AFTER: REASON``) in ``language``;
    older free-text reasons as written."""
    change, sep, stored = summary.partition(": ")
    before, arrow, after = change.partition(" → ")
    if not (sep and arrow):
        return summary
    language = _language(language)
    reason = StatusReason.parse(stored)
    said = stored
    if reason is not None:
        args = {"name": reason.value, "days": reason.value, "tracking": reason.value}
        said = _fill(STATUS_WORDS[language][reason.kind], args, language)
    return f"{status_label(before, language)} → {status_label(after, language)}: {said}"


def note_words(note: EventNote, language: str) -> str:
    """An event's note in ``language``: our own words translated, the rest as given."""
    language = _language(language)
    args = note.args
    for name in _OUR_VALUES & args.keys():
        args[name] = TERMS[language].get(args[name], args[name])
    if "priority" in args:
        args["priority"] = priority_label(args["priority"], language)
    if "notice" in args:
        terms = TERMS[language]
        args["notice"] = terms.get(args["notice"], terms["notice"])
    return _fill(NOTE_WORDS[language][note.kind], args, language)


def event_summary(kind: str, summary: str, language: str) -> str:
    """An event's summary as the reader reads it (our own notes, assignment, status and
    rejection reasons said in ``language``; older free text as recorded)."""
    note = EventNote.parse(kind, summary)
    if note is not None:
        return note_words(note, language)
    if kind == EventKind.ASSIGNED:
        return assigned_summary(summary, language)
    if kind == EventKind.STATUS_CHANGED:
        return status_summary(summary, language)
    reasons = stored_reasons(summary) if kind == EventKind.COMMAND_REJECTED else None
    if reasons is not None:
        return "; ".join(reason_words(reason, language) for reason in reasons)
    return summary


def assigned_reason(summary: str, language: str) -> str:
    """Only the reason of an ``assigned`` event's summary, in ``language``."""
    _, sep, stored = summary.partition(": ")
    return assign_words(stored, language) if sep else summary
