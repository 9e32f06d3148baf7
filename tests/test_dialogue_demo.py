"""Whole conversations on the demo shops: their real catalogues, orders and knowledge.

Loading the demo takes seconds, so the three shoppers share one test.
"""

import io

import pytest
from django.core.management import call_command

from chat.models import WorkOrder
from shops.models import Customer, Order, Shop
from tests.dialogue_support import Shopper

pytestmark = pytest.mark.django_db


def card_ids(shopper: Shopper) -> set[int]:
    return {p["id"] for r in shopper.result.replies for p in r.products}


def test_demo_shoppers_chat_shop_for_products_and_change_an_address(db):
    call_command("load_demo", stdout=io.StringIO())
    swift = Shop.objects.get(slug="swift-sports")

    # A visitor of the sportswear shop: greeting, a shop question, a recommendation and its follow-ups.
    shopper = Shopper(swift)
    assert shopper.says("您好").intent == "greeting"
    shopper.says("包邮吗")
    assert shopper.result.intent == "faq" and "包邮" in shopper.reply
    shopper.says("想买双跑鞋，500以内")
    assert shopper.result.intent == "recommend" and shopper.product_titles
    running = swift.products.filter(category="跑步鞋", price__lte=500)
    assert card_ids(shopper) <= set(running.values_list("pk", flat=True))
    shopper.says("黑色的呢")
    assert card_ids(shopper) <= {p.pk for p in running if any("黑" in c for c in p.colors)}
    shopper.says("第一个有没有42码")
    assert shopper.result.intent == "product_detail" and "42码" in shopper.reply
    shopper.says("跑步鞋怎么洗")
    assert shopper.result.intent == "faq"

    # An apparel shopper answers the questions with the quick replies built from the shop's catalogue.
    lanyi = Shop.objects.get(slug="lanyi-women")
    shopper = Shopper(lanyi)
    shopper.says("想买条裙子")
    assert "预算" in shopper.reply and shopper.quick_replies[-1] == "不限"
    while not shopper.product_titles:
        assert shopper.quick_replies, shopper.reply
        shopper.says(shopper.quick_replies[0])
    skirts = lanyi.products.filter(category__in=["连衣裙", "半身裙"])
    assert card_ids(shopper) <= set(skirts.values_list("pk", flat=True))

    # A signed-in customer moves an unshipped order to a new address.
    order = Order.objects.filter(shop=swift, status=Order.Status.PAID).order_by("-created_at").first()
    shopper = Shopper(swift, customer=Customer.objects.get(pk=order.customer_id))
    shopper.says(f"订单{order.external_id}的地址填错了")
    assert "还没有发货" in shopper.reply
    shopper.says("改成北京市海淀区中关村大街 27 号 1 单元 101 室")
    assert WorkOrder.objects.get(order=order).data["new_address"] == "北京市海淀区中关村大街 27 号 1 单元 101 室"
