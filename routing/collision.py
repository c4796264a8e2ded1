"""Collision by mail: an engineer's public reply written to a notice older than the
ticket's newest public reply or customer message is held, not sent blindly."""

from __future__ import annotations

from dataclasses import dataclass

from ticketd.routing.commands import CommandBlock, CommandName

MAX_SHOWN = 5
SHOWN_CHARS = 4000


@dataclass(frozen=True, slots=True)
class ReplyFacts:
    """What the mail answers: whether it is a public reply, forced with ``#send``, and the
    texts recorded on the ticket since the notice it answers was queued (none when it
    answers no notice of ours)."""

    public_reply: bool
    forced: bool
    news: tuple[str, ...]


def reply_facts(block: CommandBlock, news: tuple[str, ...]) -> ReplyFacts:
    forced = any(c.name == CommandName.SEND for c in block.commands)
    return ReplyFacts(bool(block.reply.strip()) and not block.note, forced, news)


def held(facts: ReplyFacts) -> bool:
    """Hold the whole mail: a public reply, not forced, to a ticket that changed since."""
    return facts.public_reply and not facts.forced and bool(facts.news)


def what_is_new(news: tuple[str, ...]) -> str:
    """The newest messages, for the held-reply notice (each cut to a readable length)."""
    shown = news[-MAX_SHOWN:]
    return "\n\n---\n\n".join(text.strip()[:SHOWN_CHARS] for text in shown)
