"""Classification codes: the tree (at most three levels) as frozen values, path parsing,
and resolving what an engineer wrote to one live code.

A path is written with ``/`` or `` > `` between segments (``배송/파손/교환요청``). A segment
matches a node by its canonical name or either label, case-insensitively after NFKC.
Resolution tries, in order, and stops at the first tier with any candidate: the exact
path; the segments as an end-anchored subsequence of a code's path (``파손/교환요청``, a
leaf alone); the same with one typo per segment of four or more characters; segments that
begin the nodes' names. One candidate resolves; several are refused with the candidates.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ticketd.routing.outcome_words import reason_words
from ticketd.routing.outcomes import OutcomeCode, Reason

MAX_DEPTH = 3
MAX_SEGMENT = 60
MAX_CANDIDATES = 5
CLEAR_WORDS = frozenset({"", "none", "-"})
_SPLIT = re.compile(r"\s+>\s+|/")


@dataclass(frozen=True, slots=True)
class Code:
    """One node of the tree; ``path`` is the canonical names joined by ``/``."""

    id: int
    parent_id: int | None
    depth: int
    name: str
    label_ko: str
    label_en: str
    path: str
    retired: bool = False

    def label(self, language: str) -> str:
        """The node's label in ``language`` (``ko`` or ``en``), else its name."""
        label = self.label_en if language == "en" else self.label_ko
        return label or self.name

    def words(self) -> frozenset[str]:
        """The normalised words this node answers to."""
        return frozenset(k for k in map(key, (self.name, self.label_ko, self.label_en)) if k)


@dataclass(frozen=True, slots=True)
class CodeTree:
    """Every code, retired ones included, ordered by path."""

    codes: tuple[Code, ...] = ()

    @classmethod
    def of(cls, codes: Iterable[Code]) -> CodeTree:
        return cls(tuple(sorted(codes, key=lambda c: key(c.path))))

    def by_id(self, code_id: int | None) -> Code | None:
        return next((c for c in self.codes if c.id == code_id), None)

    def by_path(self, path: str, *, live: bool = True) -> Code | None:
        """The code whose canonical path is ``path`` (case-insensitively)."""
        wanted = key(path)
        found = (c for c in self.codes if key(c.path) == wanted and not (live and c.retired))
        return next(found, None)

    def chain(self, code: Code) -> tuple[Code, ...]:
        """The code's ancestors from the root, and the code."""
        chain = [code]
        while (parent := self.by_id(chain[-1].parent_id)) is not None and len(chain) < 9:
            chain.append(parent)
        return tuple(reversed(chain))

    def children(self, code_id: int | None) -> tuple[Code, ...]:
        return tuple(c for c in self.codes if c.parent_id == code_id)

    def subtree(self, code: Code) -> tuple[Code, ...]:
        """The code and every descendant."""
        found = [code]
        for child in self.children(code.id):
            found.extend(self.subtree(child))
        return tuple(found)

    def height(self, code: Code) -> int:
        """Levels from the code down to its deepest descendant (1: a leaf)."""
        return 1 + max((self.height(c) for c in self.children(code.id)), default=0)

    def live(self) -> tuple[Code, ...]:
        return tuple(c for c in self.codes if not c.retired)

    def plus(self, new: NewCodes) -> CodeTree:
        """The tree with ``new``'s nodes, not stored yet (negative ids)."""
        added: list[Code] = []
        parent_id, path = new.parent_id, new.parent_path
        for name in new.names:
            path = f"{path}/{name}" if path else name
            code_id = -len(self.codes) - len(added) - 1
            added.append(Code(code_id, parent_id, path.count("/") + 1, name, name, name, path))
            parent_id = code_id
        return CodeTree.of((*self.codes, *added))


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a path was refused (the full paths it might have meant among its arguments)."""

    why: Reason
    candidates: tuple[str, ...] = ()

    @classmethod
    def of(cls, code: OutcomeCode, candidates: Sequence[str] = (), **args: str) -> Refusal:
        if candidates:
            args["candidates"] = ", ".join(candidates)
        return cls(Reason.of(code, **args), tuple(candidates))

    @property
    def reason(self) -> str:
        return reason_words(self.why, "en")

    def __str__(self) -> str:
        return self.reason


def key(text: str) -> str:
    """A word as it is compared: NFKC, case-folded, inner whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def parse_path(text: str) -> tuple[str, ...] | Refusal:
    """The segments of a written path (NFKC, trimmed), or why it is not one."""
    written = unicodedata.normalize("NFKC", text).strip()
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in written):
        return Refusal.of(OutcomeCode.CODE_CONTROL_CHARS)
    segments = tuple(" ".join(s.split()) for s in _SPLIT.split(written))
    if not written or any(not s for s in segments):
        return Refusal.of(OutcomeCode.NOT_A_CODE_PATH, text=text.strip()[:80])
    if len(segments) > MAX_DEPTH:
        return Refusal.of(OutcomeCode.CODE_TOO_DEEP, count=str(MAX_DEPTH))
    if any(len(s) > MAX_SEGMENT for s in segments):
        return Refusal.of(OutcomeCode.CODE_SEGMENT_TOO_LONG, count=str(MAX_SEGMENT))
    return segments


def within_one(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by at most one edit (a swap of neighbours too)."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diffs) == 1 or (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and (a[diffs[0]], a[diffs[1]]) == (b[diffs[1]], b[diffs[0]])
        )
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


Match = Callable[[str, Code], bool]


def _exact(segment: str, node: Code) -> bool:
    return segment in node.words()


def _typo(segment: str, node: Code) -> bool:
    words = node.words()
    return segment in words or any(
        within_one(segment, k) for k in words if min(len(k), len(segment)) >= 4
    )


def _prefix(segment: str, node: Code) -> bool:
    words = node.words()
    return segment in words or (len(segment) >= 2 and any(k.startswith(segment) for k in words))


def _anchored(segments: Sequence[str], chain: Sequence[Code], match: Match) -> bool:
    """The segments, in order, match nodes of ``chain``, the last one its end."""
    if not match(segments[-1], chain[-1]):
        return False
    position = len(chain) - 1
    for segment in reversed(segments[:-1]):
        position -= 1
        while position >= 0 and not match(segment, chain[position]):
            position -= 1
        if position < 0:
            return False
    return True


def _whole(segments: Sequence[str], chain: Sequence[Code], match: Match) -> bool:
    return len(chain) == len(segments) and all(map(match, segments, chain))


def resolve(tree: CodeTree, text: str) -> Code | Refusal:
    """The one live code ``text`` names, or a refusal with candidates or suggestions."""
    parsed = parse_path(text)
    if isinstance(parsed, Refusal):
        return parsed
    segments = tuple(map(key, parsed))
    chains = [tree.chain(c) for c in tree.live()]
    tiers: tuple[tuple[Callable[[Sequence[str], Sequence[Code], Match], bool], Match], ...] = (
        (_whole, _exact),
        (_anchored, _exact),
        (_anchored, _typo),
        (_anchored, _prefix),
    )
    for test, match in tiers:
        found = [chain[-1] for chain in chains if test(segments, chain, match)]
        if len(found) == 1:
            return found[0]
        if found:
            paths = tuple(c.path for c in found[:MAX_CANDIDATES])
            count = str(len(found))
            return Refusal.of(OutcomeCode.CODE_AMBIGUOUS, paths, text=text.strip(), count=count)
    retired = tree.by_path("/".join(parsed), live=False)
    if retired is not None and retired.retired:
        return Refusal.of(OutcomeCode.CODE_IS_RETIRED, path=retired.path)
    closest = suggestions(tree, parsed)
    missing = OutcomeCode.NO_SUCH_CODE_NEAR if closest else OutcomeCode.NO_SUCH_CODE
    return Refusal.of(missing, closest, text=text.strip())


def suggestions(tree: CodeTree, segments: Sequence[str]) -> tuple[str, ...]:
    """Up to three live paths closest to what was written."""
    written = key("/".join(segments))
    live = {key(c.path): c.path for c in tree.live()}
    leaves = {key(c.name): c.path for c in tree.live()}
    close = difflib.get_close_matches(written, list(live), n=3, cutoff=0.4)
    close += difflib.get_close_matches(key(segments[-1]), list(leaves), n=3, cutoff=0.5)
    paths = [live.get(c) or leaves[c] for c in close]
    return tuple(dict.fromkeys(paths))[:3]


@dataclass(frozen=True, slots=True)
class NewCodes:
    """What ``#code add`` creates: ``names`` under the live code ``parent_id`` (None: at
    the root), each a level below the one before."""

    parent_id: int | None
    parent_path: str
    names: tuple[str, ...]

    @property
    def path(self) -> str:
        return "/".join((self.parent_path, *self.names) if self.parent_path else self.names)


def plan_add(tree: CodeTree, text: str) -> NewCodes | Refusal:
    """The nodes to create for ``text`` (missing ancestors included), or why not."""
    parsed = parse_path(text)
    if isinstance(parsed, Refusal):
        return parsed
    if tree.by_path("/".join(parsed)) is not None:
        return Refusal.of(OutcomeCode.CODE_EXISTS, path="/".join(parsed))
    parent: Code | None = None
    for depth in range(len(parsed) - 1, 0, -1):
        parent = tree.by_path("/".join(parsed[:depth]))
        if parent is not None:
            break
    done = parent.depth if parent else 0
    return NewCodes(parent.id if parent else None, parent.path if parent else "", parsed[done:])


def check_move(tree: CodeTree, code: Code, parent: Code | None) -> Reason | None:
    """Why ``code`` may not move under ``parent`` (None: at the root), or None."""
    if parent is not None and parent in tree.subtree(code):
        return Reason.of(OutcomeCode.CODE_UNDER_ITSELF)
    if (parent.depth if parent else 0) + tree.height(code) > MAX_DEPTH:
        return Reason.of(OutcomeCode.CODE_TOO_DEEP, count=str(MAX_DEPTH))
    if parent is not None and parent.retired:
        return Reason.of(OutcomeCode.CODE_IS_RETIRED, path=parent.path)
    siblings = tree.children(parent.id if parent else None)
    if any(key(s.name) == key(code.name) and s.id != code.id and not s.retired for s in siblings):
        return Reason.of(OutcomeCode.CODE_NAME_TAKEN, name=code.name)
    return None


def moved_path(parent: Code | None, name: str) -> str:
    """A node's canonical path under ``parent``."""
    return f"{parent.path}/{name}" if parent else name
