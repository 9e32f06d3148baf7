"""Shop questions answered by the real knowledge engine, alone or mixed with tasks in one message."""

from decimal import Decimal

import pytest

from chat.models import InvoiceRequest
from knowledge.models import AnswerLog
from shops.models import Order
from tests.dialogue_support import Shopper
from tests.factories import CustomerFactory, FAQCardFactory, OrderFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cards(shop_a):
    return {
        "free": FAQCardFactory(
            shop=shop_a, question="包邮吗", answer="全店满99元包邮", similar=["运费多少", "免运费吗"]
        ),
        "carrier": FAQCardFactory(
            shop=shop_a, question="发什么快递", answer="默认发中通快递", similar=["用的哪家快递", "快递公司是哪个"]
        ),
        "sizing": FAQCardFactory(
            shop=shop_a, question="跑步鞋偏码吗", answer="标准码，按平时尺码买", similar=["鞋子尺码准吗", "鞋码偏大吗"]
        ),
        "return_address": FAQCardFactory(shop=shop_a, question="退货地址在哪里", answer="浙江省杭州市余杭区"),
        "return_how": FAQCardFactory(shop=shop_a, question="怎么申请退货", answer="在订单详情里申请售后"),
    }


def test_a_shop_question_is_answered_from_the_knowledge_base_and_logged(shop_a, cards):
    shopper = Shopper(shop_a)
    shopper.says("亲，包邮嘛？")
    assert shopper.result.intent == "faq"
    answer = shopper.result.replies[0]
    assert answer.text == "全店满99元包邮" and answer.intent == "faq" and 0 < answer.confidence <= 1
    log = AnswerLog.objects.get()
    assert log.conversation_id == shopper.conversation.pk and log.card_id == cards["free"].pk


def test_several_questions_in_one_message_are_answered_together(shop_a, cards):
    shopper = Shopper(shop_a)
    shopper.says("包郵嗎？用的哪家快遞")
    texts = [reply.text for reply in shopper.result.replies]
    assert len(texts) == 2
    assert "全店满99元包邮" in texts[0] and "默认发中通快递" in texts[1]


def test_an_unclear_question_offers_the_candidate_questions_as_quick_replies(shop_a, cards):
    shopper = Shopper(shop_a)
    shopper.says("退货")
    assert shopper.result.intent == "clarify"
    assert {"退货地址在哪里", "怎么申请退货"} <= set(shopper.quick_replies)
    shopper.says("怎么申请退货")
    assert shopper.reply == "在订单详情里申请售后"


def test_a_card_linked_to_products_shows_their_cards(shop_a, cards):
    shoe = ProductFactory(shop=shop_a, title="缓震跑步鞋", price=Decimal("459.00"))
    cards["sizing"].products.add(shoe)
    shopper = Shopper(shop_a)
    shopper.says("跑步鞋偏码吗")
    assert shopper.result.intent == "faq"  # a category word, but the shop knows this question
    assert shopper.product_titles == ["缓震跑步鞋"]


def test_a_question_and_a_task_in_one_message_get_both_answers_in_order(shop_a, cards):
    alice = CustomerFactory(shop=shop_a)
    OrderFactory(
        shop=shop_a,
        customer=alice,
        external_id="SA600001",
        status=Order.Status.SHIPPED,
        carrier="中通快递",
        tracking_number="ZT9",
    )
    shopper = Shopper(shop_a, customer=alice)
    shopper.says("包邮吗？我的快递到哪了")
    assert shopper.result.intent == "order_status"
    first, second = shopper.result.replies
    assert "全店满99元包邮" in first.text and first.intent == "faq"
    assert "ZT9" in second.text and second.intent == "order_status"


def test_a_shop_question_in_the_middle_of_an_invoice_is_answered_and_the_invoice_resumes(shop_a, cards):
    shopper = Shopper(shop_a)
    shopper.says("我要开发票，抬头杭州某某科技有限公司")
    assert "统一社会信用代码" in shopper.reply
    shopper.says("发什么快递")
    assert shopper.result.replies[0].text == "默认发中通快递"
    assert shopper.result.replies[-1].text == "（开发票还差一步：请发送 18 位统一社会信用代码）"
    shopper.says("91350100M000100Y43")
    shopper.says("跳过")
    assert InvoiceRequest.objects.get().title == "杭州某某科技有限公司"


def test_a_greeting_before_a_shop_question_is_not_taken_for_small_talk(shop_a, cards):
    shopper = Shopper(shop_a)
    shopper.says("你好，发什么快递？")
    assert shopper.result.intent == "faq" and shopper.reply == "默认发中通快递"
