"""Each worker process's answer index per shop, and marking a shop's knowledge changed.

An index is built on first use and rebuilt when the shop's knowledge ``core.ChangeStamp`` moved (see
``knowledge.receivers`` and ``core.caching``), so every process sees a trainer's change within a second.

``read_knowledge`` reads what an index is built from into plain values (``KnowledgeRows``) and ``build_index``
builds it: the impact preview (``knowledge.impact``) changes a copy of those values in memory and builds a
candidate index from it, without touching the saved one.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Q

from core.caching import ShopCache
from core.models import ChangeStamp
from shops.models import Shop

from .engine import Analyzer, Index, IndexedCard, TrialAnswer
from .models import AnswerExperiment, DictionaryWord, FAQCard, SimilarQuestion, SwitchedOffPackEntry, SynonymGroup
from .vocabulary import broader_words, region_classes, shop_synonyms


def build_analyzer(
    phrases: Iterable[str],
    global_groups: Iterable[tuple[str, Iterable[str]]],
    shop_groups: Iterable[tuple[str, Iterable[str]]],
    switched_off: Iterable[str] = (),
) -> Analyzer:
    """A shop's analyser: its words kept whole, the language pack under the global and the shop's synonym
    groups (``vocabulary.shop_synonyms``), place names tagged with their region class, narrower words with
    their broader ones (``vocabulary.broader_words``). ``switched_off``: the pack entries the shop turned off
    (synonym groups, broader words, abbreviations, regions)."""
    off = frozenset(switched_off)
    synonyms = shop_synonyms(global_groups, shop_groups, off)
    return Analyzer(phrases, synonyms, region_classes(off), broader_words(synonyms, off))


@dataclass
class KnowledgeRows:
    """Everything a shop's index is built from, read from the database once."""

    phrases: list[str] = field(default_factory=list)
    global_groups: list[tuple[str, list[str]]] = field(default_factory=list)
    shop_groups: list[tuple[str, list[str]]] = field(default_factory=list)
    switched_off: frozenset[str] = frozenset()
    # The enabled cards, in the order the index numbers them (their standard questions come first).
    cards: list[IndexedCard] = field(default_factory=list)
    # Each card's similar questions, oldest first; indexed after the standard questions, in card order.
    similar: dict[int, list[str]] = field(default_factory=dict)


def read_knowledge(shop_id: int) -> KnowledgeRows:
    rows = KnowledgeRows()
    for group in SynonymGroup.objects.filter(Q(shop_id=shop_id) | Q(shop__isnull=True)).order_by("pk"):
        (rows.global_groups if group.shop_id is None else rows.shop_groups).append((group.canonical, group.word_list))
    rows.phrases = list(DictionaryWord.objects.filter(shop_id=shop_id).values_list("word", flat=True))
    rows.switched_off = frozenset(
        SwitchedOffPackEntry.objects.filter(shop_id=shop_id).values_list("entry_id", flat=True)
    )
    cards = FAQCard.objects.filter(shop_id=shop_id, enabled=True).values_list(
        "pk", "question", "answer", "quick_replies", "image_url", "valid_from", "valid_to"
    )
    links: dict[int, list[int]] = {}
    for card_id, product_id in FAQCard.products.through.objects.filter(
        faqcard__shop_id=shop_id, faqcard__enabled=True, product__shop_id=shop_id
    ).values_list("faqcard_id", "product_id"):
        links.setdefault(card_id, []).append(product_id)
    trials = {
        card_id: TrialAnswer(pk, answer_b, share_b)
        for pk, card_id, answer_b, share_b in AnswerExperiment.objects.filter(
            shop_id=shop_id, ended_at__isnull=True
        ).values_list("pk", "card_id", "answer_b", "share_b")
    }
    for pk, question, answer, quick_replies, image_url, valid_from, valid_to in cards:
        rows.cards.append(
            IndexedCard(
                pk,
                question,
                answer,
                tuple(quick_replies or ()),
                tuple(sorted(links.get(pk, ()))),
                image_url,
                valid_from,
                valid_to,
                trials.get(pk),
            )
        )
    for card_id, text in (
        SimilarQuestion.objects.filter(card__shop_id=shop_id, card__enabled=True)
        .order_by("pk")
        .values_list("card_id", "text")
    ):
        rows.similar.setdefault(card_id, []).append(text)
    return rows


def build_index(rows: KnowledgeRows, analyzer: Analyzer | None = None) -> Index:
    """The index of ``rows``; ``analyzer``: one built from the same phrases, synonyms and switches, to reuse."""
    if analyzer is None:
        analyzer = build_analyzer(rows.phrases, rows.global_groups, rows.shop_groups, rows.switched_off)
    texts = [(n, card.question) for n, card in enumerate(rows.cards)]
    texts += [(n, text) for n, card in enumerate(rows.cards) for text in rows.similar.get(card.card_id, ())]
    return Index(analyzer, rows.cards, texts)


def load_index(shop_id: int) -> Index:
    return build_index(read_knowledge(shop_id))


# Each process's index per shop, rebuilt when the shop's knowledge stamp moved (knowledge.receivers bumps it).
indexes: ShopCache[Index] = ShopCache("knowledge index", ChangeStamp.Kind.KNOWLEDGE, load_index)


def shop_index(shop: Shop | int) -> Index:
    """The shop's index, rebuilt here when another process (or this one) changed its knowledge."""
    return indexes.get(shop if isinstance(shop, int) else shop.pk)
