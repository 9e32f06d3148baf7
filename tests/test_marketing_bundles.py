"""搭配 and 凑单: shop rules, co-purchase counts, and the cheapest add-on reaching the next 满减."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from marketing.models import BundleRule
from marketing.services import addon_suggestions, bundle_suggestions
from shops.models import Order
from tests.factories import CouponFactory, OrderFactory, OrderLineFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(shop_a):
    return {
        name: ProductFactory(shop=shop_a, title=name, price=Decimal(price), stock=stock, on_sale=on_sale)
        for name, price, stock, on_sale in [
            ("跑鞋", "299", 10, True),
            ("运动袜", "19", 50, True),
            ("鞋垫", "15", 50, True),
            ("速干T恤", "89", 50, True),
            ("护膝", "59", 0, True),
            ("旧款腰包", "39", 50, False),
        ]
    }


def bought_together(shop, *products, status=Order.Status.COMPLETED):
    order = OrderFactory(shop=shop, status=status)
    for product in products:
        OrderLineFactory(order=order, product=product)


def test_shop_rules_come_first_then_what_is_bought_together(shop_a, catalogue):
    c = catalogue
    BundleRule.objects.create(shop=shop_a, product=c["跑鞋"], companion=c["速干T恤"], reason="跑步套装")
    for _ in range(3):
        bought_together(shop_a, c["跑鞋"], c["运动袜"])
    bought_together(shop_a, c["跑鞋"], c["鞋垫"])
    suggestions = bundle_suggestions(shop_a, [c["跑鞋"].pk])
    assert [(s.product.title, s.reason) for s in suggestions] == [
        ("速干T恤", "跑步套装"),
        ("运动袜", "3 位顾客一起买过"),
        ("鞋垫", "1 位顾客一起买过"),
    ]


def test_out_of_stock_off_sale_closed_orders_and_the_cart_itself_are_left_out(shop_a, catalogue):
    c = catalogue
    bought_together(shop_a, c["跑鞋"], c["护膝"])
    bought_together(shop_a, c["跑鞋"], c["旧款腰包"])
    bought_together(shop_a, c["跑鞋"], c["速干T恤"], status=Order.Status.CLOSED)
    bought_together(shop_a, c["跑鞋"], c["运动袜"])
    assert [s.product.title for s in bundle_suggestions(shop_a, [c["跑鞋"].pk, c["运动袜"].pk])] == []
    assert [s.product.title for s in bundle_suggestions(shop_a, [c["跑鞋"].pk])] == ["运动袜"]


def test_another_shops_products_are_never_suggested_or_counted(shop_a, shop_b, catalogue):
    foreign = ProductFactory(shop=shop_b, title="B店袜子")
    bought_together(shop_b, foreign, ProductFactory(shop=shop_b))
    assert bundle_suggestions(shop_a, [foreign.pk]) == []
    assert bundle_suggestions(shop_b, [catalogue["跑鞋"].pk]) == []


def test_the_cheapest_add_on_reaching_the_next_threshold_is_offered(shop_a, catalogue):
    small = CouponFactory(shop=shop_a, threshold=Decimal("199"), discount=Decimal("20"))
    CouponFactory(shop=shop_a, threshold=Decimal("399"), discount=Decimal("50"))
    suggestion = addon_suggestions(shop_a, Decimal("187"))
    assert suggestion.coupon == small and suggestion.gap == Decimal("12")
    assert [p.title for p in suggestion.products] == ["鞋垫", "运动袜", "速干T恤"]
    assert suggestion.text == "再买 ¥12 就能用满199减20的券"


def test_products_below_the_gap_are_not_add_ons(shop_a, catalogue):
    CouponFactory(shop=shop_a, threshold=Decimal("199"), discount=Decimal("20"))
    suggestion = addon_suggestions(shop_a, Decimal("100.5"))
    assert suggestion.gap == Decimal("98.5") and [p.title for p in suggestion.products] == ["跑鞋"]
    assert suggestion.text == "再买 ¥98.5 就能用满199减20的券"


def test_a_cart_above_every_usable_threshold_gets_none(shop_a, catalogue):
    CouponFactory(shop=shop_a, threshold=Decimal("199"), discount=Decimal("20"))
    CouponFactory(
        shop=shop_a,
        threshold=Decimal("399"),
        discount=Decimal("50"),
        valid_from=timezone.now() - timedelta(days=9),
        valid_until=timezone.now() - timedelta(days=1),
    )
    assert addon_suggestions(shop_a, Decimal("250")) is None


def test_no_offer_when_no_single_product_closes_the_gap(shop_a, catalogue):
    CouponFactory(shop=shop_a, threshold=Decimal("599"), discount=Decimal("80"))
    assert addon_suggestions(shop_a, Decimal("250")) is None


def test_the_callers_coupons_are_used_when_given(shop_a, catalogue):
    CouponFactory(shop=shop_a, threshold=Decimal("199"), discount=Decimal("20"))
    offered = CouponFactory(shop=shop_a, threshold=Decimal("299"), discount=Decimal("30"))
    suggestion = addon_suggestions(shop_a, Decimal("250"), [offered], exclude_product_ids=[catalogue["速干T恤"].pk])
    assert suggestion.text == "再买 ¥49 就能用满299减30的券"
    assert [p.title for p in suggestion.products] == ["跑鞋"]
