"""One greeter conversation: its redacted transcript, ratings, the handover offer.

Pure state, no I/O: the feature decides what to send. Every text stored here
has already passed `server.privacy.redact`; the transcript is what the staff
member who calls the citizen's ticket sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

MAX_LINES = 200
"""The transcript keeps the last this many lines (``greeter_transcript`` carries at most 200)."""
MAX_TEXT = 1000
ANSWER_KINDS = frozenset({"answer"})
"""The greeter lines a citizen's rating applies to (answers from a topic)."""

Outcome = Literal["resolved", "handoff", "abandoned"]


@dataclass
class Offer:
    """A handover waiting for the citizen's consent."""

    reason: str
    service: str
    text: str
    by: Literal["bot", "server"]


@dataclass
class Conversation:
    id: int
    citizen: int
    """The citizen's entity id (one open conversation per citizen)."""
    subject: str
    """The citizen's durable identity: passed to the desks only, never sent to the bot."""
    lang: str
    started: float
    lines: list[dict[str, Any]] = field(default_factory=list)
    turns: int = 0
    """Citizen messages so far."""
    ratings: dict[int, bool] = field(default_factory=dict)
    """By answer number (1, 2, ...): the citizen's rating of that answer."""
    answers: int = 0
    """Greeter answers (kind ``answer``) so far; a rating applies to the latest."""
    unhelpful_since_offer: int = 0
    offer: Offer | None = None
    offers: int = 0
    handing: bool = False
    """The citizen consented; the desks are taking the ticket."""
    handoff_reason: str | None = None
    ticket: str | None = None

    def add(self, who: Literal["citizen", "greeter"], text: str, ts: float, **extra: Any) -> None:
        line: dict[str, Any] = {"from": who, "text": text[:MAX_TEXT], "ts": ts}
        line.update({k: v for k, v in extra.items() if v is not None})
        self.lines.append(line)
        if len(self.lines) > MAX_LINES:
            del self.lines[: len(self.lines) - MAX_LINES]

    @property
    def last_active(self) -> float:
        """When the conversation last changed: its newest line, else its start."""
        return max(self.started, self.lines[-1]["ts"]) if self.lines else self.started

    @property
    def helpful(self) -> int:
        return sum(1 for v in self.ratings.values() if v)

    @property
    def unhelpful(self) -> int:
        return sum(1 for v in self.ratings.values() if not v)

    def rate(self, helpful: bool) -> bool:
        """Rate the latest answer (a second rating of it replaces the first); False if the
        greeter has not answered yet. Counts toward the next offer when newly unhelpful."""
        if self.answers == 0:
            return False
        before = self.ratings.get(self.answers)
        self.ratings[self.answers] = helpful
        if not helpful and before is not False:
            self.unhelpful_since_offer += 1
        return True

    def offered(self, offer: Offer) -> None:
        self.offer = offer
        self.offers += 1
        self.unhelpful_since_offer = 0

    @property
    def outcome(self) -> Outcome:
        """handoff: a ticket was taken; resolved: at least one helpful answer and no
        handover; abandoned: everything else (left without a helpful answer)."""
        if self.ticket is not None:
            return "handoff"
        return "resolved" if self.helpful else "abandoned"

    def transcript(self) -> list[dict[str, Any]]:
        return [dict(line) for line in self.lines]
