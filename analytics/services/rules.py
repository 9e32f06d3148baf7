"""The inspection engine on plain data: rules compiled once, then applied to a message in microseconds.

Nothing here touches the database, so the same code runs in the chat path, the training scorer and the
``bench_qa`` benchmark. What each rule kind checks is declared in its module of analytics/rule_kinds;
this engine composes them. Every word rule of a shop goes into one Aho-Corasick automaton per sender
(the agent and the bot share the shop side's), so a message is scanned once whatever the number of words.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import ahocorasick
import opencc

from ..models import QARule
from ..rule_kinds import KINDS
from ..rule_kinds.base import OnSend, RuleKind

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


# Characters whose fold is their own fold, one at a time: half-width forms, ASCII, general and CJK
# punctuation, kana and CJK ideographs, whose NFKC forms neither compose nor reorder with a neighbour and
# whose lower case does not depend on context. Text made only of them folds with one ``str.translate``.
_PLAIN_RANGES = ((0x00, 0x7F), (0xA0, 0xA0), (0x2000, 0x206F), (0x3000, 0x30FF), (0x3400, 0x9FFF), (0xFF00, 0xFFEF))
# What their folds may contain: no combining mark (it reorders), no kana voicing mark (it composes with
# the kana before it), no Hangul jamo (they compose with each other).
_PLAIN_OUTPUT = ((0x00, 0x7F), (0x2000, 0x206F), (0x3000, 0x30FF), (0x3400, 0x9FFF))


def _slow_fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower().translate(_fold_table())


def _class(codes: Iterable[int], *, negated: bool = False) -> str:
    """A regex character class of ``codes`` (ascending), written as ranges."""
    spans: list[list[int]] = []
    for code in codes:
        if spans and spans[-1][1] == code - 1:
            spans[-1][1] = code
        else:
            spans.append([code, code])
    members = "".join(re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "") for a, b in spans)
    return f"[{'^' if negated else ''}{members}]"


@lru_cache(maxsize=1)
def _plain_fold() -> tuple[list[str | None], re.Pattern[str]]:
    """The fold of every plain character as one translate table, and a pattern finding a character that is
    not plain (text with one takes the general path). The table is a list by code point, which
    ``str.translate`` reads twice as fast as a dict; it ends at the last plain character."""
    output = re.compile(
        _class(
            code
            for low, high in _PLAIN_OUTPUT
            for code in range(low, high + 1)
            if not unicodedata.combining(chr(code)) and code not in (0x3099, 0x309A)
        )
        + "*"
    )
    table: list[str | None] = [None] * (_PLAIN_RANGES[-1][1] + 1)
    plain: list[int] = []
    for low, high in _PLAIN_RANGES:
        for code in range(low, high + 1):
            char = chr(code)
            nfkc = unicodedata.normalize("NFKC", char)
            folded = nfkc.lower().translate(_fold_table())
            if unicodedata.category(char) in {"Cs", "Cn"} or not (output.fullmatch(nfkc) and output.fullmatch(folded)):
                continue
            plain.append(code)
            table[code] = folded or None
    return table, re.compile(_class(plain, negated=True))


def fold(text: str) -> str:
    """Half-width (NFKC), lower-case, Simplified, without whitespace: how words and messages are compared."""
    table, not_plain = _plain_fold()
    if not_plain.search(text) is None:
        return text.translate(table)
    return _slow_fold(text)


def split_words(words: str) -> list[str]:
    """The words of a rule's list, folded and de-duplicated, in their first order."""
    folded = (fold(word) for word in WORD_SPLIT.split(words))
    return list(dict.fromkeys(word for word in folded if word))


@dataclass(frozen=True)
class RuleSpec:
    """What the engine needs of a QARule; detached from the database so it can be cached per process."""

    id: int
    name: str
    kind: str
    severity: str
    words: tuple[str, ...] = ()
    threshold: int | None = None
    on_send: str = "alert"

    @classmethod
    def of(cls, rule: QARule) -> "RuleSpec":
        return cls(
            id=rule.pk,
            name=rule.name,
            kind=rule.kind,
            severity=rule.severity,
            words=tuple(split_words(rule.words)) if KINDS[RuleKind(rule.kind)].words_help is not None else (),
            threshold=rule.threshold,
            on_send=rule.on_send,
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


class Hit(NamedTuple):
    """A rule a message breaks and what gave it away (a tuple: most inspected messages with words make some)."""

    rule: RuleSpec
    evidence: str


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
    """A shop's enabled rules (its own and the global ones), ready to inspect messages.

    Compiling sorts the rules by the senders their kind inspects: per sender, one automaton of every word
    rule (so a message is scanned once whatever the number of words) and the other rules' checks.
    """

    def __init__(self, rules: Iterable[RuleSpec]) -> None:
        self.rules = list(rules)
        self.by_id = {rule.id: rule for rule in self.rules}
        kinds = [(rule, KINDS[RuleKind(rule.kind)]) for rule in self.rules]
        automata: dict[tuple[int, ...], ahocorasick.Automaton | None] = {}
        # sender -> (word automaton or None, [(rule, check)], whether to fold the text)
        self.plans: dict[str, tuple[ahocorasick.Automaton | None, list, bool]] = {}
        for sender in ("agent", "bot", "shopper"):
            word_rules = [rule for rule, spec in kinds if spec.words_help is not None and sender in spec.senders]
            key = tuple(rule.id for rule in word_rules)
            if key not in automata:  # the agent and the bot usually share theirs
                automata[key] = _automaton(word_rules)
            checks = [
                (rule, spec.check_message, spec.reads_text)
                for rule, spec in kinds
                if spec.check_message is not None and sender in spec.senders
            ]
            if automata[key] is not None or checks:
                reads_text = automata[key] is not None or any(reads for _, _, reads in checks)
                self.plans[sender] = (automata[key], [(rule, check) for rule, check, _ in checks], reads_text)
        self.conversation_checks = [
            (rule, spec.check_conversation) for rule, spec in kinds if spec.check_conversation is not None
        ]
        self._fold_plain, not_plain = _plain_fold()
        self._not_plain = not_plain.search
        self.needs_wait_time = any(spec.needs_wait_time for _, spec in kinds)
        self.longest_streak = max(
            (rule.threshold or 0 for rule, spec in kinds if spec.needs_fallback_streak), default=0
        )

    def inspect(self, facts: MessageFacts) -> list[Hit]:
        """Every rule the message breaks, each once, with what gave it away."""
        plan = self.plans.get(facts.sender)
        if plan is None:
            return []
        automaton, checks, reads_text = plan
        folded = ""
        if reads_text:
            # ``fold`` inlined: this runs for every message of every shop.
            text = facts.text
            folded = text.translate(self._fold_plain) if self._not_plain(text) is None else _slow_fold(text)
        hits: list[Hit] = []
        if automaton is not None:
            found: dict[int, str] | None = None
            for _end, (word, rule_ids) in automaton.iter(folded):
                if found is None:
                    found = {}
                for rule_id in rule_ids:
                    found.setdefault(rule_id, word)
            if found:
                hits = [Hit(self.by_id[rule_id], word) for rule_id, word in found.items()]
        for rule, check in checks:
            evidence = check(rule, facts, folded)
            if evidence:
                hits.append(Hit(rule, evidence))
        return hits

    def guard(self, speaker: str, text: str) -> list[Hit]:
        """The breaches of the rules checked before sending (chat.guard), for a message not yet stored."""
        return [
            hit
            for hit in self.inspect(MessageFacts(text=text, sender=speaker))
            if hit.rule.on_send != OnSend.ALERT and KINDS[RuleKind(hit.rule.kind)].before_send
        ]

    def inspect_conversation(self, facts: ConversationFacts) -> list[Hit]:
        """The conversation-level rules, run when the conversation closes."""
        hits: list[Hit] = []
        for rule, check in self.conversation_checks:
            evidence = check(rule, facts)
            if evidence:
                hits.append(Hit(rule, evidence))
        return hits
