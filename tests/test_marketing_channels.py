"""The two channels behind one interface: in-chat push and the signed outbound webhook."""

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from asgiref.sync import async_to_sync

from api.models import WebhookDelivery, WebhookSubscription
from chat.messaging import conversation_group
from chat.models import Conversation, Message
from core.outbound import sign
from marketing.models import Campaign, Touch
from marketing.services import scan_shop
from shops.models import Order
from tests.chat_sockets import group_event
from tests.deliveries import settle
from tests.factories import CampaignFactory, CustomerFactory, OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db(transaction=True)
NOON = datetime(2026, 11, 24, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def customer(shop_a):
    return CustomerFactory(shop=shop_a, nickname="橘子汽水", phone="13800001111")


def unpaid(shop, customer):
    order = OrderFactory(
        shop=shop, customer=customer, status=Order.Status.UNPAID, paid_amount=0, created_at=NOON - timedelta(hours=1)
    )
    OrderLineFactory(order=order)
    return order


def test_the_webhook_channel_posts_a_signed_touch_for_the_sms_provider(shop_a, customer, webhook_receiver):
    subscription = WebhookSubscription.objects.create(shop=shop_a, url=webhook_receiver.url, events=["marketing.touch"])
    CampaignFactory(
        shop=shop_a, kind=Campaign.Kind.PAYMENT, channel=Campaign.Channel.WEBHOOK, template="{nickname}，记得付款哦"
    )
    order = unpaid(shop_a, customer)
    with time_machine.travel(NOON, tick=False):
        scan_shop(shop_a)
    settle()
    [request] = webhook_receiver.requests
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["x-shopbee-event"] == "marketing.touch"
    assert headers["x-shopbee-signature"] == sign(subscription.secret, headers["x-shopbee-timestamp"], request["body"])
    data = json.loads(request["body"])["data"]
    touch = Touch.objects.get()
    assert data["text"] == "橘子汽水，记得付款哦"
    assert data["customer"]["phone"] == "13800001111"
    assert data["order"] == order.external_id
    assert data["idempotency_key"] == touch.idempotency_key
    assert touch.status == Touch.Status.SENT
    assert not Message.objects.filter(intent="marketing").exists()


def test_the_webhook_channel_retries_a_failing_provider(shop_a, customer, webhook_receiver):
    WebhookSubscription.objects.create(shop=shop_a, url=webhook_receiver.url, events=["marketing.touch"])
    webhook_receiver.codes = [503]
    CampaignFactory(shop=shop_a, kind=Campaign.Kind.PAYMENT, channel=Campaign.Channel.WEBHOOK)
    unpaid(shop_a, customer)
    with time_machine.travel(NOON, tick=False):
        scan_shop(shop_a)
    settle()
    delivery = WebhookDelivery.objects.get(event="marketing.touch")
    assert delivery.status == WebhookDelivery.Status.DELIVERED and delivery.attempts == 2
    assert len({r["headers"]["X-Shopbee-Delivery"] for r in webhook_receiver.requests}) == 1


def test_without_a_subscribed_provider_the_webhook_touch_is_skipped(shop_a, customer, webhook_receiver):
    WebhookSubscription.objects.create(shop=shop_a, url=webhook_receiver.url, events=["qa.alert"])
    CampaignFactory(shop=shop_a, kind=Campaign.Kind.PAYMENT, channel=Campaign.Channel.WEBHOOK)
    unpaid(shop_a, customer)
    with time_machine.travel(NOON, tick=False):
        scan_shop(shop_a)
    touch = Touch.objects.get()
    assert touch.status == Touch.Status.SKIPPED and touch.skip_reason == Touch.SkipReason.NO_WEBHOOK
    assert touch.sent_at is None and webhook_receiver.requests == []


def test_the_in_chat_channel_posts_in_the_latest_conversation_and_reaches_its_sockets(shop_a, customer):
    with time_machine.travel(NOON - timedelta(days=2), tick=False):
        older = Conversation.objects.create(shop=shop_a, customer=customer, visitor_token="v-old")
    with time_machine.travel(NOON - timedelta(hours=2), tick=False):
        latest = Conversation.objects.create(shop=shop_a, customer=customer, visitor_token="v-new")
    CampaignFactory(shop=shop_a, kind=Campaign.Kind.PAYMENT, template="{nickname}，订单还差 ¥{amount}")
    unpaid(shop_a, customer)
    # The in-memory layer expires messages by the clock: connect, send and receive at the same time.
    with time_machine.travel(NOON, tick=False):
        event = async_to_sync(group_event)(conversation_group(latest.pk), lambda: scan_shop(shop_a))
    assert event["type"] == "chat.messages"
    [frame] = event["frames"]
    assert frame["text"] == "橘子汽水，订单还差 ¥299"
    assert frame["sender"] == "bot"
    stored = Message.objects.get(intent="marketing")
    assert stored.conversation == latest and stored.pk == frame["id"]
    assert not older.messages.exists()
    assert Touch.objects.get().message == stored


def test_an_offline_shopper_finds_the_touch_stored_in_the_conversation(shop_a, customer):
    chat = Conversation.objects.create(shop=shop_a, customer=customer, visitor_token="v-1")
    CampaignFactory(shop=shop_a, kind=Campaign.Kind.PAYMENT)
    unpaid(shop_a, customer)
    with time_machine.travel(NOON, tick=False):
        scan_shop(shop_a)
    assert list(chat.messages.values_list("intent", flat=True)) == ["marketing"]


def test_a_customer_without_any_conversation_is_skipped_in_chat(shop_a, customer):
    CampaignFactory(shop=shop_a, kind=Campaign.Kind.PAYMENT)
    unpaid(shop_a, customer)
    with time_machine.travel(NOON, tick=False):
        scan_shop(shop_a)
    assert Touch.objects.get().skip_reason == Touch.SkipReason.NO_CONVERSATION
