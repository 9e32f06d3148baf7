"""Each worker process's answer index per shop, and marking a shop's knowledge changed.

An index is built on first use and rebuilt when the shop's knowledge ``core.ChangeStamp`` moved (see
``knowledge.receivers`` and ``core.caching``), so every process sees a trainer's change within a second.
"""

from collections.abc import Iterable

from django.db.models import Q

from core.caching import ShopCache
from core.models import ChangeStamp
from shops.models import Shop

from .engine import Analyzer, Index, IndexedCard
from .models import DictionaryWord, FAQCard, SimilarQuestion, SynonymGroup
from .vocabulary import broader_words, region_classes, shop_synonyms


def build_analyzer(
    phrases: Iterable[str],
    global_groups: Iterable[tuple[str, Iterable[str]]],
    shop_groups: Iterable[tuple[str, Iterable[str]]],
) -> Analyzer:
    """A shop's analyser: its words kept whole, the language pack under the global and the shop's synonym
    groups (``vocabulary.shop_synonyms``), place names tagged with their region class, narrower words with
    their broader ones (``vocabulary.broader_words``)."""
    synonyms = shop_synonyms(global_groups, shop_groups)
    return Analyzer(phrases, synonyms, region_classes(), broader_words(synonyms))


def load_index(shop_id: int) -> Index:
    global_groups: list[tuple[str, list[str]]] = []
    shop_groups: list[tuple[str, list[str]]] = []
    for group in SynonymGroup.objects.filter(Q(shop_id=shop_id) | Q(shop__isnull=True)).order_by("pk"):
        (global_groups if group.shop_id is None else shop_groups).append((group.canonical, group.word_list))
    phrases = DictionaryWord.objects.filter(shop_id=shop_id).values_list("word", flat=True)
    analyzer = build_analyzer(phrases, global_groups, shop_groups)

    rows = FAQCard.objects.filter(shop_id=shop_id, enabled=True).values_list(
        "pk", "question", "answer", "quick_replies", "image_url", "valid_from", "valid_to"
    )
    links: dict[int, list[int]] = {}
    for card_id, product_id in FAQCard.products.through.objects.filter(
        faqcard__shop_id=shop_id, faqcard__enabled=True, product__shop_id=shop_id
    ).values_list("faqcard_id", "product_id"):
        links.setdefault(card_id, []).append(product_id)
    cards: list[IndexedCard] = []
    position: dict[int, int] = {}
    texts: list[tuple[int, str]] = []
    for pk, question, answer, quick_replies, image_url, valid_from, valid_to in rows:
        position[pk] = len(cards)
        texts.append((len(cards), question))
        cards.append(
            IndexedCard(
                pk,
                question,
                answer,
                tuple(quick_replies or ()),
                tuple(sorted(links.get(pk, ()))),
                image_url,
                valid_from,
                valid_to,
            )
        )
    for card_id, text in SimilarQuestion.objects.filter(card__shop_id=shop_id, card__enabled=True).values_list(
        "card_id", "text"
    ):
        texts.append((position[card_id], text))
    return Index(analyzer, cards, texts)


# Each process's index per shop, rebuilt when the shop's knowledge stamp moved (knowledge.receivers bumps it).
indexes: ShopCache[Index] = ShopCache("knowledge index", ChangeStamp.Kind.KNOWLEDGE, load_index)


def shop_index(shop: Shop | int) -> Index:
    """The shop's index, rebuilt here when another process (or this one) changed its knowledge."""
    return indexes.get(shop if isinstance(shop, int) else shop.pk)
