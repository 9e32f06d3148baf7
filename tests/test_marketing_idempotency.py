"""A touch goes out once: under a redelivered send task, a double enqueue and a second scan."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from chat.models import Conversation, Message
from marketing.models import Campaign, Touch
from marketing.services import scan_shop, send_touch
from marketing.tasks import scan_shop_campaigns, send_touches
from shops.models import Order
from tests.factories import CampaignFactory, CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db(transaction=True)
NOON = datetime(2026, 11, 24, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def due_touch(shop_a):
    """A pending, due payment reminder of an unpaid order."""
    customer = CustomerFactory(shop=shop_a)
    chat = Conversation.objects.create(shop=shop_a, customer=customer, visitor_token="v-1")
    campaign = CampaignFactory(shop=shop_a, kind=Campaign.Kind.PAYMENT, delay_minutes=0, daily_cap=5)
    order = OrderFactory(shop=shop_a, customer=customer, status=Order.Status.UNPAID, paid_amount=0, created_at=NOON)
    touch = Touch.objects.create(
        campaign=campaign,
        shop=shop_a,
        customer=customer,
        order=order,
        channel=Campaign.Channel.IN_CHAT,
        idempotency_key="test:1",
        trigger_at=NOON,
        scheduled_at=NOON,
    )
    return touch, chat


def test_a_redelivered_send_task_sends_the_touch_once(due_touch):
    touch, chat = due_touch
    with time_machine.travel(NOON, tick=False):
        first = send_touches.apply(args=[[touch.pk]]).get()
        again = send_touches.apply(args=[[touch.pk]]).get()
    assert first == ["sent"] and again == ["already_done"]
    assert Message.objects.filter(conversation=chat, intent="marketing").count() == 1


def test_a_touch_enqueued_twice_in_one_batch_is_sent_once(due_touch):
    touch, chat = due_touch
    with time_machine.travel(NOON, tick=False):
        assert send_touches.apply(args=[[touch.pk, touch.pk]]).get() == ["sent", "already_done"]
    assert Message.objects.filter(conversation=chat, intent="marketing").count() == 1


def test_a_touch_sent_by_another_worker_first_is_not_sent_again(due_touch):
    touch, chat = due_touch
    # Another worker claimed it between this worker's read and its claim: the conditional UPDATE loses.
    Touch.objects.filter(pk=touch.pk).update(status=Touch.Status.SENT, sent_at=NOON)
    with time_machine.travel(NOON, tick=False):
        assert send_touch(touch.pk) == "already_done"
    assert Message.objects.filter(conversation=chat).count() == 0


def test_a_second_scan_creates_and_sends_nothing_new(shop_a):
    customer = CustomerFactory(shop=shop_a)
    chat = Conversation.objects.create(shop=shop_a, customer=customer, visitor_token="v-2")
    with time_machine.travel(NOON, tick=False) as clock:
        CampaignFactory(shop=shop_a, kind=Campaign.Kind.PAYMENT, delay_minutes=10, daily_cap=5)
        OrderFactory(shop=shop_a, customer=customer, status=Order.Status.UNPAID, paid_amount=0, created_at=NOON)
        clock.shift(60 * 11)
        first = scan_shop_campaigns.apply(args=[shop_a.pk]).get()
        clock.shift(60 * 30)
        second = scan_shop_campaigns.apply(args=[shop_a.pk]).get()
    assert first["created"] == 1 and first["enqueued"] == 1
    assert second == {"retired": 0, "created": 0, "enqueued": 0}
    assert Touch.objects.count() == 1
    assert Message.objects.filter(conversation=chat, intent="marketing").count() == 1


def test_a_scan_re_enqueues_a_touch_whose_worker_was_lost(shop_a):
    customer = CustomerFactory(shop=shop_a)
    Conversation.objects.create(shop=shop_a, customer=customer, visitor_token="v-3")
    with time_machine.travel(NOON, tick=False) as clock:
        CampaignFactory(shop=shop_a, kind=Campaign.Kind.PAYMENT, delay_minutes=0)
        OrderFactory(shop=shop_a, customer=customer, status=Order.Status.UNPAID, paid_amount=0, created_at=NOON)
        clock.shift(60)
        scan_shop(shop_a)
        touch = Touch.objects.get()
        # As if the send task was lost after the enqueue: still pending, enqueued a minute ago.
        Touch.objects.filter(pk=touch.pk).update(status=Touch.Status.PENDING, sent_at=None)
        clock.shift(60)
        assert scan_shop(shop_a).enqueued == 0
        clock.shift(16 * 60)
        assert scan_shop(shop_a).enqueued == 1
