"""Keyword rules for classification codes (``[[codes.rules]]``): the first rule whose
words a new ticket's subject or body contains sets its code or suggests one."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from ticketd.mail.message import InboundMessage
from ticketd.routing.assign import rule_matches
from ticketd.routing.codes import CodeTree
from ticketd.routing.effects import Effect, NewTicket, SetCode, SuggestCode
from ticketd.routing.model import RoutingRuleSpec

RULE_ACTOR = "rule"


class CodeRuleMode(enum.StrEnum):
    SET = "set"
    SUGGEST = "suggest"


@dataclass(frozen=True, slots=True)
class CodeRule:
    """``when``: the conditions (``subject_contains``, ``body_contains``), as for routing
    rules; ``code``: the canonical path."""

    when: RoutingRuleSpec
    code: str
    mode: CodeRuleMode = CodeRuleMode.SUGGEST


def code_rule_effects(
    msg: InboundMessage, rules: Sequence[CodeRule], tree: CodeTree, ticket: NewTicket
) -> tuple[Effect, ...]:
    """The first matching rule's effect on a new ticket; nothing when no rule matches or
    its code is not a live code."""
    rule = next((r for r in rules if rule_matches(r.when, msg)), None)
    code = tree.by_path(rule.code) if rule else None
    if rule is None or code is None:
        return ()
    if rule.mode == CodeRuleMode.SET:
        return (SetCode(ticket, code.path, RULE_ACTOR),)
    return (SuggestCode(ticket, code.path),)
