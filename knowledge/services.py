"""The answer engine's public face: answer shoppers, suggest answers to agents, curate knowledge.

Other apps use only the names in this module. Each worker process keeps one index per shop, built on
first use and rebuilt when the shop's knowledge change stamp in the database moved (see
core.caching), so every process sees a trainer's change within a second.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    ExpressionWrapper,
    F,
    JSONField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from core import rows
from core.splits import answer_experiment, in_share
from shops.models import Product, Shop

from .engine import Index, IndexedCard, Scored, TrialAnswer
from .index import shop_index
from .models import (
    AnswerExperiment,
    AnswerLog,
    AnswerOutcome,
    FAQCard,
    GroundedAnswer,
    SimilarQuestion,
    UnansweredQuestion,
)
from .points import point_label
from .ranker import Bands
from .splitting import connector_cut, soft_cuts, split_questions
from .template_packs import template_questions
from .text import normalize, strip_punctuation

__all__ = [
    "Answer",
    "Candidate",
    "Explanation",
    "add_similar_questions",
    "answer_from_index",
    "answer_message",
    "answer_question",
    "answer_with_index",
    "attach_questions_to_card",
    "card_from_grounded_answer",
    "copy_card",
    "copy_cards",
    "count_card_hits",
    "create_card_from_questions",
    "disable_faq_card",
    "explain",
    "group_unanswered",
    "ignore_questions",
    "import_template",
    "most_asked_questions",
    "paraphrase_probabilities",
    "record_answers",
    "save_faq_card",
    "set_similar_questions",
    "shop_index",
    "similarity",
    "split_questions",
    "suggest_answers",
    "with_model_answers",
    "with_trial_answers",
]

SUGGEST_FLOOR = 0.2
MAX_CANDIDATES = 5
MAX_CLARIFY_OPTIONS = 3

CLARIFY_TEXT = "亲，您是想问下面哪个问题呢？点一下就能看到答案哦～"
FALLBACK_TEXT = "抱歉亲，这个问题小蜂暂时还答不上来，已经记下了。需要为您转接人工客服吗？"
HUMAN_QUICK_REPLY = "转人工客服"


@dataclass(frozen=True)
class Candidate:
    card_id: int
    question: str
    answer: str
    score: float


@dataclass(frozen=True)
class Answer:
    outcome: str
    question: str
    text: str
    card_id: int | None
    score: float
    candidates: list[Candidate]
    quick_replies: list[str]
    product_ids: list[int]
    image_url: str
    # Whether the question held any word at all: a fallback to nothing is not queued as unanswered.
    has_content: bool = True
    # The card's second answer under a running experiment, and which of the two this shopper saw
    # ("a" or "b", set by ``with_trial_answers``; empty outside an experiment).
    trial: TrialAnswer | None = None
    variant: str = ""


@dataclass(frozen=True)
class Explanation:
    """What the "try the bot" page shows a trainer."""

    normalized: str
    tokens: list[str]
    questions: list[str]
    answers: list[Answer] = field(default_factory=list)

    @property
    def readings(self) -> list[tuple[Answer, str]]:
        """Each question's answer with the language pack's knowledge point it is about ("" for none)."""
        return [(answer, point_label(answer.question)) for answer in self.answers]


def _candidate(scored: Scored) -> Candidate:
    return Candidate(scored.card.card_id, scored.card.question, scored.card.answer, round(scored.confidence, 4))


def _decide(results: list[Scored], bands: Bands) -> str:
    """The ranker's bands: answer when confident and clear of the next card (two close cards are a coin
    toss: ask, unless the best one is near-certain), clarify when plausible, else fall back."""
    if not results:
        return AnswerOutcome.FALLBACK
    if results[0].confidence < bands.clarify:
        # A plausible card, or a question that is part of several cards' questions ("退货"): ask which.
        plausible = results[0].probability >= bands.ambiguous or sum(s.covered for s in results) > 1
        return AnswerOutcome.CLARIFY if plausible else AnswerOutcome.FALLBACK
    top = results[0].confidence
    runner_up = results[1].confidence if len(results) > 1 else 0.0
    if top >= bands.answer and (top >= bands.certain or top - runner_up >= bands.margin):
        return AnswerOutcome.ANSWER
    return AnswerOutcome.CLARIFY


def _compose(question: str, results: list[Scored], has_content: bool, bands: Bands) -> Answer:
    candidates = [_candidate(s) for s in results]
    outcome = _decide(results, bands) if has_content else AnswerOutcome.FALLBACK
    score = candidates[0].score if candidates else 0.0
    if outcome == AnswerOutcome.ANSWER:
        card = results[0].card
        return Answer(
            outcome,
            question,
            card.answer,
            card.card_id,
            score,
            candidates,
            list(card.quick_replies),
            list(card.product_ids),
            card.image_url,
            has_content,
            card.trial,
        )
    if outcome == AnswerOutcome.CLARIFY:
        # The cards at least half as likely as the best one, or holding the whole question.
        floor = results[0].probability / 2
        options = [s.card.question for s in results if s.probability >= floor or s.covered][:MAX_CLARIFY_OPTIONS]
        return Answer(outcome, question, CLARIFY_TEXT, None, score, candidates, options, [], "", has_content)
    return Answer(outcome, question, FALLBACK_TEXT, None, score, candidates, [HUMAN_QUICK_REPLY], [], "", has_content)


def record_answers(shop: Shop, answers: list[Answer], conversation_id: int | None = None) -> None:
    """Write what ``answer_message(record=False)`` answered, as ``record=True`` would have: the log and, on a
    fallback, the unanswered queue. For a caller that needed the answers before deciding to send them."""
    for answer in answers:
        _record(shop, answer, conversation_id)


def _record(shop: Shop, answer: Answer, conversation_id: int | None) -> None:
    now = timezone.now()
    # The card's hit is counted from this log by count_card_hits, not here: a popular card's row would
    # otherwise be locked by every chat transaction answering with it, one after the other.
    # Inside the bot turn's transaction no savepoint is needed: the log stands or falls with it.
    with transaction.atomic(savepoint=False):
        log = AnswerLog(
            shop=shop,
            conversation_id=conversation_id,
            question=answer.question[:500],
            card_id=answer.card_id,
            score=min(1.0, max(0.0, answer.score)),
            outcome=answer.outcome,
            experiment_id=answer.trial.experiment_id if answer.trial is not None and answer.variant else None,
            variant=answer.variant,
        )
        rows.insert([log])  # on every bot answer: the written-out INSERT (see core.rows)
        if answer.outcome == AnswerOutcome.FALLBACK and answer.has_content:
            _enqueue_unanswered(shop, answer.question, now)


def with_trial_answers(answers: list[Answer], shopper: str) -> list[Answer]:
    """The answers as this shopper sees them: where the card has an answer on trial, the shopper's side of the
    experiment's stable split (``core.splits``) decides, and the answer carries which one was shown."""
    shown = []
    for answer in answers:
        trial = answer.trial
        if trial is None or answer.outcome != AnswerOutcome.ANSWER:
            shown.append(answer)
        elif in_share(answer_experiment(trial.experiment_id), shopper, trial.share):
            shown.append(replace(answer, text=trial.answer, variant=AnswerExperiment.Variant.B))
        else:
            shown.append(replace(answer, variant=AnswerExperiment.Variant.A))
    return shown


def _enqueue_unanswered(shop: Shop, text: str, now) -> None:
    normalized = strip_punctuation(text)[:500]
    repeat = {
        "times_asked": F("times_asked") + 1,
        "last_asked_at": now,
        # Asked again after a trainer resolved it: the fix did not take, so it goes back to the queue.
        "status": Case(
            When(status=UnansweredQuestion.Status.RESOLVED, then=Value(UnansweredQuestion.Status.OPEN)),
            default=F("status"),
        ),
    }
    if UnansweredQuestion.objects.filter(shop=shop, normalized=normalized).update(**repeat):
        return
    try:
        with transaction.atomic():
            UnansweredQuestion.objects.create(shop=shop, text=text[:500], normalized=normalized, last_asked_at=now)
    except IntegrityError:  # another process queued the same question a moment ago
        UnansweredQuestion.objects.filter(shop=shop, normalized=normalized).update(**repeat)


def count_card_hits(since: datetime) -> int:
    """Bring the hit count and last hit of every card that answered since ``since`` up to date from the
    answer log (Celery beat, every minute); returns how many cards were updated.

    Counts are recomputed from the log, so running it twice, or over overlapping windows, is harmless.
    ``update()`` sends no signal: a hit never invalidates an index.
    """
    logs = AnswerLog.objects.filter(card=OuterRef("pk"))
    hits = logs.order_by().values("card").annotate(n=Count("pk")).values("n")
    updated = 0
    for shop_id in Shop.objects.values_list("pk", flat=True):  # each shop's recent logs on its own index
        answered = AnswerLog.objects.filter(shop_id=shop_id, created_at__gte=since, card__isnull=False)
        updated += FAQCard.objects.filter(pk__in=answered.values("card_id")).update(
            hit_count=Subquery(hits[:1]),
            last_hit_at=Subquery(logs.order_by("-created_at").values("created_at")[:1]),
        )
    return updated


def most_asked_questions(shop: Shop, limit: int = 4) -> list[str]:
    """The standard questions of the shop's most asked cards (hit counts), for the chat's 猜你想问 buttons:
    enabled, in their validity window, asked at least once."""
    now = timezone.now()
    return list(
        FAQCard.objects.filter(shop=shop, enabled=True, hit_count__gt=0)
        .exclude(valid_from__gt=now)
        .exclude(valid_to__lte=now)
        .order_by("-hit_count", "pk")
        .values_list("question", flat=True)[:limit]
    )


def answer_question(shop: Shop, text: str, *, record: bool = True, conversation_id: int | None = None) -> Answer:
    """Answer one question; ``record`` writes the log, the card's hit and (on fallback) the unanswered queue."""
    answer = answer_from_index(shop_index(shop), text)
    if record:
        _record(shop, answer, conversation_id)
    return answer


def answer_from_index(index: Index, text: str, *, moment: datetime | None = None) -> Answer:
    """One question answered from a given index, recording nothing (the impact preview replays the log)."""
    return _Reading(index, moment or timezone.now()).answer(text)


class _Reading:
    """One message read against an index at one moment. Reading a message may ask the same text more than once
    (a side of a cut is asked again by the message's final reading, the other questions' words are looked up for
    each question that needs a topic): each text is cut into tokens and searched once per message."""

    def __init__(self, index: Index, moment: datetime) -> None:
        self.index = index
        self.moment = moment
        self._tokens: dict[str, list[str]] = {}
        self._results: dict[str, list[Scored]] = {}

    def tokens(self, text: str) -> list[str]:
        tokens = self._tokens.get(text)
        if tokens is None:
            tokens = self._tokens[text] = self.index.query_tokens(text)
        return tokens

    def search(self, text: str) -> list[Scored]:
        results = self._results.get(text)
        if results is None:
            results = self._results[text] = self.index.search(
                text, limit=MAX_CANDIDATES, moment=self.moment, tokens=self.tokens(text)
            )
        return results

    def answer(self, text: str) -> Answer:
        has_content = bool(self.tokens(text))
        results = self.search(text) if has_content else []
        return _compose(text.strip(), results, has_content, self.index.ranker.bands)


def answer_with_index(index: Index, text: str) -> list[Answer]:
    """Every question of a message answered (长句多问), in the order asked: what ``answer_message(record=False)``
    answers, from a given index (evaluation of another model).

    ``split_questions`` cuts where the text says so (marks, connectors, a particle followed by a question); a
    piece that may still hold two questions is cut where each side finds its own card (``_read_piece``); a
    question that finds no card on its own is read with a topic word of the others (``_in_context``)."""
    reading = _Reading(index, timezone.now())
    answers = [answer for piece in split_questions(text) or [text] for answer in _read_piece(reading, piece)]
    return _in_context(reading, answers)


# Ways to cut one piece that are tried (the clause cuts first), and words of another question tried on a
# question that finds no card on its own: each is a search or two.
MAX_CUTS = 4
CONTEXT_WORDS = 4


def _read_piece(reading: _Reading, piece: str) -> list[Answer]:
    """``piece`` whole, or cut in two (``soft_cuts``: at two question words, or after a statement or request
    such as "坚果哈喇味了，有运费险吗") where both sides are answered, by different cards, the weaker side
    most confidently. The bar is the model's own answer band, so it moves with each retrained ranker."""
    if (cut := connector_cut(piece)) is not None:
        return _sides(reading, cut)
    best, kept = reading.index.ranker.bands.answer, [reading.answer(piece)]
    for cut in soft_cuts(piece)[:MAX_CUTS]:
        first = reading.answer(cut[0])
        if first.outcome == AnswerOutcome.ANSWER and first.score <= best:
            # Reading in context only changes a side that is not answered: this cut cannot do better.
            continue
        sides = _in_context(reading, [first, reading.answer(cut[1])])
        answered = all(side.outcome == AnswerOutcome.ANSWER for side in sides)
        if answered and sides[0].card_id != sides[1].card_id and min(side.score for side in sides) > best:
            best, kept = min(side.score for side in sides), sides
    return kept


def _sides(reading: _Reading, cut: tuple[str, str]) -> list[Answer]:
    return _in_context(reading, [reading.answer(side) for side in cut])


def _in_context(reading: _Reading, answers: list[Answer]) -> list[Answer]:
    """Each question the engine does not answer on its own, read again with a topic word of an answered question
    of the same message, nearest first: "耳机有降噪吗，安卓能用吗" asks whether the earphones work with Android,
    "新疆能发吗要多少天" how long delivery takes. The reading is taken when it is answered by a card no other
    question of the message was answered with; the shopper still sees their own words."""
    taken = {answer.card_id for answer in answers if answer.outcome == AnswerOutcome.ANSWER}
    if not taken or len(taken) == len(answers):
        return answers
    read = []
    for i, answer in enumerate(answers):
        if answer.outcome != AnswerOutcome.ANSWER and answer.has_content:
            answered = (j for j, other in enumerate(answers) if other.outcome == AnswerOutcome.ANSWER)
            nearest = sorted(answered, key=lambda j: abs(j - i))
            answer = _with_topic(reading, answer, [answers[j].question for j in nearest], taken)
        read.append(answer)
    return read


def _with_topic(reading: _Reading, answer: Answer, others: list[str], taken: set[int | None]) -> Answer:
    index = reading.index
    own = set(reading.tokens(answer.question))
    for other in others:
        # The shop's words only: a word no card uses cannot bring a card in.
        words = [w for w in dict.fromkeys(reading.tokens(other)) if w in index.term_idf and w not in own]
        readings = []
        for word in words[:CONTEXT_WORDS]:
            results = reading.search(f"{word}{answer.question}")
            if results and results[0].card.card_id not in taken:
                found = _compose(answer.question, results, True, index.ranker.bands)
                if found.outcome == AnswerOutcome.ANSWER:
                    readings.append(found)
        if readings:
            return max(readings, key=lambda found: found.score)
    return answer


def answer_message(shop: Shop, text: str, *, record: bool = True, conversation_id: int | None = None) -> list[Answer]:
    """Answer every question a message holds (长句多问), in the order the shopper asked them."""
    answers = answer_with_index(shop_index(shop), text)
    if record:
        record_answers(shop, answers, conversation_id)
    return answers


def suggest_answers(shop: Shop, text: str, limit: int = 3) -> list[Candidate]:
    """Cards an agent may want to send for ``text``, best first; writes nothing."""
    results = shop_index(shop).search(text, limit=limit, moment=timezone.now())
    return [_candidate(s) for s in results if s.confidence >= SUGGEST_FLOOR]


def paraphrase_probabilities(index: Index, texts: list[str]) -> dict[tuple[int, int], float]:
    """``{(i, j): p}``: the ranker's probability that ``texts[j]`` asks what ``texts[i]`` asks.

    The texts become cards of an index of their own, read with the shop's analyser (normalisation, language
    pack and shop synonyms), beside the template packs' questions (``template_questions``): general e-commerce
    questions that give words their weight and the texts something else to be closer to, as a shop's cards do
    when the engine answers. Each text is asked with itself left out, exactly as the ranker was trained on a
    card's texts. Pairs the engine does not even consider (no shared word or character pair, or not among the
    text's best candidates) are absent: probability 0.
    """
    everything = [*texts, *template_questions()]
    cards = [IndexedCard(n, text, "") for n, text in enumerate(everything)]
    pairs = Index(index.analyzer, cards, list(enumerate(everything)), ranker=index.ranker)
    found: dict[tuple[int, int], float] = {}
    for doc in np.flatnonzero(pairs.doc_card < len(texts)).tolist():
        text = pairs.doc_text[doc]
        docs, _, features = pairs.candidates(text, pairs.query_tokens(text), exclude=doc)
        if docs:
            asked = int(pairs.doc_card[doc])
            for other, probability in zip(docs, pairs.ranker.probabilities(features).tolist(), strict=True):
                answered = int(pairs.doc_card[other])
                if answered < len(texts) and answered != asked:
                    found[asked, answered] = max(found.get((asked, answered), 0.0), probability)
    return found


def similarity(shop: Shop, a: str, b: str) -> float:
    """0..1: how surely ``a`` and ``b`` say the same thing, by the engine's ranker (``paraphrase_probabilities``,
    both ways, averaged); the same text after normalisation is 1."""
    if strip_punctuation(a) == strip_punctuation(b):
        return 1.0
    found = paraphrase_probabilities(shop_index(shop), [a, b])
    return round((found.get((0, 1), 0.0) + found.get((1, 0), 0.0)) / 2, 4)


def explain(shop: Shop, text: str) -> Explanation:
    """Everything the engine does with ``text``, for the trainer's "try the bot" page; writes nothing."""
    index = shop_index(shop)
    answers = answer_with_index(index, text)
    return Explanation(
        normalized=normalize(text),
        tokens=index.query_tokens(text),
        questions=[answer.question for answer in answers],
        answers=answers,
    )


def copy_card(card: FAQCard, shop: Shop, *, user=None, refresh: bool = False) -> FAQCard:
    """Copy ``card`` (with its similar questions) into ``shop`` as the shop's own card.

    The shop's card with the same question is kept as it is, or with ``refresh`` takes the copied answer;
    either way it gains the similar questions it lacked. Product links are not copied: products belong
    to one shop.
    """
    fields = {
        "answer": card.answer,
        "category": card.category,
        "quick_replies": list(card.quick_replies),
        "image_url": card.image_url,
        "enabled": card.enabled,
        "valid_from": card.valid_from,
        "valid_to": card.valid_to,
        "template": card if card.is_template else card.template,
        "updated_by": user,
    }
    with transaction.atomic():
        copy = FAQCard.objects.filter(shop=shop, question=card.question).first()
        if copy is None:
            copy = FAQCard.objects.create(shop=shop, question=card.question, created_by=user, **fields)
        elif refresh:
            for name, value in fields.items():
                setattr(copy, name, value)
            copy.save()
        add_similar_questions(copy, [s.text for s in card.similar_questions.all()])
    return copy


def copy_cards(cards: Iterable[FAQCard], shop: Shop, user=None) -> int:
    """Copy cards the shop does not have yet; returns how many were new. Importing twice adds nothing."""
    with transaction.atomic():
        existing = set(FAQCard.objects.filter(shop=shop).values_list("question", flat=True))
        fresh = [card for card in cards if card.question not in existing and card.shop_id != shop.pk]
        for card in fresh:
            copy_card(card, shop, user=user)
    return len(fresh)


def import_template(shop: Shop, industry: str | None = None, user=None) -> int:
    """Import the industry template pack (the shop's own industry by default) into ``shop``."""
    templates = FAQCard.objects.filter(shop__isnull=True, industry=industry or shop.industry).prefetch_related(
        "similar_questions"
    )
    return copy_cards(templates, shop, user)


@transaction.atomic
def save_faq_card(
    shop: Shop | None,
    card: FAQCard | None,
    fields: dict,
    similar_questions: Iterable[str] | None = None,
    products: Iterable[Product] | None = None,
    *,
    user=None,
) -> FAQCard:
    """Create (``card`` None or unsaved) or change a card; the lists given replace the stored ones.

    The one write of a card for the card form, the import and the open API. ``user`` (a staff member;
    None for an API key) is recorded as the card's editor, and as its author on creation. The knowledge
    signals bump the shop's knowledge version, so every worker's answer index follows.
    """
    if card is None:
        card = FAQCard(shop=shop)
    question = fields.get("question", card.question)
    if shop is not None and FAQCard.objects.filter(shop=shop, question=question).exclude(pk=card.pk).exists():
        raise ValidationError({"question": _("The shop already has a card with this question.")})
    for name, value in fields.items():
        setattr(card, name, value)
    if user is not None:
        card.updated_by = user
        if card.pk is None:
            card.created_by = user
    card.full_clean(exclude=["products"])
    card.save()
    if similar_questions is not None:
        set_similar_questions(card, similar_questions)
    if products is not None:
        card.products.set(products)
    return card


@transaction.atomic
def card_from_grounded_answer(grounded: GroundedAnswer, *, user=None) -> FAQCard:
    """Turn a model's cited answer into a card of its shop (the trainer's one click): the shopper's question,
    the answer as sent, the cited products linked. A second click returns the card made the first time."""
    grounded = GroundedAnswer.objects.select_for_update().get(pk=grounded.pk)
    if grounded.card_id is not None:
        return grounded.card  # type: ignore[return-value]  # card_id set: the card is there
    products = Product.objects.filter(shop_id=grounded.shop_id, pk__in=grounded.cited_products)
    card = save_faq_card(
        grounded.shop,
        None,
        {"question": grounded.question[:200], "answer": grounded.answer},
        products=list(products),
        user=user,
    )
    grounded.card = card
    grounded.save(update_fields=["card"])
    return card


def with_model_answers(logs: QuerySet[AnswerLog]) -> QuerySet[AnswerLog]:
    """The answer log with, on each row the shop's model answered, that answer (``model_answer_id``, its
    ``model_answer_text`` and ``model_cited_cards`` / ``model_cited_products``), in the one query.

    A model answer is written after the engine's clarify entry of the same turn: same conversation, same
    question, within the longest an answer may take (``LLM_MAX_ANSWER_SECONDS``) plus a margin."""
    window = timedelta(seconds=settings.LLM_MAX_ANSWER_SECONDS + 30)
    answers = GroundedAnswer.objects.filter(
        conversation_id=OuterRef("conversation_id"),
        question=OuterRef("question"),
        created_at__gte=OuterRef("created_at"),
        created_at__lte=ExpressionWrapper(OuterRef("created_at") + window, output_field=DateTimeField()),
    ).order_by("created_at")
    model_answer = Case(When(outcome=AnswerOutcome.CLARIFY, then=Subquery(answers.values("pk")[:1])))
    return logs.annotate(
        model_answer_id=model_answer,
        model_answer_text=Subquery(answers.values("answer")[:1]),
        model_cited_cards=Subquery(answers.values("cited_cards")[:1], output_field=JSONField()),
        model_cited_products=Subquery(answers.values("cited_products")[:1], output_field=JSONField()),
    )


def disable_faq_card(card: FAQCard) -> FAQCard:
    if card.enabled:
        card.enabled = False
        card.save(update_fields=["enabled", "updated_at"])
    return card


def similar_texts(card: FAQCard, texts: Iterable[str]) -> list[str]:
    """The texts as similar questions of ``card``: trimmed, once each, never the card's own question."""
    return [t for t in dict.fromkeys(t.strip()[:200] for t in texts) if t and t != card.question]


def add_similar_questions(card: FAQCard, texts: Iterable[str]) -> int:
    """Add the texts the card does not have yet as similar questions; returns how many were added."""
    existing = set(card.similar_questions.values_list("text", flat=True))
    fresh = [text for text in similar_texts(card, texts) if text not in existing]
    for text in fresh:
        SimilarQuestion.objects.create(card=card, text=text)
    return len(fresh)


def set_similar_questions(card: FAQCard, texts: Iterable[str]) -> None:
    """Make ``texts`` the card's similar questions: the others are removed, the missing ones added."""
    wanted = similar_texts(card, texts)
    card.similar_questions.exclude(text__in=wanted).delete()
    add_similar_questions(card, wanted)


def _resolve(questions: list[UnansweredQuestion], card: FAQCard) -> None:
    UnansweredQuestion.objects.filter(pk__in=[q.pk for q in questions]).update(
        status=UnansweredQuestion.Status.RESOLVED, resolved_card=card
    )


def create_card_from_questions(
    questions: list[UnansweredQuestion], *, question: str, answer: str, category: str = "", user=None
) -> FAQCard:
    """Turn a group of unanswered questions (one shop) into a card; the others become its similar questions."""
    shops = {q.shop_id for q in questions}
    if len(shops) != 1:
        raise ValueError("The questions must all belong to one shop.")
    with transaction.atomic():
        card = FAQCard.objects.create(
            shop_id=shops.pop(), question=question, answer=answer, category=category, created_by=user, updated_by=user
        )
        add_similar_questions(card, [q.text for q in questions])
        _resolve(questions, card)
    return card


def attach_questions_to_card(questions: list[UnansweredQuestion], card: FAQCard) -> int:
    """Add unanswered questions to ``card`` as similar questions and mark them resolved."""
    if any(q.shop_id != card.shop_id for q in questions):
        raise ValueError("The questions and the card must belong to one shop.")
    with transaction.atomic():
        added = add_similar_questions(card, [q.text for q in questions])
        _resolve(questions, card)
    return added


def ignore_questions(questions: QuerySet[UnansweredQuestion]) -> int:
    """Take questions off the unanswered queue as not meant for the bot; returns how many."""
    return questions.update(status=UnansweredQuestion.Status.IGNORED)


# Two queued questions land in one group when the ranker gives at least this probability, each way, that one
# asks what the other asks (see ``paraphrase_probabilities``).
GROUP_PROBABILITY = 0.2


def group_unanswered(shop: Shop, questions: Iterable[UnansweredQuestion]) -> list[list[UnansweredQuestion]]:
    """Group a shop's unanswered questions by the engine's paraphrase probability, most asked first (greedy:
    each question joins the group whose leader it and the leader most surely paraphrase, the weaker of the two
    directions counting, or leads a new one)."""
    ordered = sorted(questions, key=lambda q: (-q.times_asked, q.pk))
    found = paraphrase_probabilities(shop_index(shop), [q.text for q in ordered])
    groups: dict[int, list[UnansweredQuestion]] = {}
    for n, question in enumerate(ordered):
        likeliest = max(
            ((min(found.get((n, leader), 0.0), found.get((leader, n), 0.0)), leader) for leader in groups),
            default=(0.0, -1),
        )
        if likeliest[0] >= GROUP_PROBABILITY:
            groups[likeliest[1]].append(question)
        else:
            groups[n] = [question]
    clusters = list(groups.values())
    clusters.sort(key=lambda g: -sum(q.times_asked for q in g))
    return clusters
