"""Address change: a work order before shipping, what can still be done after."""

import pytest

from chat.models import WorkOrder
from shops.models import Order
from tests.dialogue_support import Shopper
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db

NEW_ADDRESS = "上海市徐汇区漕溪北路 1 号 5 楼"


def test_before_shipping_the_new_address_becomes_a_work_order_for_the_team(shop_a):
    alice = CustomerFactory(shop=shop_a)
    order = OrderFactory(shop=shop_a, customer=alice, external_id="SA400001", status=Order.Status.PAID)
    shopper = Shopper(shop_a, customer=alice)
    shopper.says("地址填错了，想改一下收货地址")
    assert shopper.result.intent == "address_change" and "还没有发货" in shopper.reply
    shopper.says(NEW_ADDRESS)
    work_order = WorkOrder.objects.get()
    assert (work_order.shop, work_order.kind, work_order.order, work_order.conversation) == (
        shop_a,
        WorkOrder.Kind.ADDRESS_CHANGE,
        order,
        shopper.conversation,
    )
    assert work_order.data["new_address"] == NEW_ADDRESS
    assert f"#{work_order.pk}" in shopper.reply and "确认" in shopper.reply


def test_the_new_address_may_come_with_the_request(shop_a):
    alice = CustomerFactory(shop=shop_a)
    OrderFactory(shop=shop_a, customer=alice, external_id="SA400002", status=Order.Status.AWAITING_FINAL)
    shopper = Shopper(shop_a, customer=alice)
    shopper.says(f"订单SA400002地址改成{NEW_ADDRESS}")
    assert WorkOrder.objects.get().data["new_address"] == NEW_ADDRESS


def test_after_shipping_the_bot_explains_the_options_and_offers_a_human(shop_a):
    alice = CustomerFactory(shop=shop_a)
    OrderFactory(
        shop=shop_a,
        customer=alice,
        external_id="SA400003",
        status=Order.Status.SHIPPED,
        carrier="顺丰速运",
        tracking_number="SF42",
    )
    shopper = Shopper(shop_a, customer=alice)
    shopper.says("我要修改收货地址")
    assert "已经发货" in shopper.reply and "改派" in shopper.reply and "拒收" in shopper.reply
    assert "转人工" in shopper.quick_replies
    assert not WorkOrder.objects.exists()
    shopper.says("转人工")
    assert shopper.result.handoff == "requested"


def test_an_anonymous_shopper_verifies_before_changing_the_address(shop_a):
    OrderFactory(shop=shop_a, external_id="SA400004", status=Order.Status.PAID, receiver_phone="13600002468")
    shopper = Shopper(shop_a)
    shopper.says("改地址")
    assert "后四位" in shopper.reply
    shopper.says("SA400004 2468")
    assert "还没有发货" in shopper.reply
    shopper.says("包邮吗")  # an unrelated question: answered, and the address is asked for again
    assert shopper.result.replies[-1].text == "（修改地址还需要您发送新的收货地址哦）"
    shopper.says(NEW_ADDRESS)
    assert WorkOrder.objects.get().order.external_id == "SA400004"
