"""The three outcomes, what an answer carries, and what answering writes (or does not)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from knowledge.models import AnswerLog, AnswerOutcome, FAQCard, UnansweredQuestion
from knowledge.services import (
    FALLBACK_TEXT,
    answer_message,
    answer_question,
    similarity,
    suggest_answers,
)
from knowledge.tasks import count_card_hits
from tests.factories import FAQCardFactory, ProductFactory, SynonymGroupFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cards(shop_a):
    SynonymGroupFactory(shop=shop_a, canonical="快递", words="物流 快递公司")
    SynonymGroupFactory(shop=shop_a, canonical="多久", words="什么时候 几天 多长时间")
    return {
        "carrier": FAQCardFactory(
            shop=shop_a, question="发什么快递", answer="默认发中通快递", similar=["用的哪家快递", "快递公司是哪个"]
        ),
        "ship": FAQCardFactory(shop=shop_a, question="下单后多久发货", answer="48小时内发货", similar=["多久能发出"]),
        "invoice": FAQCardFactory(shop=shop_a, question="可以开发票吗", answer="可以开电子发票", similar=["能开票吗"]),
        "refund": FAQCardFactory(shop=shop_a, question="退款多久到账", answer="1-3个工作日到账"),
        "return_fee": FAQCardFactory(shop=shop_a, question="退货地址在哪里", answer="浙江省杭州市"),
        "return_how": FAQCardFactory(shop=shop_a, question="怎么申请退货", answer="在订单详情申请售后"),
    }


def test_a_clear_question_is_answered_with_the_cards_answer(shop_a, cards):
    answer = answer_question(shop_a, "你们用的什么物流呀", record=False)
    assert answer.outcome == AnswerOutcome.ANSWER
    assert answer.card_id == cards["carrier"].pk
    assert answer.text == "默认发中通快递"
    assert answer.candidates[0].card_id == cards["carrier"].pk
    assert 0 < answer.score <= 1
    assert answer.candidates == sorted(answer.candidates, key=lambda c: -c.score)


def test_an_ambiguous_question_asks_which_card_was_meant(shop_a, cards):
    answer = answer_question(shop_a, "退货", record=False)
    assert answer.outcome == AnswerOutcome.CLARIFY
    assert answer.card_id is None
    assert 1 < len(answer.quick_replies) <= 3
    assert set(answer.quick_replies) <= {"退货地址在哪里", "怎么申请退货"}


def test_an_out_of_scope_question_falls_back_and_offers_a_human(shop_a, cards):
    answer = answer_question(shop_a, "你们卖笔记本电脑吗", record=False)
    assert answer.outcome == AnswerOutcome.FALLBACK
    assert answer.text == FALLBACK_TEXT
    assert answer.card_id is None
    assert answer.quick_replies == ["转人工客服"]


def test_answering_with_record_writes_the_log_and_the_beat_task_counts_the_hit(shop_a, cards):
    answer_question(shop_a, "发什么快递", conversation_id=None)
    log = AnswerLog.objects.get()
    assert (log.shop, log.card, log.outcome, log.question) == (shop_a, cards["carrier"], "answer", "发什么快递")
    assert count_card_hits.delay().get() == 1
    card = FAQCard.objects.get(pk=cards["carrier"].pk)
    assert card.hit_count == 1 and card.last_hit_at == log.created_at


def test_counting_hits_again_or_over_an_older_window_counts_each_answer_once(shop_a, cards):
    answer_question(shop_a, "发什么快递")
    answer_question(shop_a, "发什么快递")
    answer_question(shop_a, "可以开发票吗")
    count_card_hits.delay()
    count_card_hits.delay()
    counts = dict(FAQCard.objects.filter(shop=shop_a).values_list("question", "hit_count"))
    assert counts["发什么快递"] == 2 and counts["可以开发票吗"] == 1
    assert sum(counts.values()) == 3


def test_a_fallback_is_queued_once_and_counted_on_repeats(shop_a, cards):
    answer_question(shop_a, "你们卖笔记本电脑吗？")
    answer_question(shop_a, "你们卖笔记本电脑吗")
    queued = UnansweredQuestion.objects.get()
    assert queued.shop == shop_a and queued.times_asked == 2
    assert queued.status == UnansweredQuestion.Status.OPEN
    assert AnswerLog.objects.filter(outcome=AnswerOutcome.FALLBACK).count() == 2


def test_a_greeting_alone_is_not_queued_as_unanswered(shop_a, cards):
    assert answer_question(shop_a, "在吗？").outcome == AnswerOutcome.FALLBACK
    assert not UnansweredQuestion.objects.exists()


def test_without_record_nothing_is_written(shop_a, cards):
    answer_question(shop_a, "发什么快递", record=False)
    answer_question(shop_a, "你们卖笔记本电脑吗", record=False)
    suggest_answers(shop_a, "发什么快递")
    assert not AnswerLog.objects.exists()
    assert not UnansweredQuestion.objects.exists()
    assert FAQCard.objects.get(pk=cards["carrier"].pk).hit_count == 0


def test_a_message_with_several_questions_gets_one_answer_each_in_order(shop_a, cards):
    answers = answer_message(shop_a, "发什么快递？另外能开票吗", record=False)
    assert [a.question for a in answers] == ["发什么快递", "能开票吗"]
    assert [a.card_id for a in answers] == [cards["carrier"].pk, cards["invoice"].pk]


def test_an_answer_links_only_the_shops_own_products_and_carries_its_rich_parts(shop_a, shop_b, cards):
    own, foreign = ProductFactory(shop=shop_a), ProductFactory(shop=shop_b)
    card = cards["carrier"]
    card.products.add(own, foreign)
    card.quick_replies = ["查物流", "转人工客服"]
    card.image_url = "https://img.example.com/carrier.png"
    card.save()
    answer = answer_question(shop_a, "发什么快递", record=False)
    assert answer.product_ids == [own.pk]
    assert answer.quick_replies == ["查物流", "转人工客服"]
    assert answer.image_url == "https://img.example.com/carrier.png"


def test_a_card_outside_its_validity_window_is_not_used(shop_a, cards):
    card = cards["invoice"]
    card.valid_to = timezone.now() - timedelta(days=1)
    card.valid_from = timezone.now() - timedelta(days=10)
    card.save()
    answer = answer_question(shop_a, "可以开发票吗", record=False)
    assert answer.card_id != card.pk
    assert card.pk not in [c.card_id for c in answer.candidates]


def test_a_disabled_card_is_never_an_answer(shop_a, cards):
    cards["invoice"].enabled = False
    cards["invoice"].save()
    assert answer_question(shop_a, "可以开发票吗", record=False).card_id is None


def test_another_shops_cards_never_answer(shop_a, shop_b, cards):
    FAQCardFactory(shop=shop_b, question="支持花呗分期吗", answer="B店支持花呗")
    answer = answer_question(shop_a, "支持花呗分期吗", record=False)
    assert answer.outcome == AnswerOutcome.FALLBACK
    assert all(c.card_id != shop_b.pk for c in answer.candidates)
    assert "B店" not in answer.text


def test_suggestions_rank_the_likely_cards_for_an_agent(shop_a, cards):
    suggestions = suggest_answers(shop_a, "多久发货啊", limit=2)
    assert suggestions[0].card_id == cards["ship"].pk
    assert len(suggestions) <= 2


def test_similarity_is_high_for_paraphrases_and_low_for_unrelated_text(shop_a, cards):
    close = similarity(shop_a, "默认发中通快递哦", "我们默认发中通快递")
    far = similarity(shop_a, "默认发中通快递哦", "退款1-3个工作日到账")
    assert close > 0.6 > far
    assert similarity(shop_a, "发什么快递", "发什么快递") == 1.0


def test_a_homophone_typo_still_finds_its_card(shop_a, cards):
    glue = FAQCardFactory(shop=shop_a, question="鞋子开胶怎么办", answer="免费维修")
    free = FAQCardFactory(shop=shop_a, question="包邮吗", answer="全店包邮")
    assert answer_question(shop_a, "鞋子开交了", record=False).candidates[0].card_id == glue.pk
    assert answer_question(shop_a, "包油吗", record=False).card_id == free.pk
    assert answer_question(shop_a, "可以开发飘吗", record=False).candidates[0].card_id == cards["invoice"].pk
