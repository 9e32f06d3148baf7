"""查询保修: a product's warranty period, and whether the shopper's own purchase is still covered."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from chat.dialogue.warranty import add_months
from shops.models import Order
from tests.dialogue_support import Shopper
from tests.factories import CustomerFactory, OrderFactory, OrderLineFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def earphones(shop_a):
    return ProductFactory(
        shop=shop_a, title="声动 降噪蓝牙耳机", category="耳机", warranty_months=12, sizes=[], colors=["黑色"]
    )


@pytest.fixture
def tee(shop_a):
    return ProductFactory(shop=shop_a, title="速干短袖T恤", category="运动T恤", warranty_months=0, sizes=["M", "L"])


@pytest.fixture
def shoes(shop_a):
    return ProductFactory(shop=shop_a, title="缓震跑步鞋 飞影", category="跑步鞋", warranty_months=6)


@pytest.fixture
def alice(shop_a):
    return CustomerFactory(shop=shop_a, nickname="Alice")


def shipped_order(shop, customer, number: str, days_ago: int, *products) -> Order:
    order = OrderFactory(
        shop=shop,
        customer=customer,
        external_id=number,
        status=Order.Status.COMPLETED,
        receiver_phone="13812345678",
        shipped_at=timezone.now() - timedelta(days=days_ago),
        created_at=timezone.now() - timedelta(days=days_ago + 1),
    )
    for product in products:
        OrderLineFactory(order=order, product=product)
    return order


def test_a_named_products_warranty_period_comes_from_the_product(shop_a, earphones, tee, shoes):
    shopper = Shopper(shop_a)
    shopper.says("耳机保修多久")
    assert shopper.result.intent == "warranty"
    assert "声动 降噪蓝牙耳机" in shopper.reply and "保修 12 个月" in shopper.reply and "签收" in shopper.reply
    assert shopper.product_titles == ["声动 降噪蓝牙耳机"]


def test_the_product_in_view_is_the_one_this_asks_about(shop_a, earphones, tee, shoes):
    shopper = Shopper(shop_a)
    shopper.says("推荐一款耳机")
    assert shopper.product_titles == ["声动 降噪蓝牙耳机"]
    shopper.says("这个保修多久")
    assert shopper.result.intent == "warranty" and "保修 12 个月" in shopper.reply


def test_a_product_without_a_stated_warranty_is_said_to_have_none(shop_a, earphones, tee, shoes):
    shopper = Shopper(shop_a)
    shopper.says("T恤保修期多长")
    assert shopper.result.intent == "warranty"
    assert "速干短袖T恤" in shopper.reply and "没有标注保修期" in shopper.reply


def test_a_customers_purchase_in_its_period_gets_the_end_date_and_the_after_sales_steps(shop_a, alice, earphones, tee):
    order = shipped_order(shop_a, alice, "SA300001", 60, earphones, tee)
    shopper = Shopper(shop_a, customer=alice)
    shopper.says("我买的耳机还在保修期吗")
    assert shopper.result.intent == "warranty"
    shipped = timezone.localtime(order.shipped_at).date()
    until = add_months(shipped, 12)
    assert "SA300001" in shopper.reply and f"{shipped.month}月{shipped.day}日 发货" in shopper.reply
    assert f"到 {until.year}年{until.month}月{until.day}日，目前在保修期内" in shopper.reply
    assert "申请售后" in shopper.reply and "转人工" in shopper.quick_replies
    assert "速干短袖T恤" not in shopper.reply  # only the item asked about


def test_a_purchase_past_its_period_is_told_so_honestly(shop_a, alice, shoes):
    shipped_order(shop_a, alice, "SA300002", 240, shoes)
    shopper = Shopper(shop_a, customer=alice)
    shopper.says("鞋子坏了能保修吗")
    assert shopper.result.intent == "warranty"
    assert "SA300002" in shopper.reply and "保修 6 个月" in shopper.reply
    assert "已经过了保修期" in shopper.reply and "不能免费保修" in shopper.reply
    assert "目前在保修期内" not in shopper.reply and "申请售后" not in shopper.reply


def test_the_order_holding_the_named_product_is_chosen_over_a_later_one(shop_a, alice, earphones, shoes):
    shipped_order(shop_a, alice, "SA300003", 30, earphones)
    shipped_order(shop_a, alice, "SA300004", 5, shoes)
    shopper = Shopper(shop_a, customer=alice)
    shopper.says("我买的耳机还在保修期吗")
    assert "SA300003" in shopper.reply and "SA300004" not in shopper.reply


def test_a_visitor_verifies_the_order_first_then_hears_its_warranty(shop_a, alice, earphones):
    shipped_order(shop_a, alice, "SA300005", 10, earphones)
    shopper = Shopper(shop_a)
    shopper.says("我买的耳机还在保修期吗")
    assert shopper.result.intent == "warranty"
    assert "订单号和收货人手机号后四位" in shopper.reply and "SA300005" not in shopper.reply
    shopper.says("SA300005 5678")
    assert shopper.result.intent == "warranty"
    assert "SA300005" in shopper.reply and "目前在保修期内" in shopper.reply


def test_warranty_questions_go_to_warranty_and_order_status_questions_still_to_orders(shop_a, alice, earphones):
    shipped_order(shop_a, alice, "SA300006", 10, earphones)
    shopper = Shopper(shop_a, customer=alice)
    assert shopper.says("我买的耳机还在保修期吗").intent == "warranty"
    assert shopper.says("我买的耳机到哪了").intent == "order_status"
    assert shopper.says("我的快递到哪了").intent == "order_status"
    assert shopper.says("坏了能保修吗").intent == "warranty"


def test_an_order_not_yet_shipped_says_the_period_starts_on_receipt(shop_a, alice, earphones):
    order = OrderFactory(shop=shop_a, customer=alice, external_id="SA300007", status=Order.Status.PAID)
    OrderLineFactory(order=order, product=earphones)
    shopper = Shopper(shop_a, customer=alice)
    shopper.says("SA300007 的耳机保修到什么时候")
    assert "SA300007 还没有发货" in shopper.reply and "保修 12 个月" in shopper.reply


def test_a_month_later_is_the_months_last_day_when_the_day_does_not_exist():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 15), 6) == date(2027, 5, 15)
