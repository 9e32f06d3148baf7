"""The follow-up assistant ranks customers by purchase intent and says why, in Chinese."""

from decimal import Decimal

import pytest

from chat.messaging import store_message
from chat.models import Conversation, Message
from marketing.services import follow_up_candidates
from shops.models import Order
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db

SHOPPER, BOT = Message.Sender.SHOPPER, Message.Sender.BOT


def chat_of(customer, *lines, token=None):
    chat = Conversation.objects.create(
        shop=customer.shop, customer=customer, visitor_token=token or f"v-{customer.pk}-{Conversation.objects.count()}"
    )
    for sender, text, intent in lines:
        store_message(chat, sender, text, intent=intent)
    return chat


def test_customers_are_ranked_by_intent_with_reasons(shop_a):
    unpaid = CustomerFactory(shop=shop_a, nickname="未付款")
    OrderFactory(shop=shop_a, customer=unpaid, status=Order.Status.UNPAID, total_amount=Decimal("359"), paid_amount=0)
    chat_of(unpaid, (SHOPPER, "这款多少钱", ""))
    accepted = CustomerFactory(shop=shop_a, nickname="接受推荐")
    chat_of(
        accepted,
        (SHOPPER, "推荐一双跑鞋", "recommend"),
        (BOT, "为您推荐云朵跑鞋", "recommend"),
        (SHOPPER, "这双有42码吗", "product_detail"),
    )
    browser = CustomerFactory(shop=shop_a, nickname="只看看")
    chat_of(browser, (SHOPPER, "你好", "greeting"))
    ranked = follow_up_candidates(shop_a, 10)
    assert [c.nickname for c in ranked] == ["未付款", "接受推荐"]
    assert ranked[0].reasons == ["有 1 笔未付款订单（共 ¥359）", "问过价格"]
    assert ranked[1].reasons == ["机器人推荐商品后追问了详情", "问过尺码"]
    assert ranked[0].score > ranked[1].score


def test_traditional_questions_and_repeat_visits_count(shop_a):
    returning = CustomerFactory(shop=shop_a, nickname="回头客")
    for n in range(3):
        chat_of(returning, (SHOPPER, "還有庫存嗎", ""), token=f"r{n}")
    [candidate] = follow_up_candidates(shop_a, 5)
    assert candidate.reasons == ["问过库存", "近 30 天来咨询了 3 次"]


def test_opted_out_and_other_shops_customers_are_left_out(shop_a, shop_b):
    opted_out = CustomerFactory(shop=shop_a, marketing_opt_out=True)
    chat_of(opted_out, (SHOPPER, "多少钱", ""))
    foreign = CustomerFactory(shop=shop_b)
    chat_of(foreign, (SHOPPER, "多少钱", ""))
    assert follow_up_candidates(shop_a, 5) == []
    assert [c.customer_id for c in follow_up_candidates(shop_b, 5)] == [foreign.pk]


def test_the_limit_keeps_the_best(shop_a):
    for n in range(4):
        customer = CustomerFactory(shop=shop_a, nickname=f"顾客{n}")
        chat_of(customer, *[(SHOPPER, text, "") for text in ["多少钱", "有货吗", "尺码偏大吗"][: n % 3 + 1]])
    ranked = follow_up_candidates(shop_a, 2)
    assert [(c.nickname, c.reasons) for c in ranked] == [
        ("顾客2", ["问过价格、尺码、库存"]),
        ("顾客1", ["问过价格、库存"]),
    ]
