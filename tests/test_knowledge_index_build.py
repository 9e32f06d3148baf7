"""The index's build analyses each distinct text once and computes its weights for all texts at once; what it
holds must be what one text at a time gives, and a message's reading must not outlive the message."""

import math
from collections import Counter

import pytest

from knowledge.engine import K1, B, Index, IndexedCard
from knowledge.index import build_analyzer
from knowledge.models import SimilarQuestion
from knowledge.services import answer_message, answer_with_index
from knowledge.text import char_bigrams
from tests.factories import FAQCardFactory

QUESTIONS = ["付款后多久发货", "可以开发票吗", "包邮吗", "亲", "新疆包邮吗运费多少"]
# The same similar question on two cards, as shops write them.
SIMILAR = [(0, "什么时候发货"), (2, "什么时候发货"), (1, "发票怎么开"), (2, "包邮吗")]


def _index() -> Index:
    cards = [IndexedCard(pos, question, f"答案{pos}：{question}") for pos, question in enumerate(QUESTIONS)]
    return Index(build_analyzer([], [], []), cards, [*enumerate(QUESTIONS), *SIMILAR])


def _idf(n: int, df: int) -> float:
    return math.log(1.0 + (n - df + 0.5) / (df + 0.5))


def test_each_texts_weights_are_those_of_one_text_at_a_time_however_often_it_repeats():
    index = _index()
    texts = [(pos, text) for pos, text in [*enumerate(QUESTIONS), *SIMILAR] if index.analyzer.tokens(text)]
    assert [index.doc_text[doc] for doc in range(index.n_docs)] == [text for _, text in texts]
    assert index.doc_card.tolist() == [pos for pos, _ in texts]
    terms = [Counter(index.analyzer.tokens(text)) for _, text in texts]
    n = len(terms)
    avgdl = sum(sum(t.values()) for t in terms) / n
    df = Counter(term for t in terms for term in t)
    expected: dict[str, list[tuple[int, float]]] = {}
    doc_self = [0.0] * n
    for doc, t in enumerate(terms):
        norm = K1 * (1 - B + B * sum(t.values()) / avgdl)
        for term, tf in t.items():
            weight = _idf(n, df[term]) * tf * (K1 + 1) / (tf + norm)
            expected.setdefault(term, []).append((doc, weight))
            doc_self[doc] += weight
    assert {term: list(zip(*posting, strict=True)) for term, posting in expected.items()} == {
        term: [tuple(docs.tolist()), tuple(weights.tolist())] for term, (docs, weights) in index.postings.items()
    }
    assert index.inv_doc_self.tolist() == [1.0 / value for value in doc_self]
    grams = [char_bigrams("".join(index.analyzer.tokens(text))) for _, text in texts]
    gram_df = Counter(g for row in grams for g in row)
    assert {g: docs.tolist() for g, docs in index.gram_postings.items()} == {
        g: [doc for doc, row in enumerate(grams) if g in row] for g in gram_df
    }
    assert index.inv_gram_norm.tolist() == [
        1.0 / (math.sqrt(sum(_idf(n, gram_df[g]) ** 2 for g in row)) or 1.0) for row in grams
    ]


def test_a_similar_question_shared_by_two_cards_finds_both():
    index = _index()
    assert {scored.card.card_id for scored in index.search("什么时候发货")} >= {0, 2}


def test_an_index_of_nothing_answers_nothing():
    index = Index(build_analyzer([], [], []), [], [])
    assert index.n_docs == 0
    assert index.search("包邮吗") == []


def test_a_message_searches_each_text_once():
    searched: list[str] = []

    class Counted(Index):
        def search(self, text, **options):
            searched.append(text)
            return super().search(text, **options)

    questions = ["可以开发票吗", "付款后多久发货", "包邮吗", "怎么修改收货地址"]
    cards = [IndexedCard(pos, question, f"答案{pos}") for pos, question in enumerate(questions)]
    index = Counted(build_analyzer([], [], []), cards, list(enumerate(questions)))
    # The request finds no card of its own: it is read again with the other question's words, once.
    answers = answer_with_index(index, "帮我催下物流，另外能开发票吗")
    assert [answer.card_id for answer in answers][-1:] == [0]
    assert any(text.endswith("帮我催下物流") and text != "帮我催下物流" for text in searched)
    assert max(Counter(searched).values()) == 1


@pytest.mark.django_db
def test_a_card_edited_between_two_messages_is_seen_by_the_second(shop_a):
    card = FAQCardFactory(shop=shop_a, question="发什么快递", answer="默认发中通")
    other = FAQCardFactory(shop=shop_a, question="可以开发票吗", answer="可以开电子发票")
    SimilarQuestion.objects.create(card=card, text="用什么快递")
    SimilarQuestion.objects.create(card=other, text="用什么快递")
    assert [a.text for a in answer_message(shop_a, "发什么快递？可以开发票吗", record=False)] == [
        "默认发中通",
        "可以开电子发票",
    ]
    card.answer = "默认发顺丰"
    card.save()
    other.similar_questions.all().delete()
    assert [a.text for a in answer_message(shop_a, "发什么快递？可以开发票吗", record=False)] == [
        "默认发顺丰",
        "可以开电子发票",
    ]
    assert answer_message(shop_a, "用什么快递", record=False)[0].text == "默认发顺丰"
