"""Each campaign type, in frozen time: trigger, delay, quiet hours, daily cap, stop on goal, opt-out."""

from datetime import datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from chat.messaging import store_message
from chat.models import Conversation, Message
from marketing.models import Campaign, Touch
from marketing.services import scan_shop, send_touch
from shops.models import Order, Refund
from tests.factories import (
    CampaignFactory,
    CouponFactory,
    CustomerFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    RefundFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)
SHANGHAI = ZoneInfo("Asia/Shanghai")
Kind = Campaign.Kind


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in November 2026, Shanghai time."""
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def clock():
    with time_machine.travel(at(24, 10), tick=False) as traveller:
        yield traveller


@pytest.fixture
def customer(shop_a):
    return CustomerFactory(shop=shop_a, nickname="小鹿")


@pytest.fixture
def chat(shop_a, customer):
    return Conversation.objects.create(shop=shop_a, customer=customer, visitor_token="v-xiaolu")


def marketing_messages(chat):
    return list(Message.objects.filter(conversation=chat, intent="marketing").order_by("pk"))


def unpaid_order(shop, customer, created_at, total="299.00"):
    order = OrderFactory(
        shop=shop,
        customer=customer,
        status=Order.Status.UNPAID,
        total_amount=Decimal(total),
        paid_amount=Decimal("0"),
        created_at=created_at,
    )
    OrderLineFactory(order=order, product=ProductFactory(shop=shop, title="轻跑 3 代跑鞋"))
    return order


# --- 催付: unpaid orders -------------------------------------------------------------------------


def test_an_unpaid_order_is_reminded_once_its_delay_has_passed(clock, shop_a, customer, chat):
    CampaignFactory(shop=shop_a, kind=Kind.PAYMENT, delay_minutes=30, template="{nickname}，{product}还差 ¥{amount}")
    unpaid_order(shop_a, customer, at(24, 10), total="299.00")
    clock.move_to(at(24, 10, 29))
    assert scan_shop(shop_a).created == 0
    clock.move_to(at(24, 10, 31))
    report = scan_shop(shop_a)
    assert report.created == 1 and report.enqueued == 1
    [message] = marketing_messages(chat)
    assert message.text == "小鹿，轻跑 3 代跑鞋还差 ¥299"
    touch = Touch.objects.get()
    assert touch.status == Touch.Status.SENT and touch.message == message and touch.sent_at == at(24, 10, 31)


def test_an_order_older_than_the_window_is_not_chased(clock, shop_a, customer, chat):
    CampaignFactory(shop=shop_a, kind=Kind.PAYMENT, delay_minutes=30, window_hours=24)
    unpaid_order(shop_a, customer, at(22, 9))
    assert scan_shop(shop_a).created == 0


def test_a_touch_due_in_quiet_hours_waits_for_their_end(clock, shop_a, customer, chat):
    CampaignFactory(shop=shop_a, kind=Kind.PAYMENT, delay_minutes=30, quiet_start=time(22), quiet_end=time(8))
    unpaid_order(shop_a, customer, at(24, 21, 50))
    clock.move_to(at(24, 22, 25))
    report = scan_shop(shop_a)
    assert report.created == 1 and report.enqueued == 0
    assert Touch.objects.get().scheduled_at == at(25, 8)
    clock.move_to(at(25, 7, 59))
    scan_shop(shop_a)
    assert marketing_messages(chat) == []
    clock.move_to(at(25, 8, 1))
    assert scan_shop(shop_a).enqueued == 1
    assert len(marketing_messages(chat)) == 1


def test_a_send_that_lands_in_quiet_hours_is_moved_to_their_end(clock, shop_a, customer, chat):
    campaign = CampaignFactory(
        shop=shop_a, kind=Kind.PAYMENT, delay_minutes=30, quiet_start=time(22), quiet_end=time(8)
    )
    unpaid_order(shop_a, customer, at(24, 21, 50))
    clock.move_to(at(24, 22, 30))
    scan_shop(shop_a)
    touch = Touch.objects.get()
    campaign.quiet_end = time(9)
    campaign.save()
    clock.move_to(at(25, 8, 1))
    assert send_touch(touch.pk) == "rescheduled"
    touch.refresh_from_db()
    assert touch.status == Touch.Status.PENDING and touch.scheduled_at == at(25, 9)
    assert marketing_messages(chat) == []


def test_the_daily_cap_holds_a_second_touch_until_the_next_day(clock, shop_a, customer, chat):
    CampaignFactory(shop=shop_a, kind=Kind.PAYMENT, delay_minutes=30, daily_cap=1)
    unpaid_order(shop_a, customer, at(24, 9))
    unpaid_order(shop_a, customer, at(24, 9, 10))
    scan_shop(shop_a)
    assert len(marketing_messages(chat)) == 1
    held = Touch.objects.get(status=Touch.Status.PENDING)
    assert held.scheduled_at == at(25, 0)
    clock.move_to(at(24, 23, 59))
    scan_shop(shop_a)
    assert len(marketing_messages(chat)) == 1
    clock.move_to(at(25, 0, 5))
    scan_shop(shop_a)
    assert len(marketing_messages(chat)) == 2


def test_the_cap_counts_touches_of_every_campaign_of_the_shop(clock, shop_a, customer, chat):
    CampaignFactory(shop=shop_a, kind=Kind.PAYMENT, delay_minutes=30, daily_cap=2)
    CampaignFactory(shop=shop_a, kind=Kind.REFUND_RETENTION, delay_minutes=0, daily_cap=1)
    unpaid_order(shop_a, customer, at(24, 9))
    with time_machine.travel(at(24, 9, 45), tick=False):
        RefundFactory(order=OrderFactory(shop=shop_a, customer=customer, status=Order.Status.REFUND_REQUESTED))
    scan_shop(shop_a)
    kinds = set(Touch.objects.filter(status=Touch.Status.SENT).values_list("campaign__kind", flat=True))
    assert len(kinds) == 1
    assert Touch.objects.filter(status=Touch.Status.PENDING).count() == 1


def test_paying_before_the_send_stops_a_scheduled_touch(clock, shop_a, customer, chat):
    CampaignFactory(shop=shop_a, kind=Kind.PAYMENT, delay_minutes=30, quiet_start=time(22), quiet_end=time(8))
    order = unpaid_order(shop_a, customer, at(24, 21, 50))
    clock.move_to(at(24, 22, 30))
    scan_shop(shop_a)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.PAID, paid_amount=order.total_amount)
    clock.move_to(at(25, 8, 30))
    report = scan_shop(shop_a)
    assert report.retired == 1 and report.enqueued == 0
    touch = Touch.objects.get()
    assert touch.status == Touch.Status.SKIPPED and touch.skip_reason == Touch.SkipReason.GOAL_REACHED
    assert marketing_messages(chat) == []


def test_a_touch_already_enqueued_is_not_sent_once_the_order_is_paid(clock, shop_a, customer, chat):
    CampaignFactory(shop=shop_a, kind=Kind.PAYMENT, delay_minutes=30, quiet_start=time(22), quiet_end=time(8))
    order = unpaid_order(shop_a, customer, at(24, 21, 50))
    clock.move_to(at(24, 22, 30))
    scan_shop(shop_a)
    touch = Touch.objects.get()
    Order.objects.filter(pk=order.pk).update(status=Order.Status.PAID, paid_amount=order.total_amount)
    clock.move_to(at(25, 8, 30))
    # The send task arrives without a scan having retired the touch first.
    assert send_touch(touch.pk) == "skipped"
    assert marketing_messages(chat) == []


def test_an_opted_out_customer_gets_no_touch(clock, shop_a, customer, chat):
    CampaignFactory(shop=shop_a, kind=Kind.PAYMENT, delay_minutes=30)
    customer.marketing_opt_out = True
    customer.save()
    unpaid_order(shop_a, customer, at(24, 9))
    assert scan_shop(shop_a).created == 0
    assert marketing_messages(chat) == []


def test_opting_out_after_the_touch_was_scheduled_stops_it(clock, shop_a, customer, chat):
    CampaignFactory(shop=shop_a, kind=Kind.PAYMENT, delay_minutes=30, quiet_start=time(9), quiet_end=time(12))
    unpaid_order(shop_a, customer, at(24, 8))
    scan_shop(shop_a)
    touch = Touch.objects.get()
    customer.marketing_opt_out = True
    customer.save()
    clock.move_to(at(24, 12, 1))
    assert send_touch(touch.pk) == "skipped"
    touch.refresh_from_db()
    assert touch.skip_reason == Touch.SkipReason.OPTED_OUT
    assert marketing_messages(chat) == []


def test_a_disabled_campaign_neither_scans_nor_sends(clock, shop_a, customer, chat):
    campaign = CampaignFactory(
        shop=shop_a, kind=Kind.PAYMENT, delay_minutes=30, quiet_start=time(9), quiet_end=time(12)
    )
    unpaid_order(shop_a, customer, at(24, 8))
    scan_shop(shop_a)
    campaign.enabled = False
    campaign.save()
    clock.move_to(at(24, 12, 1))
    scan_shop(shop_a)
    assert Touch.objects.get().skip_reason == Touch.SkipReason.CAMPAIGN_DISABLED
    assert marketing_messages(chat) == []


# --- 催拍: asked about a product, did not order ------------------------------------------------


def show_product(chat, product):
    card = {"id": product.pk, "sku": product.sku, "title": product.title, "price": f"{product.price:.2f}"}
    store_message(chat, Message.Sender.SHOPPER, "有适合跑步的鞋吗", intent="recommend")
    store_message(chat, Message.Sender.BOT, "为您推荐这款", payload={"products": [card]}, intent="recommend")


def test_a_shopper_shown_a_product_who_did_not_order_is_nudged_about_it(clock, shop_a, customer, chat):
    product = ProductFactory(shop=shop_a, title="云朵缓震跑鞋")
    CampaignFactory(shop=shop_a, kind=Kind.CART, delay_minutes=60, template="{nickname}，{product}库存不多啦")
    show_product(chat, product)
    clock.move_to(at(24, 10, 59))
    assert scan_shop(shop_a).created == 0
    clock.move_to(at(24, 11, 1))
    scan_shop(shop_a)
    [message] = marketing_messages(chat)
    assert message.text == "小鹿，云朵缓震跑鞋库存不多啦"
    assert [p["id"] for p in message.payload["products"]] == [product.pk]


def test_a_shopper_interested_in_two_conversations_is_nudged_once_about_the_latest(clock, shop_a, customer, chat):
    CampaignFactory(shop=shop_a, kind=Kind.CART, delay_minutes=60)
    show_product(chat, ProductFactory(shop=shop_a))
    clock.move_to(at(24, 10, 30))
    later_chat = Conversation.objects.create(shop=shop_a, customer=customer, visitor_token="v-xiaolu-2")
    show_product(later_chat, ProductFactory(shop=shop_a))
    clock.move_to(at(24, 11, 20))
    assert scan_shop(shop_a).created == 0  # the latest interest is 50 minutes old
    clock.move_to(at(24, 11, 31))
    assert scan_shop(shop_a).created == 1
    latest = Message.objects.filter(conversation=later_chat, sender=Message.Sender.BOT, intent="recommend").get()
    assert Touch.objects.get().trigger_message == latest


def test_a_shopper_who_ordered_after_asking_is_not_nudged(clock, shop_a, customer, chat):
    CampaignFactory(shop=shop_a, kind=Kind.CART, delay_minutes=60)
    show_product(chat, ProductFactory(shop=shop_a))
    OrderFactory(shop=shop_a, customer=customer, created_at=at(24, 10, 20))
    clock.move_to(at(24, 11, 1))
    assert scan_shop(shop_a).created == 0


def test_ordering_while_a_nudge_waits_out_quiet_hours_cancels_it(clock, shop_a, customer, chat):
    CampaignFactory(shop=shop_a, kind=Kind.CART, delay_minutes=60, quiet_start=time(11), quiet_end=time(13))
    show_product(chat, ProductFactory(shop=shop_a))
    clock.move_to(at(24, 11, 5))
    scan_shop(shop_a)
    OrderFactory(shop=shop_a, customer=customer, created_at=at(24, 12))
    clock.move_to(at(24, 13, 1))
    scan_shop(shop_a)
    assert Touch.objects.get().skip_reason == Touch.SkipReason.GOAL_REACHED
    assert marketing_messages(chat) == []


def test_a_product_id_of_another_shop_in_a_stored_card_is_not_linked(clock, shop_a, shop_b, customer, chat):
    CampaignFactory(shop=shop_a, kind=Kind.CART, delay_minutes=60)
    show_product(chat, ProductFactory(shop=shop_b))
    clock.move_to(at(24, 11, 1))
    scan_shop(shop_a)
    assert Touch.objects.get().product is None


# --- wake-up: interested, then silent ----------------------------------------------------------


def test_an_interested_shopper_gone_quiet_is_woken_after_the_delay(clock, shop_a, customer, chat):
    CampaignFactory(shop=shop_a, kind=Kind.WAKE_UP, delay_minutes=24 * 60, window_hours=7 * 24)
    store_message(chat, Message.Sender.SHOPPER, "这款有42码吗", intent="product_detail")
    clock.move_to(at(24, 18))
    store_message(chat, Message.Sender.SHOPPER, "我再想想")
    clock.move_to(at(25, 10, 1))
    assert scan_shop(shop_a).created == 0  # the last message was at 18:00
    clock.move_to(at(25, 18, 1))
    assert scan_shop(shop_a).created == 1
    assert len(marketing_messages(chat)) == 1
    clock.move_to(at(25, 19))
    assert scan_shop(shop_a).created == 0


def test_a_shopper_who_never_showed_interest_is_not_woken(clock, shop_a, customer, chat):
    CampaignFactory(shop=shop_a, kind=Kind.WAKE_UP, delay_minutes=60)
    store_message(chat, Message.Sender.SHOPPER, "你好")
    clock.move_to(at(24, 12))
    assert scan_shop(shop_a).created == 0


def test_a_shopper_who_comes_back_before_the_send_is_not_woken(clock, shop_a, customer, chat):
    CampaignFactory(shop=shop_a, kind=Kind.WAKE_UP, delay_minutes=180, quiet_start=time(11), quiet_end=time(14))
    store_message(chat, Message.Sender.SHOPPER, "推荐一双跑鞋", intent="recommend")
    clock.move_to(at(24, 13, 5))
    assert scan_shop(shop_a).created == 1
    clock.move_to(at(24, 13, 30))
    store_message(chat, Message.Sender.SHOPPER, "我回来了")
    clock.move_to(at(24, 14, 1))
    scan_shop(shop_a)
    assert Touch.objects.filter(status=Touch.Status.SKIPPED, skip_reason="goal_reached").count() == 1
    assert marketing_messages(chat) == []


# --- presale final payment --------------------------------------------------------------------


def presale_order(shop, customer, due):
    return OrderFactory(
        shop=shop,
        customer=customer,
        status=Order.Status.DEPOSIT_PAID,
        total_amount=Decimal("500.00"),
        deposit_amount=Decimal("100.00"),
        paid_amount=Decimal("100.00"),
        final_payment_due=due,
        created_at=at(20, 10),
    )


def test_the_final_payment_reminder_goes_out_a_day_before_the_deadline(clock, shop_a, customer, chat):
    CampaignFactory(
        shop=shop_a, kind=Kind.PRESALE_FINAL, delay_minutes=0, template="尾款 ¥{amount} 请在 {deadline} 前支付"
    )
    presale_order(shop_a, customer, due=at(26, 20))
    clock.move_to(at(25, 19, 59))
    assert scan_shop(shop_a).created == 0
    clock.move_to(at(25, 20, 1))
    scan_shop(shop_a)
    [message] = marketing_messages(chat)
    assert message.text == "尾款 ¥400 请在 11月26日 20:00 前支付"


def test_paying_the_balance_stops_the_presale_reminder(clock, shop_a, customer, chat):
    CampaignFactory(shop=shop_a, kind=Kind.PRESALE_FINAL, delay_minutes=0, quiet_start=time(20), quiet_end=time(9))
    order = presale_order(shop_a, customer, due=at(26, 20))
    clock.move_to(at(25, 21))
    scan_shop(shop_a)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.PAID, paid_amount=order.total_amount)
    clock.move_to(at(26, 9, 1))
    scan_shop(shop_a)
    assert Touch.objects.get().skip_reason == Touch.SkipReason.GOAL_REACHED
    assert marketing_messages(chat) == []


# --- refund retention -------------------------------------------------------------------------


def test_a_refund_request_gets_a_retention_offer_with_its_coupon(clock, shop_a, customer, chat):
    coupon = CouponFactory(shop=shop_a, threshold=Decimal("199"), discount=Decimal("20"), valid_until=at(30, 23, 59))
    CampaignFactory(
        shop=shop_a,
        kind=Kind.REFUND_RETENTION,
        delay_minutes=10,
        coupon=coupon,
        template="{nickname}，退款 ¥{amount} 已收到，换货也可以哦",
    )
    RefundFactory(order=OrderFactory(shop=shop_a, customer=customer, status=Order.Status.REFUND_REQUESTED))
    clock.move_to(at(24, 10, 9))
    assert scan_shop(shop_a).created == 0
    clock.move_to(at(24, 10, 11))
    scan_shop(shop_a)
    [message] = marketing_messages(chat)
    assert message.text == "小鹿，退款 ¥299 已收到，换货也可以哦\n送您一张满199减20的优惠券，11月30日 23:59前有效。"
    assert message.payload["coupon"]["id"] == coupon.pk


def test_withdrawing_the_refund_stops_the_retention_offer(clock, shop_a, customer, chat):
    CampaignFactory(shop=shop_a, kind=Kind.REFUND_RETENTION, delay_minutes=10, quiet_start=time(10), quiet_end=time(11))
    refund = RefundFactory(order=OrderFactory(shop=shop_a, customer=customer, status=Order.Status.REFUND_REQUESTED))
    clock.move_to(at(24, 10, 11))
    scan_shop(shop_a)
    Refund.objects.filter(pk=refund.pk).update(status=Refund.Status.WITHDRAWN)
    clock.move_to(at(24, 11, 1))
    scan_shop(shop_a)
    assert Touch.objects.get().skip_reason == Touch.SkipReason.GOAL_REACHED
    assert marketing_messages(chat) == []


def test_a_shop_scan_never_touches_another_shops_customers(clock, shop_a, shop_b, customer, chat):
    CampaignFactory(shop=shop_a, kind=Kind.PAYMENT, delay_minutes=30)
    other = CustomerFactory(shop=shop_b)
    unpaid_order(shop_b, other, at(24, 9))
    assert scan_shop(shop_a).created == 0
    assert Touch.objects.count() == 0
