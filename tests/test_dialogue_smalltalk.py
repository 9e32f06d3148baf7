"""Small talk answers whole small-talk messages only; shop questions are never swallowed."""

import pytest

from shops.models import Order
from tests.dialogue_support import Shopper
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "intent", "words"),
    [
        ("你好", "greeting", "小蜂"),
        ("在吗？", "greeting", "帮您"),
        ("早上好", "greeting", "您好"),
        ("你是机器人吗", "smalltalk", "小蜂"),
        ("你是人工吗", "smalltalk", "转人工"),
        ("謝謝！", "smalltalk", "不客气"),
        ("哈哈哈哈", "smalltalk", "哈哈"),
        ("拜拜", "smalltalk", "再见"),
    ],
)
def test_small_talk_gets_a_friendly_line(shop_a, text, intent, words):
    shopper = Shopper(shop_a)
    shopper.says(text)
    assert shopper.result.intent == intent and not shopper.result.handoff
    assert words in shopper.reply


def test_playful_lines_vary_over_the_conversation(shop_a):
    shopper = Shopper(shop_a)
    lines = {shopper.says("哈哈").replies[0].text for _ in range(3)}
    assert len(lines) == 3


def test_a_greeting_in_front_of_a_shop_question_does_not_swallow_it(shop_a):
    alice = CustomerFactory(shop=shop_a)
    OrderFactory(
        shop=shop_a,
        customer=alice,
        external_id="SA500001",
        status=Order.Status.SHIPPED,
        carrier="圆通速递",
        tracking_number="YT77",
    )
    shopper = Shopper(shop_a, customer=alice)
    shopper.says("你好，我的快递到哪了？")
    assert shopper.result.intent == "order_status" and "YT77" in shopper.reply


def test_a_shop_question_containing_a_small_talk_word_is_not_small_talk(shop_a):
    shopper = Shopper(shop_a)
    shopper.says("谢谢，顺便问下怎么开发票")
    assert shopper.result.intent == "invoice"
