"""Order questions answered from the shopper's own orders; anonymous shoppers verify first."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from chat import services
from chat.messaging import message_frame
from chat.models import Message
from shops.models import Order, Refund
from tests.dialogue_support import Shopper
from tests.factories import CustomerFactory, OrderFactory, OrderLineFactory, RefundFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(shop_a):
    return CustomerFactory(shop=shop_a, nickname="Alice")


@pytest.fixture
def shipped(shop_a, alice):
    return OrderFactory(
        shop=shop_a,
        customer=alice,
        external_id="SA100001",
        status=Order.Status.SHIPPED,
        carrier="顺丰速运",
        tracking_number="SF1234567890",
        receiver_phone="13812345678",
        shipped_at=timezone.now() - timedelta(days=1),
        created_at=timezone.now() - timedelta(days=3),
    )


@pytest.fixture
def presale(shop_a, alice):
    return OrderFactory(
        shop=shop_a,
        customer=alice,
        external_id="SA100002",
        status=Order.Status.AWAITING_FINAL,
        total_amount=Decimal("500.00"),
        deposit_amount=Decimal("100.00"),
        paid_amount=Decimal("100.00"),
        final_payment_due=timezone.make_aware(timezone.datetime(2026, 12, 1, 23, 59)),
        created_at=timezone.now() - timedelta(days=5),
    )


def test_a_known_customer_hears_carrier_and_tracking_number_of_the_latest_order(shop_a, alice, shipped, presale):
    shopper = Shopper(shop_a, customer=alice)
    shopper.says("我的快递到哪了")
    assert shopper.result.intent == "order_status"
    assert "SA100001" in shopper.reply and "顺丰速运" in shopper.reply and "SF1234567890" in shopper.reply
    assert "查订单 SA100002" in shopper.quick_replies


def test_the_presale_final_payment_is_total_minus_deposit_with_its_deadline(shop_a, alice, shipped, presale):
    shopper = Shopper(shop_a, customer=alice)
    shopper.says("尾款要付多少，什么时候截止")
    assert shopper.result.intent == "presale"
    assert "SA100002" in shopper.reply and "¥400.00" in shopper.reply and "12月01日" in shopper.reply


def test_the_refund_status_comes_from_the_orders_refund(shop_a, alice, shipped):
    RefundFactory(order__shop=shop_a, order__customer=alice, order__external_id="SA100003", amount=Decimal("99.00"))
    shopper = Shopper(shop_a, customer=alice)
    shopper.says("我的退款到账了吗")
    assert "SA100003" in shopper.reply and "¥99.00" in shopper.reply and "等待商家审核" in shopper.reply
    Refund.objects.update(status=Refund.Status.REFUNDED, resolved_at=timezone.now())
    shopper.says("退款进度怎么样了")
    assert "已退款" in shopper.reply


def test_an_order_number_of_another_customer_reveals_nothing(shop_a, alice, shipped):
    bob_order = OrderFactory(
        shop=shop_a, external_id="SA999999", status=Order.Status.SHIPPED, tracking_number="YT0000000001"
    )
    shopper = Shopper(shop_a, customer=alice)
    shopper.says("查订单 SA999999")
    assert "没有找到订单 SA999999" in shopper.reply
    assert bob_order.tracking_number not in shopper.reply and "发货" not in shopper.reply


def test_an_anonymous_shopper_must_give_order_number_and_phone_digits_before_seeing_anything(shop_a, shipped):
    shopper = Shopper(shop_a)
    shopper.says("我的订单发货了吗")
    assert "订单号" in shopper.reply and "后四位" in shopper.reply
    assert "SF1234567890" not in shopper.reply
    shopper.says("SA100001")
    assert "后四位" in shopper.reply and "SF1234567890" not in shopper.reply
    shopper.says("0000")
    assert "对不上" in shopper.reply and "SF1234567890" not in shopper.reply
    shopper.says("SA100001 尾号5678")
    assert "SF1234567890" in shopper.reply and "顺丰速运" in shopper.reply
    shopper.says("物流到哪了")  # verified once: the conversation remembers the order
    assert "SF1234567890" in shopper.reply


def test_verification_stops_after_three_wrong_attempts(shop_a, shipped):
    shopper = Shopper(shop_a)
    shopper.says("查订单 SA100001 1111")
    shopper.says("SA100001 2222")
    shopper.says("SA100001 3333")
    assert "多次未通过" in shopper.reply and shopper.quick_replies == ["转人工"]
    shopper.says("SA100001 5678")  # even the right digits: no more guessing in this conversation
    assert "SF1234567890" not in shopper.reply and "多次未通过" in shopper.reply


def test_another_shops_order_is_never_found_even_with_the_right_phone_digits(shop_a, shop_b):
    OrderFactory(
        shop=shop_b,
        external_id="SB200001",
        status=Order.Status.SHIPPED,
        receiver_phone="13900001111",
        carrier="中通快递",
        tracking_number="ZT555",
    )
    shopper = Shopper(shop_a)
    shopper.says("查订单 SB200001 1111")
    assert "对不上" in shopper.reply and "ZT555" not in shopper.reply and "中通" not in shopper.reply


def test_traditional_and_full_width_order_questions_are_understood(shop_a, shipped):
    shopper = Shopper(shop_a)
    shopper.says("我的訂單發貨了嗎？")
    assert "后四位" in shopper.reply
    shopper.says("ＳＡ１０００01，尾號５６７８")
    assert "SF1234567890" in shopper.reply


def test_an_order_answer_carries_an_order_card_in_the_message_frame(shop_a, alice, shipped):
    OrderLineFactory(order=shipped, title="轻风缓震跑步鞋", quantity=2, color="黑色", size="42")
    visitor = services.open_visitor(shop_a, visitor_token=services.new_visitor_token(), customer=alice)
    services.receive_visitor_message(visitor, "我的快递到哪了", "m-1")
    answer = Message.objects.filter(sender=Message.Sender.BOT).get()
    card = message_frame(answer)["order"]
    assert card == {
        "number": "SA100001",
        "status": "shipped",
        "status_text": "已发货",
        "total": f"{shipped.total_amount:.2f}",
        "created_at": shipped.created_at.astimezone(shop_a.tz).strftime("%m月%d日 %H:%M"),
        "carrier": "顺丰速运",
        "tracking_number": "SF1234567890",
        "lines": [{"title": "轻风缓震跑步鞋", "quantity": 2, "options": "黑色 42"}],
        "more_lines": 0,
    }


def test_a_reply_about_no_order_has_no_order_card(shop_a, alice):
    visitor = services.open_visitor(shop_a, visitor_token=services.new_visitor_token(), customer=alice)
    services.receive_visitor_message(visitor, "我的快递到哪了", "m-1")
    assert "order" not in message_frame(Message.objects.filter(sender=Message.Sender.BOT).get())
