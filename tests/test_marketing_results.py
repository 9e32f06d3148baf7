"""Campaign results in SQL: touches sent, woke up within 24 h, paid within 72 h, refunds retained."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from chat.messaging import store_message
from chat.models import Conversation, Message
from marketing.models import Campaign, Touch
from marketing.services import with_results
from shops.models import Order, Refund
from tests.factories import CampaignFactory, CustomerFactory, OrderFactory, RefundFactory

pytestmark = pytest.mark.django_db
SENT = datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def sent_touch(campaign, customer, key, **fields):
    return Touch.objects.create(
        campaign=campaign,
        shop=campaign.shop,
        customer=customer,
        channel=campaign.channel,
        idempotency_key=key,
        trigger_at=SENT - timedelta(hours=1),
        scheduled_at=SENT,
        sent_at=SENT,
        status=Touch.Status.SENT,
        **fields,
    )


def say(customer, when, text="在吗"):
    with time_machine.travel(when, tick=False):
        chat = Conversation.objects.filter(customer=customer).first() or Conversation.objects.create(
            shop=customer.shop, customer=customer, visitor_token=f"v-{customer.pk}"
        )
        store_message(chat, Message.Sender.SHOPPER, text)


def test_results_count_replies_and_returns_within_24_hours(shop_a):
    campaign = CampaignFactory(shop=shop_a, kind=Campaign.Kind.WAKE_UP)
    replied, late, returned, silent = (CustomerFactory(shop=shop_a) for _ in range(4))
    for n, customer in enumerate((replied, late, returned, silent)):
        sent_touch(campaign, customer, f"k{n}")
    say(replied, SENT + timedelta(hours=3))
    say(late, SENT + timedelta(hours=30))
    with time_machine.travel(SENT + timedelta(hours=20), tick=False):
        Conversation.objects.create(shop=shop_a, customer=returned, visitor_token="back")
    result = with_results(Campaign.objects.all()).get()
    assert result.touches_sent == 4
    assert result.woken == 2


def test_results_count_orders_paid_within_72_hours_of_the_touch(shop_a):
    campaign = CampaignFactory(shop=shop_a, kind=Campaign.Kind.PAYMENT)
    quick, slow, before = (CustomerFactory(shop=shop_a) for _ in range(3))
    for n, (customer, paid_after) in enumerate(((quick, 5), (slow, 80), (before, -2))):
        order = OrderFactory(shop=shop_a, customer=customer, created_at=SENT - timedelta(hours=3))
        Order.objects.filter(pk=order.pk).update(paid_at=SENT + timedelta(hours=paid_after))
        sent_touch(campaign, customer, f"k{n}", order=order)
    # A pending touch is not a sent one.
    Touch.objects.create(
        campaign=campaign,
        shop=shop_a,
        customer=quick,
        channel=campaign.channel,
        idempotency_key="pending",
        trigger_at=SENT,
        scheduled_at=SENT,
    )
    result = with_results(Campaign.objects.all()).get()
    assert (result.touches_sent, result.converted) == (3, 1)


def test_results_count_refunds_withdrawn_after_a_retention_touch(shop_a):
    campaign = CampaignFactory(shop=shop_a, kind=Campaign.Kind.REFUND_RETENTION)
    kept, lost = RefundFactory(order__shop=shop_a), RefundFactory(order__shop=shop_a)
    sent_touch(campaign, kept.order.customer, "kept", order=kept.order, refund=kept)
    sent_touch(campaign, lost.order.customer, "lost", order=lost.order, refund=lost)
    Refund.objects.filter(pk=kept.pk).update(status=Refund.Status.WITHDRAWN)
    Refund.objects.filter(pk=lost.pk).update(status=Refund.Status.REFUNDED)
    other = CampaignFactory(shop=shop_a, kind=Campaign.Kind.PAYMENT)
    results = {c.pk: c for c in with_results(Campaign.objects.all())}
    assert results[campaign.pk].refunds_retained == 1
    assert (results[other.pk].touches_sent, results[other.pk].refunds_retained) == (0, 0)


def test_the_campaign_changelist_shows_the_results(client, manager_a, shop_a):
    campaign = CampaignFactory(shop=shop_a, kind=Campaign.Kind.WAKE_UP, name="双十一唤醒")
    woken, silent = CustomerFactory(shop=shop_a), CustomerFactory(shop=shop_a)
    sent_touch(campaign, woken, "a")
    sent_touch(campaign, silent, "b")
    say(woken, SENT + timedelta(hours=1))
    client.force_login(manager_a)
    response = client.get(reverse("admin:marketing_campaign_changelist"))
    row = next(r for r in response.context["cl"].result_list if r.pk == campaign.pk)
    assert (row.touches_sent, row.woken) == (2, 1)
    assert "1 (50%)" in response.content.decode()
