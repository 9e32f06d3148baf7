"""Impact preview: what a card or synonym change would do to the questions shoppers actually asked.

Before a trainer saves, the shop's recent logged questions (the last ``PREVIEW_DAYS`` days of the answer log, the
newest ``PREVIEW_QUESTIONS``) are answered twice: by the shop's saved index, and by a candidate index built in
memory from the same rows with the change applied (``Draft.apply``). Nothing is written and the saved index is
not touched. What moves is reported: questions newly answered, newly lost (answered before, asked back or
fallen back after), and answered by another card.

A question asked many times is answered once and counted as often as it was asked. Only the questions the change
can reach are answered: those sharing a word or a character pair (after the analyser: synonyms, sound-alike
words) with a text the change adds, removes or re-reads (``Draft.touches``), and for a synonym change those holding
one of the group's words. Any other question scores no text of the change above zero, before or after, so its
candidates are the same texts; what is left is the shop-wide drift of word weights, one text in a shop's
thousands, which the preview does not replay; in a shop of fewer than ``FULL_REPLAY_TEXTS`` texts, where one
text weighs more, every question is replayed.
"""

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from weakref import WeakKeyDictionary

import numpy as np
from django.utils import timezone
from django.utils.translation import gettext as _

from shops.models import Shop

from .engine import Analyzer, Index, IndexedCard, sound
from .index import KnowledgeRows, build_index, read_knowledge, shop_index
from .models import AnswerLog, AnswerOutcome
from .services import Answer, answer_from_index
from .text import char_bigrams, strip_punctuation

PREVIEW_DAYS = 30
PREVIEW_QUESTIONS = 5_000
# Below this many indexed texts every logged question is replayed: there one text is a noticeable share of the
# shop's word weights (the drift the reach test leaves out), and answering is cheap.
FULL_REPLAY_TEXTS = 2_000
# Each list of moved questions shows at most this many; the counts cover them all.
SHOWN = 50
# The id a card not saved yet has in the candidate index.
DRAFT_CARD_ID = 0


@dataclass(frozen=True)
class CardDraft:
    """A card as the form would save it: ``card_id`` None for a new card."""

    card_id: int | None
    question: str
    answer: str
    enabled: bool = True
    similar: tuple[str, ...] = ()
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    quick_replies: tuple[str, ...] = ()
    image_url: str = ""

    @property
    def _id(self) -> int:
        return DRAFT_CARD_ID if self.card_id is None else self.card_id

    def touches(self, rows: KnowledgeRows) -> tuple[Callable[[int, str], bool], Callable[[int, str], bool]]:
        """Texts the change adds, removes or changes, in the saved index and in the candidate one: the card's
        texts it drops (all of them when it switches the card off or changes its answer or validity), and every
        text it will have. A text the card keeps reads the same in both indexes: the candidate side covers it."""
        saved = next((card for card in rows.cards if card.card_id == self._id), None)
        same = (
            saved is not None
            and self.enabled
            and (saved.answer, saved.valid_from, saved.valid_to) == (self.answer, self.valid_from, self.valid_to)
        )
        kept = {self.question, *self.similar} if same else set()
        return (
            lambda card_id, text: card_id == self._id and text not in kept,
            lambda card_id, text: card_id == self._id,
        )

    def redefined_words(self, rows: KnowledgeRows) -> tuple[str, ...]:
        return ()  # the analyser stays the same

    def apply(self, rows: KnowledgeRows) -> KnowledgeRows:
        """The rows as they would read after the save: the card keeps its place (a new one comes last), its
        remaining similar questions keep their order and new ones follow them."""
        card_id = self._id
        old = next((card for card in rows.cards if card.card_id == card_id), None)
        draft = IndexedCard(
            card_id,
            self.question,
            self.answer,
            self.quick_replies,
            old.product_ids if old is not None else (),
            self.image_url,
            self.valid_from,
            self.valid_to,
        )
        if not self.enabled:
            cards = [card for card in rows.cards if card.card_id != card_id]
        elif old is None:
            cards = [*rows.cards, draft]
        else:
            cards = [draft if card.card_id == card_id else card for card in rows.cards]
        wanted = [text for text in dict.fromkeys(t.strip() for t in self.similar) if text and text != self.question]
        kept = [text for text in rows.similar.get(card_id, ()) if text in wanted]
        similar = {**rows.similar, card_id: kept + [text for text in wanted if text not in kept]}
        return replace(rows, cards=cards, similar=similar)


@dataclass(frozen=True)
class SynonymDraft:
    """A synonym group as the form would save it. ``original``: the canonical word of the group being changed
    (None for a new group); ``words`` empty with ``delete``: the group is removed."""

    canonical: str
    words: tuple[str, ...]
    is_global: bool = False
    original: str | None = None
    delete: bool = False

    def redefined_words(self, rows: KnowledgeRows) -> tuple[str, ...]:
        """The group's words, before and after the change: every text holding one is read anew."""
        groups = rows.global_groups if self.is_global else rows.shop_groups
        old = next((words for canonical, words in groups if canonical == self.original), [])
        found = (self.original or "", *old, self.canonical, *self.words)
        return tuple(w for w in dict.fromkeys(strip_punctuation(w) for w in found) if w)

    def touches(self, rows: KnowledgeRows) -> tuple[Callable[[int, str], bool], Callable[[int, str], bool]]:
        """Every text holding one of the group's words, in both indexes: the analyser reads it anew."""
        words = self.redefined_words(rows)

        def holds(card_id: int, text: str) -> bool:
            return any(word in strip_punctuation(text) for word in words)

        return holds, holds

    def apply(self, rows: KnowledgeRows) -> KnowledgeRows:
        groups = list(rows.global_groups if self.is_global else rows.shop_groups)
        position = next((n for n, (canonical, _) in enumerate(groups) if canonical == self.original), None)
        new = (self.canonical, list(self.words))
        if position is None:
            if not self.delete:
                groups.append(new)
        elif self.delete:
            del groups[position]
        else:
            groups[position] = new
        return replace(rows, global_groups=groups) if self.is_global else replace(rows, shop_groups=groups)


Draft = CardDraft | SynonymDraft


@dataclass(frozen=True)
class Move:
    question: str
    times: int
    before: Answer
    after: Answer
    before_card: str = ""
    after_card: str = ""

    @property
    def before_label(self) -> str:
        return self.before_card or str(AnswerOutcome(self.before.outcome).label)

    @property
    def after_label(self) -> str:
        return self.after_card or str(AnswerOutcome(self.after.outcome).label)


@dataclass
class Impact:
    replayed: int = 0  # logged questions replayed (with repeats)
    distinct: int = 0
    reached: int = 0  # of ``replayed``, the questions the change can reach (answered twice)
    newly_answered: list[Move] = field(default_factory=list)
    newly_lost: list[Move] = field(default_factory=list)
    other_card: list[Move] = field(default_factory=list)
    # Counted with repeats; the lists above hold at most SHOWN questions each, most asked first.
    newly_answered_count: int = 0
    newly_lost_count: int = 0
    other_card_count: int = 0
    seconds: float = 0.0
    since: datetime | None = None

    @property
    def changed(self) -> bool:
        return bool(self.newly_answered_count or self.newly_lost_count or self.other_card_count)

    @property
    def sections(self) -> list[tuple[str, str, list[Move], int]]:
        """(key, title, shown questions, count with repeats) of each kind of move, for the admin."""
        return [
            ("answered", _("Newly answered"), self.newly_answered, self.newly_answered_count),
            ("lost", _("Newly lost"), self.newly_lost, self.newly_lost_count),
            ("other", _("Answered by another card"), self.other_card, self.other_card_count),
        ]


def logged_questions(shop: Shop, *, now: datetime | None = None) -> Counter[str]:
    """The shop's questions of the last ``PREVIEW_DAYS`` days (newest ``PREVIEW_QUESTIONS``), with how often each
    was asked."""
    since = (now or timezone.now()) - timedelta(days=PREVIEW_DAYS)
    texts = (
        AnswerLog.objects.filter(shop=shop, created_at__gte=since)
        .order_by("-created_at")
        .values_list("question", flat=True)[:PREVIEW_QUESTIONS]
    )
    return Counter(text.strip() for text in texts if text.strip())


def _card_names(index: Index) -> dict[int, str]:
    return {card.card_id: card.question for card in index.cards}


def _name(names: dict[int, str], answer: Answer) -> str:
    return "" if answer.card_id is None else names.get(answer.card_id, "")


class Reach:
    """Whether a change can reach a question (see the module doc).

    In each index (before and after the change), first a cheap test: the question shares a word or a
    (sound-alike) character pair with a text the change touches. Then the exact one: one of those texts scores
    high enough to be among the question's reranked candidates, that is fewer than ``RERANK_TEXTS`` texts score
    above it (counting the texts of cards outside their validity window, which the engine skips, as if they
    were above it). A question holding a word of a changed synonym group is always reached.
    """

    def __init__(
        self,
        before: Index,
        after: Index,
        touches: tuple[Callable[[int, str], bool], Callable[[int, str], bool]],
        words: tuple[str, ...],
    ) -> None:
        """``touches``: for the saved and the candidate index, whether the change adds, removes or re-reads
        a text (card id, text)."""
        self.words = words
        self.sides: list[tuple[Index, np.ndarray, int, frozenset[str], frozenset[str], frozenset[str]]] = []
        now = timezone.now()
        for index, touched in zip((before, after), touches, strict=True):
            docs = [
                doc
                for doc, (position, text) in enumerate(zip(index.doc_card.tolist(), index.doc_text, strict=True))
                if touched(index.cards[position].card_id, text)
            ]
            if not docs:
                continue
            invalid = [n for n, card in enumerate(index.cards) if not card.valid_at(now)]
            skipped = int(np.isin(index.doc_card, invalid).sum()) if invalid else 0
            terms = frozenset().union(*(index.doc_terms[doc] for doc in docs))
            sounds = frozenset(
                sound(gram)
                for doc in docs
                for gram in char_bigrams("".join(index.analyzer.tokens(index.doc_text[doc])))
            )
            # The card's answer brings its texts in too (the engine's answer signal, on plain character pairs).
            answers = {index.cards[int(index.doc_card[doc])].answer for doc in docs}
            answer_grams = frozenset(gram for answer in answers for gram in char_bigrams(answer))
            self.sides.append(
                (index, np.asarray(docs, dtype=np.int64), Index.RERANK_TEXTS + skipped, terms, sounds, answer_grams)
            )

    def __call__(self, question: str) -> bool:
        if self.words and any(word in strip_punctuation(question) for word in self.words):
            return True  # the question itself is read anew
        for index, docs, rank, terms, sounds, answer_grams in self.sides:
            tokens = index.query_tokens(question)
            if (
                terms.isdisjoint(tokens)
                and not any(sound(g) in sounds for g in char_bigrams("".join(tokens)))
                and answer_grams.isdisjoint(char_bigrams(question))
            ):
                continue
            scores = index.raw_scores(question, tokens)
            if scores is None:
                continue
            raw = scores[3]
            best = float(raw[docs].max())
            if best > 0 and np.count_nonzero(raw > best) < rank:
                return True
        return False


def replay(before: Index, after: Index, questions: Counter[str], reach: Reach | None = None) -> Impact:
    """Answer the questions ``reach`` lets through (all without it) with both indexes and sort what moved
    (most asked first)."""
    impact = Impact(replayed=sum(questions.values()), distinct=len(questions))
    names_before, names_after = _card_names(before), _card_names(after)
    for text, times in questions.most_common():
        if reach is not None and not reach(text):
            continue
        impact.reached += times
        old, new = answer_from_index(before, text), answer_from_index(after, text)
        was = old.outcome == AnswerOutcome.ANSWER
        now = new.outcome == AnswerOutcome.ANSWER
        if was == now and (not was or old.card_id == new.card_id):
            continue
        move = Move(text, times, old, new, _name(names_before, old), _name(names_after, new))
        if was and now:
            impact.other_card_count += times
            bucket = impact.other_card
        elif now:
            impact.newly_answered_count += times
            bucket = impact.newly_answered
        else:
            impact.newly_lost_count += times
            bucket = impact.newly_lost
        if len(bucket) < SHOWN:
            bucket.append(move)
    return impact


class RememberingAnalyzer(Analyzer):
    """The saved index's analyser, remembering each text's tokens: a change that leaves the synonyms alone
    builds its candidate index from the same readings, and a trainer's next preview of the same saved
    knowledge does not read the shop's thousands of texts again."""

    def __init__(self, analyzer: Analyzer) -> None:
        self.__dict__.update(analyzer.__dict__)
        self.memo: dict[str, list[str]] = {}

    def tokens(self, text: str, vocabulary: dict[str, float] | None = None) -> list[str]:
        if vocabulary is not None:
            return super().tokens(text, vocabulary)
        found = self.memo.get(text)
        if found is None:
            found = self.memo[text] = super().tokens(text)
        return found


# One per saved index, dropped with it (a rebuild after any change of the shop's knowledge starts afresh).
_remembering: "WeakKeyDictionary[Index, RememberingAnalyzer]" = WeakKeyDictionary()


def _candidate_index(before: Index, rows: KnowledgeRows, draft: Draft) -> Index:
    if draft.redefined_words(rows):
        return build_index(draft.apply(rows))  # other synonyms: every text is read anew
    analyzer = _remembering.get(before)
    if analyzer is None:
        analyzer = _remembering[before] = RememberingAnalyzer(before.analyzer)
    return build_index(draft.apply(rows), analyzer)


def preview(shop: Shop, draft: Draft, *, now: datetime | None = None) -> Impact:
    """What ``draft`` would change in the answers to the shop's recent logged questions; writes nothing."""
    started = time.perf_counter()
    now = now or timezone.now()
    questions = logged_questions(shop, now=now)
    before = shop_index(shop)
    rows = read_knowledge(shop.pk)
    after = _candidate_index(before, rows, draft)
    reach = None
    if after.n_docs >= FULL_REPLAY_TEXTS:
        reach = Reach(before, after, draft.touches(rows), draft.redefined_words(rows))
    impact = replay(before, after, questions, reach)
    impact.since = now - timedelta(days=PREVIEW_DAYS)
    impact.seconds = time.perf_counter() - started
    return impact
