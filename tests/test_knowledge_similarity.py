"""One similarity everywhere: the unanswered groups, agent suggestions and the training simulator's scores come
from the answer engine (its normalisation, the language pack and the shop's synonyms, the ranker)."""

import pytest
from django.utils import timezone

from analytics.services.training import score_reply
from knowledge.models import UnansweredQuestion
from knowledge.services import group_unanswered, similarity, suggest_answers
from tests.factories import FAQCardFactory, SynonymGroupFactory

pytestmark = pytest.mark.django_db

PARAPHRASE_GROUPS = [
    ["可以用花呗吗", "支持花呗分期吗", "能不能花呗付款"],
    ["A店能寄到国外吗", "A店可以寄国外吗"],
    ["什么时候发货", "多久能发出来"],
    ["退款多久到账"],
    ["信用卡能用吗"],
]


def _queue(shop, groups):
    now = timezone.now()
    times = 10
    for group in groups:
        for text in group:
            times -= 0 if times == 1 else 1
            UnansweredQuestion.objects.create(
                shop=shop, text=text, normalized=text, times_asked=times, last_asked_at=now
            )
    return list(UnansweredQuestion.objects.filter(shop=shop))


def test_a_question_asked_three_ways_is_one_unanswered_group_and_other_questions_are_not_in_it(shop_a):
    questions = _queue(shop_a, PARAPHRASE_GROUPS)
    groups = {frozenset(q.text for q in group) for group in group_unanswered(shop_a, questions)}
    assert groups == {frozenset(group) for group in PARAPHRASE_GROUPS}


def test_the_grouping_reads_traditional_and_full_width_text_like_the_engine(shop_a):
    questions = _queue(shop_a, [["可以用花呗吗", "可以用花唄嗎？", "ＡＢ店能用花呗吗"]])
    assert len(group_unanswered(shop_a, questions)) == 1


def test_the_shops_own_synonyms_bring_two_phrasings_together(shop_a, shop_b):
    before = similarity(shop_a, "可以用白条吗", "能用花呗吗")
    SynonymGroupFactory(shop=shop_a, canonical="花呗", words="白条")
    assert similarity(shop_a, "可以用白条吗", "能用花呗吗") > max(before, 0.3)
    assert similarity(shop_b, "可以用白条吗", "能用花呗吗") == before


def test_the_language_pack_counts_in_similarity(shop_a):
    """缺货 and 没货 are one word in the pack: the same question either way."""
    assert similarity(shop_a, "这款缺货了吗", "这款没货了吗") > similarity(shop_a, "这款缺货了吗", "这款发货了吗")


def test_similarity_is_one_for_the_same_text_and_zero_for_unrelated_text(shop_a):
    assert similarity(shop_a, "发什么快递？", "发什么快递") == 1.0
    assert similarity(shop_a, "今天天气不错", "付款后48小时内发货") == 0.0


def test_agent_suggestions_rank_a_paraphrase_to_its_card(shop_a):
    card = FAQCardFactory(shop=shop_a, question="可以用花呗吗", answer="支持花呗分期")
    FAQCardFactory(shop=shop_a, question="什么时候发货", answer="48小时内发货")
    for text in ["支持花呗分期吗", "能不能花呗付款"]:
        assert suggest_answers(shop_a, text)[0].card_id == card.pk


def test_a_trainee_reply_in_other_words_scores_above_an_unrelated_one(shop_a):
    reference = "付款后48小时内从杭州仓发货，默认顺丰快递。"
    paraphrase = score_reply(shop_a, "亲，付款后48小时内发货，发顺丰快递哦", reference)
    unrelated = score_reply(shop_a, "这款鞋偏小半码", reference)
    assert paraphrase.similarity > 0.5 > unrelated.similarity
    assert paraphrase.score > unrelated.score
