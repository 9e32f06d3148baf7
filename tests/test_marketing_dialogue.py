"""The bot answers live-stream, 搭配 and 凑单 questions through the marketing services."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from chat.dialogue import respond
from chat.models import Conversation
from marketing.models import BundleRule
from tests.factories import CouponFactory, LiveSessionFactory, ProductFactory

pytestmark = pytest.mark.django_db
MORNING = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def conversation(shop_a):
    return Conversation.objects.create(shop=shop_a, visitor_token="v-1")


def focus_on(conversation, product):
    conversation.state = {"focus": product.pk}
    conversation.save()


@time_machine.travel(MORNING, tick=False)
def test_the_bot_says_what_tonights_live_stream_sells(shop_a, conversation):
    session = LiveSessionFactory(
        shop=shop_a, title="双十二预热", starts_at=MORNING + timedelta(hours=10), ends_at=MORNING + timedelta(hours=12)
    )
    session.featured_products.set([ProductFactory(shop=shop_a, title="云朵跑鞋")])
    result = respond(conversation, "今天直播卖什么？")
    assert result.intent == "live"
    assert result.replies[0].text == "下一场直播「双十二预热」在今天 20:00–22:00。这场主推：云朵跑鞋。"


def test_the_bot_suggests_what_goes_with_the_product_in_focus(shop_a, conversation):
    shoes = ProductFactory(shop=shop_a, title="云朵跑鞋")
    socks = ProductFactory(shop=shop_a, title="运动袜", price=Decimal("19"))
    BundleRule.objects.create(shop=shop_a, product=shoes, companion=socks, reason="跑步必备")
    focus_on(conversation, shoes)
    result = respond(conversation, "这款配什么袜子好")
    assert result.intent == "bundle"
    assert result.replies[0].text == "这款可以这样搭配：运动袜（跑步必备）"
    assert [card["id"] for card in result.replies[0].products] == [socks.pk]


def test_the_bot_finds_the_cheapest_add_on_for_the_next_coupon(shop_a, conversation):
    CouponFactory(shop=shop_a, threshold=Decimal("199"), discount=Decimal("20"))
    insoles = ProductFactory(shop=shop_a, title="鞋垫", price=Decimal("15"))
    ProductFactory(shop=shop_a, title="速干T恤", price=Decimal("89"))
    result = respond(conversation, "我买了187元，还差多少能凑单用券？")
    assert result.intent == "bundle"
    assert result.replies[0].text == "再买 ¥12 就能用满199减20的券，加购这些就够啦：鞋垫、速干T恤"
    assert result.replies[0].products[0]["id"] == insoles.pk


def test_a_cart_that_already_reaches_the_coupon_is_told_so(shop_a, conversation):
    CouponFactory(shop=shop_a, threshold=Decimal("199"), discount=Decimal("20"))
    result = respond(conversation, "我买了￥250，还差多少凑单")
    assert result.replies[0].text == "¥250 已经可以用满199减20的券啦，下单时记得勾选哦～"


def test_a_matching_question_without_a_product_in_focus_is_left_to_the_knowledge_base(shop_a, conversation):
    assert respond(conversation, "搭配").intent != "bundle"
