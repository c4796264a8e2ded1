"""What became of an engineer's command lines and why an owner was chosen, as typed values
(a code and its arguments) that ``routing.outcome_words`` says in the reader's language."""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass

STORED_REASONS = "reasons:"
"""How the reasons of a rejected command mail begin where they are stored."""
ARG_CHARS = 200


class OutcomeCode(enum.StrEnum):
    """One thing the core can say about a line, a guard, an authentication or an owner."""

    APPLIED = "applied"
    GUARD_HOLDS = "guard_holds"
    SEND_ANYWAY = "send_anyway"
    HELP_SENT = "help_sent"
    NOTE_RECORDED = "note_recorded"
    REPLY_SENT = "reply_sent"
    NOTHING_TO_DO = "nothing_to_do"
    CODE_SET = "code_set"
    CODE_CLEARED = "code_cleared"
    CODE_ADDED = "code_added"
    CODE_RETIRED = "code_retired"
    UNKNOWN_COMMAND = "unknown_command"
    TAKES_NO_ARGUMENT = "takes_no_argument"
    NEEDS_ARGUMENT = "needs_argument"
    UNKNOWN_CHOICE = "unknown_choice"
    NOT_A_DURATION = "not_a_duration"
    CC_USAGE = "cc_usage"
    NOT_A_COMMAND = "not_a_command"
    ALREADY_OWNED = "already_owned"
    NOT_YOURS = "not_yours"
    NOT_AN_ENGINEER = "not_an_engineer"
    NO_SUCH_ENGINEER = "no_such_engineer"
    MANAGER_REOPENS = "manager_reopens"
    MANAGER_MERGES = "manager_merges"
    MANAGER_ADDS_CODES = "manager_adds_codes"
    MANAGER_RETIRES_CODES = "manager_retires_codes"
    NO_OTHER_TICKET = "no_other_ticket"
    CC_ENGINEER = "cc_engineer"
    OWNER_CHANGED = "owner_changed"
    OWNER_GONE = "owner_gone"
    STATUS_CHANGED = "status_changed"
    NO_SAVED_REPLY = "no_saved_reply"
    CODE_ADDED_HERE = "code_added_here"
    CODE_CONTROL_CHARS = "code_control_chars"
    NOT_A_CODE_PATH = "not_a_code_path"
    CODE_TOO_DEEP = "code_too_deep"
    CODE_SEGMENT_TOO_LONG = "code_segment_too_long"
    CODE_AMBIGUOUS = "code_ambiguous"
    CODE_IS_RETIRED = "code_is_retired"
    NO_SUCH_CODE = "no_such_code"
    NO_SUCH_CODE_NEAR = "no_such_code_near"
    CODE_EXISTS = "code_exists"
    CODE_GONE = "code_gone"
    CODE_UNDER_ITSELF = "code_under_itself"
    CODE_NAME_TAKEN = "code_name_taken"
    CODE_IN_USE = "code_in_use"
    MACRO_BAD_NAME = "macro_bad_name"
    MACRO_NO_TEXT = "macro_no_text"
    MACRO_TEXT_TOO_LONG = "macro_text_too_long"
    MACRO_ONLY_COMMANDS = "macro_only_commands"
    MACRO_NOT_ALLOWED = "macro_not_allowed"
    MACRO_EXISTS = "macro_exists"
    NO_AUTH_RESULTS = "no_auth_results"
    AUTH_UNPARSEABLE = "auth_unparseable"
    AUTH_UNTRUSTED = "auth_untrusted"
    AUTH_UNTRUSTED_PEER = "auth_untrusted_peer"
    NO_DKIM_RESULT = "no_dkim_result"
    NO_ALIGNED_DKIM = "no_aligned_dkim"
    DKIM_PASS = "dkim_pass"
    NOT_SIGNED_ADDRESS = "not_signed_address"
    SIGNED_ADDRESS = "signed_address"
    BAD_SIGNED_ADDRESS = "bad_signed_address"


@dataclass(frozen=True, slots=True)
class Reason:
    """A code and its named arguments (the engineer's own words and our names, as given)."""

    code: OutcomeCode
    args: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, code: OutcomeCode, **args: str) -> Reason:
        return cls(code, tuple(args.items()))


def store_reasons(reasons: Sequence[Reason]) -> str:
    """Reasons as one stored string (each argument at most ``ARG_CHARS``)."""
    listed = [[r.code.value, {k: v[:ARG_CHARS] for k, v in r.args}] for r in reasons]
    return STORED_REASONS + json.dumps(listed, ensure_ascii=False)


def stored_reasons(stored: str) -> tuple[Reason, ...] | None:
    """The reasons ``store_reasons`` wrote, or None for anything else (older free text)."""
    if not stored.startswith(STORED_REASONS):
        return None
    try:
        listed = json.loads(stored.removeprefix(STORED_REASONS))
        return tuple(
            Reason(OutcomeCode(code), tuple((str(k), str(v)) for k, v in args.items()))
            for code, args in listed
        )
    except (ValueError, TypeError, AttributeError):
        return None


APPLIED = Reason(OutcomeCode.APPLIED)
"""A line that did what it says (nothing more to report)."""


class Verdict(enum.StrEnum):
    """What happened to a line: done, refused, or left alone because of another line."""

    DONE = "done"
    REFUSED = "refused"
    NOT_APPLIED = "not_applied"
    NOT_SENT = "not_sent"


@dataclass(frozen=True, slots=True)
class Outcome:
    """One line of the report: the engineer's line as written (empty for the mail's text),
    what became of it and why."""

    line: str
    verdict: Verdict
    reason: Reason = APPLIED

    @property
    def refused(self) -> bool:
        return self.verdict != Verdict.DONE


class AssignKind(enum.StrEnum):
    RULE_FIXED = "rule_fixed"
    RULE_TEAM = "rule_team"
    LEAST_LOADED = "least_loaded"
    NOBODY_ON_DUTY = "nobody_on_duty"
    ASSIGNED_BY = "assigned_by"
    TAKEN = "taken"


@dataclass(frozen=True, slots=True)
class AssignReason:
    """Why a ticket got its owner; stored as ``str(reason)`` (``rule:1:fixed``,
    ``rule:2:team:sales``, ``least_loaded``, ``nobody_on_duty``, ``assigned_by:EMAIL``,
    ``taken``) and read back by ``parse``."""

    kind: AssignKind
    rule: int = 0
    name: str = ""

    def __str__(self) -> str:
        match self.kind:
            case AssignKind.RULE_FIXED:
                return f"rule:{self.rule}:fixed"
            case AssignKind.RULE_TEAM:
                return f"rule:{self.rule}:team:{self.name}"
            case AssignKind.ASSIGNED_BY:
                return f"assigned_by:{self.name}"
        return self.kind.value

    @classmethod
    def parse(cls, stored: str) -> AssignReason | None:
        """The reason ``str`` wrote, or None for anything else (older free text)."""
        head, _, rest = stored.partition(":")
        if head == "rule":
            number, _, form = rest.partition(":")
            if not (number.isascii() and number.isdigit()):
                return None
            if form == "fixed":
                return cls(AssignKind.RULE_FIXED, int(number))
            team = form.removeprefix("team:")
            return cls(AssignKind.RULE_TEAM, int(number), team) if team != form else None
        if head == AssignKind.ASSIGNED_BY and rest:
            return cls(AssignKind.ASSIGNED_BY, name=rest)
        if stored in (AssignKind.LEAST_LOADED, AssignKind.NOBODY_ON_DUTY, AssignKind.TAKEN):
            return cls(AssignKind(stored))
        return None


class StatusKind(enum.StrEnum):
    BY = "by"
    CUSTOMER_REPLIED = "customer_replied"
    NO_REPLY = "no_reply"
    NO_REPLY_AFTER_REMINDER = "no_reply_after_reminder"
    MERGED_INTO = "merged_into"


@dataclass(frozen=True, slots=True)
class StatusReason:
    """Why a status changed; stored as ``str(reason)`` (``by:EMAIL``, ``customer_replied``,
    ``no_reply:7``, ``no_reply_after_reminder:3``, ``merged_into:TRACKING``) and read back
    by ``parse``."""

    kind: StatusKind
    value: str = ""

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.value}" if self.value else self.kind.value

    @classmethod
    def parse(cls, stored: str) -> StatusReason | None:
        """The reason ``str`` wrote, or None for anything else (older free text)."""
        head, sep, value = stored.partition(":")
        try:
            kind = StatusKind(head)
        except ValueError:
            return None
        takes_value = kind != StatusKind.CUSTOMER_REPLIED
        return cls(kind, value) if bool(sep and value) == takes_value else None
