"""What a ``#code`` line does: set or clear the ticket's code (anyone who may act on it),
or, for managers, ``#code add PATH`` and ``#code retire PATH``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ticketd.routing.codes import CLEAR_WORDS, CodeTree, Refusal, key, plan_add, resolve
from ticketd.routing.effects import AddCodes, Effect, RetireCode, SetCode, Target
from ticketd.routing.model import EngineerInfo, Role
from ticketd.routing.outcomes import APPLIED, OutcomeCode, Reason
from ticketd.routing.ports import Lookup

MANAGER_VERBS = ("add", "retire")


@dataclass(frozen=True, slots=True)
class CodeOutcome:
    """The line's effects and its report (``refused``: why nothing was done)."""

    effects: tuple[Effect, ...] = ()
    done: Reason = APPLIED
    refused: Reason | None = None


def plan_code(
    argument: str,
    actor: EngineerInfo,
    ticket: Target,
    lookup: Lookup,
    earlier: Sequence[Effect] = (),
) -> CodeOutcome:
    """The effects of ``#code ARGUMENT`` written by ``actor`` about ``ticket``; codes that
    ``earlier`` lines of the mail add count as existing."""
    tree = lookup.codes()
    for effect in earlier:
        if isinstance(effect, AddCodes):
            tree = tree.plus(effect.codes)
    verb, _, rest = argument.strip().partition(" ")
    if verb.lower() in MANAGER_VERBS and rest.strip():
        if actor.role != Role.MANAGER:
            manager_only = {
                "add": OutcomeCode.MANAGER_ADDS_CODES,
                "retire": OutcomeCode.MANAGER_RETIRES_CODES,
            }
            return CodeOutcome(refused=Reason(manager_only[verb.lower()]))
        return _manage(verb.lower(), rest, actor, tree)
    if key(argument) in CLEAR_WORDS:
        cleared = Reason(OutcomeCode.CODE_CLEARED)
        return CodeOutcome((SetCode(ticket, "", actor.email),), cleared)
    found = resolve(tree, argument)
    if isinstance(found, Refusal):
        return CodeOutcome(refused=found.why)
    chosen = Reason.of(OutcomeCode.CODE_SET, path=found.path)
    return CodeOutcome((SetCode(ticket, found.path, actor.email),), chosen)


def _manage(verb: str, path: str, actor: EngineerInfo, tree: CodeTree) -> CodeOutcome:
    if verb == "add":
        planned = plan_add(tree, path)
        if isinstance(planned, Refusal):
            return CodeOutcome(refused=planned.why)
        added = Reason.of(OutcomeCode.CODE_ADDED, path=planned.path)
        return CodeOutcome((AddCodes(planned, actor.email),), added)
    code = tree.by_path(path.strip())
    if code is not None and code.id < 0:
        return CodeOutcome(refused=Reason.of(OutcomeCode.CODE_ADDED_HERE, path=code.path))
    if code is None:
        found = resolve(tree, path)
        if isinstance(found, Refusal):
            return CodeOutcome(refused=found.why)
        code = found
    retired = Reason.of(OutcomeCode.CODE_RETIRED, path=code.path)
    return CodeOutcome((RetireCode(code.id, actor.email),), retired)
