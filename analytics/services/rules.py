"""The inspection engine on plain data: rules compiled once, then applied to a message in microseconds.

Nothing here touches the database, so the same code runs in the chat path, the training scorer and the
``bench_qa`` benchmark. Every word rule of a shop goes into one Aho-Corasick automaton per audience
(words said by the shop's side; words said by the shopper), so a message is scanned once whatever the
number of words.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import ahocorasick
import opencc

from chat.intents import Intent

from ..models import QARule

Kind = QARule.Kind
SHOP_SIDE = ("agent", "bot")
WORD_SPLIT = re.compile(r"[\n\r,，、;；]+")


@lru_cache(maxsize=1)
def _fold_table() -> dict[int, str | None]:
    """Traditional → Simplified, one character at a time, and whitespace dropped.

    ``knowledge.text.normalize`` converts whole phrases with OpenCC, about 8,000 texts a second: too slow
    for inspecting every message. Word matching only needs characters folded, which ``str.translate``
    does in C from OpenCC's own character table.
    """
    table: dict[int, str | None] = {}
    path = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
    for line in path.read_text(encoding="utf-8").splitlines():
        traditional, _, simplified = line.partition("\t")
        simplified = simplified.split(" ")[0]
        if len(traditional) == 1 and len(simplified) == 1 and traditional != simplified:
            table[ord(traditional)] = simplified
    for space in " \t\r\n\u00a0\u3000":
        table[ord(space)] = None
    return table


def fold(text: str) -> str:
    """Half-width (NFKC), lower-case, Simplified, without whitespace: how words and messages are compared."""
    return unicodedata.normalize("NFKC", text).lower().translate(_fold_table())


def split_words(words: str) -> list[str]:
    """The words of a rule's list, folded and de-duplicated, in their first order."""
    folded = (fold(word) for word in WORD_SPLIT.split(words))
    return list(dict.fromkeys(word for word in folded if word))


# Mainland mobile numbers (optionally +86) and 18-digit resident ID numbers, on folded text (no spaces).
PHONE = re.compile(r"(?<![0-9])(?:\+?86-?)?(1[3-9][0-9](?:-?[0-9]{4}){2})(?![0-9])")
ID_NUMBER = re.compile(
    r"(?<![0-9])([1-9][0-9]{5}(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9x])(?![0-9])"
)
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CODES = "10x98765432"


def id_number_checksum_ok(number: str) -> bool:
    """GB 11643: the 18th character is the weighted sum of the first 17 digits mod 11, mapped."""
    total = sum(int(digit) * weight for digit, weight in zip(number[:17], ID_WEIGHTS, strict=True))
    return ID_CHECK_CODES[total % 11] == number[17].lower()


def find_personal_data(folded: str) -> str:
    """The first phone or ID number in folded text, masked for the record; "" when there is none."""
    for match in ID_NUMBER.finditer(folded):
        number = match.group(1)
        if id_number_checksum_ok(number):
            return f"{number[:6]}********{number[-4:]}"
    match = PHONE.search(folded)
    if match:
        digits = match.group(1).replace("-", "")
        return f"{digits[:3]}****{digits[-4:]}"
    return ""


@dataclass(frozen=True)
class RuleSpec:
    """What the engine needs of a QARule; detached from the database so it can be cached per process."""

    id: int
    name: str
    kind: str
    severity: str
    words: tuple[str, ...] = ()
    threshold: int | None = None

    @classmethod
    def of(cls, rule: QARule) -> "RuleSpec":
        return cls(
            id=rule.pk,
            name=rule.name,
            kind=rule.kind,
            severity=rule.severity,
            words=tuple(split_words(rule.words)) if rule.kind in QARule.WORD_KINDS else (),
            threshold=rule.threshold,
        )


@dataclass(frozen=True)
class MessageFacts:
    """A message as the engine sees it. Timing facts are filled in only when a rule needs them."""

    text: str
    sender: str
    intent: str = ""
    # Agent messages: seconds the shopper had been waiting (since the hand-off for the first reply).
    wait_seconds: float | None = None
    first_agent_reply: bool = False
    # Bot fallbacks: how many fallbacks in a row end with this message.
    fallback_streak: int = 0


@dataclass(frozen=True)
class ConversationFacts:
    """A closed conversation as the conversation-level rules see it."""

    handed_over: bool
    agent_replied: bool
    # Sender and intent of the last message before the closing survey ("" when there was none).
    last_sender: str
    last_intent: str
    satisfaction: int | None
    # Seconds from the hand-off to the close when no agent ever answered.
    unanswered_handoff_seconds: float | None = None


@dataclass(frozen=True)
class Hit:
    rule: RuleSpec
    evidence: str


def unresolved_reason(facts: ConversationFacts) -> str:
    """Why a closed conversation counts as unresolved, or "" when it was resolved."""
    if facts.handed_over and not facts.agent_replied:
        return "转人工后无客服回复"
    if facts.last_sender == "shopper":
        return "顾客最后的问题无人回答"
    if facts.last_sender == "bot" and facts.last_intent == Intent.FALLBACK:
        return "以机器人无法回答结束"
    if facts.satisfaction is not None and facts.satisfaction <= 2:
        return f"满意度 {facts.satisfaction} 分"
    return ""


def _automaton(rules: Iterable[RuleSpec]) -> ahocorasick.Automaton | None:
    entries: dict[str, list[int]] = {}
    for rule in rules:
        for word in rule.words:
            entries.setdefault(word, []).append(rule.id)
    if not entries:
        return None
    automaton = ahocorasick.Automaton()
    for word, rule_ids in entries.items():
        automaton.add_word(word, (word, tuple(rule_ids)))
    automaton.make_automaton()
    return automaton


class CompiledRules:
    """A shop's enabled rules (its own and the global ones), ready to inspect messages."""

    def __init__(self, rules: Iterable[RuleSpec]) -> None:
        self.rules = list(rules)
        self.by_id = {rule.id: rule for rule in self.rules}
        by_kind: dict[str, list[RuleSpec]] = {}
        for rule in self.rules:
            by_kind.setdefault(rule.kind, []).append(rule)
        self.by_kind = by_kind
        self.shop_side_words = _automaton(by_kind.get(Kind.BANNED_WORDS, []) + by_kind.get(Kind.FORBIDDEN_PROMISE, []))
        self.shopper_words = _automaton(by_kind.get(Kind.ANGRY_SHOPPER, []))
        self.personal_data = by_kind.get(Kind.PERSONAL_DATA, [])
        self.slow_first = by_kind.get(Kind.SLOW_FIRST_RESPONSE, [])
        self.slow_reply = by_kind.get(Kind.SLOW_REPLY, [])
        self.fallback_streak = by_kind.get(Kind.FALLBACK_STREAK, [])
        self.unresolved = by_kind.get(Kind.UNRESOLVED_CLOSE, [])

    @property
    def needs_wait_time(self) -> bool:
        return bool(self.slow_first or self.slow_reply)

    @property
    def longest_streak(self) -> int:
        return max((rule.threshold or 0 for rule in self.fallback_streak), default=0)

    def _word_hits(self, automaton: ahocorasick.Automaton | None, folded: str) -> list[Hit]:
        if automaton is None:
            return []
        found: dict[int, str] = {}
        for _end, (word, rule_ids) in automaton.iter(folded):
            for rule_id in rule_ids:
                found.setdefault(rule_id, word)
        return [Hit(self.by_id[rule_id], word) for rule_id, word in found.items()]

    def inspect(self, facts: MessageFacts) -> list[Hit]:
        """Every rule the message breaks, each once, with what gave it away."""
        sender = facts.sender
        if sender == "shopper":
            return self._word_hits(self.shopper_words, fold(facts.text)) if self.shopper_words else []
        if sender not in SHOP_SIDE:
            return []
        hits: list[Hit] = []
        if self.shop_side_words is not None or (sender == "agent" and self.personal_data):
            folded = fold(facts.text)
            hits = self._word_hits(self.shop_side_words, folded)
            if sender == "agent" and self.personal_data:
                masked = find_personal_data(folded)
                if masked:
                    hits.extend(Hit(rule, masked) for rule in self.personal_data)
        if sender == "agent" and facts.wait_seconds is not None:
            timed = self.slow_first if facts.first_agent_reply else self.slow_reply
            hits.extend(
                Hit(rule, f"{facts.wait_seconds:.0f}s") for rule in timed if facts.wait_seconds > (rule.threshold or 0)
            )
        if sender == "bot" and facts.intent == Intent.FALLBACK and facts.fallback_streak:
            # Exactly at the threshold: one finding per streak, however long it goes on.
            hits.extend(
                Hit(rule, f"{facts.fallback_streak}×fallback")
                for rule in self.fallback_streak
                if facts.fallback_streak == rule.threshold
            )
        return hits

    def inspect_conversation(self, facts: ConversationFacts) -> list[Hit]:
        """The conversation-level rules, run when the conversation closes."""
        hits: list[Hit] = []
        reason = unresolved_reason(facts)
        if reason:
            hits.extend(Hit(rule, reason) for rule in self.unresolved)
        if facts.unanswered_handoff_seconds is not None:
            hits.extend(
                Hit(rule, f"{facts.unanswered_handoff_seconds:.0f}s")
                for rule in self.slow_first
                if facts.unanswered_handoff_seconds > (rule.threshold or 0)
            )
        return hits
