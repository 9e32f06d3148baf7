"""Demo knowledge: industry template packs, every demo shop's cards, synonyms and dictionary words.

Loading twice changes nothing: rows are found by their natural keys and refreshed.
"""

from django.db import transaction

from shops.models import Shop

from .demo_cards import (
    COMMON_CARDS,
    GLOBAL_SYNONYMS,
    INDUSTRY_CARDS,
    SHOP_FACTS,
    SHOP_SYNONYMS,
    SHOP_WORDS,
    TEMPLATE_FACTS,
)
from .models import DictionaryWord, FAQCard, SimilarQuestion, SynonymGroup


def _cards(shop: Shop | None, industry: str, facts: dict[str, str]) -> None:
    for category, question, similar, answer in COMMON_CARDS + INDUSTRY_CARDS[industry]:
        card, _ = FAQCard.objects.update_or_create(
            shop=shop,
            industry="" if shop else industry,
            question=question,
            defaults={"answer": answer.format(**facts), "category": category},
        )
        for text in similar.split("|"):
            SimilarQuestion.objects.get_or_create(card=card, text=text)


@transaction.atomic
def load_demo() -> None:
    for canonical, words in GLOBAL_SYNONYMS:
        SynonymGroup.objects.update_or_create(shop=None, canonical=canonical, defaults={"words": words})
    for industry in INDUSTRY_CARDS:
        _cards(None, industry, TEMPLATE_FACTS)
    for slug, facts in SHOP_FACTS.items():
        shop = Shop.objects.get(slug=slug)
        _cards(shop, shop.industry, facts)
        for canonical, words in SHOP_SYNONYMS[slug]:
            SynonymGroup.objects.update_or_create(shop=shop, canonical=canonical, defaults={"words": words})
        for word in SHOP_WORDS[slug]:
            DictionaryWord.objects.get_or_create(shop=shop, word=word)
