"""Every webhook event is declared once in api.events, and its domain signal reaches the shop's subscribers."""

from collections.abc import Callable
from typing import Any

import pytest

from analytics.alerts import alert_frame
from api.events import WEBHOOK_SOURCES
from api.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from marketing.models import Campaign
from shops.models import Shop
from tests.factories import (
    ConversationFactory,
    InvoiceRequestFactory,
    MessageFactory,
    QAFindingFactory,
    QuotaWarningFactory,
    TouchFactory,
    WorkOrderFactory,
)

pytestmark = pytest.mark.django_db


def _closed(shop: Shop) -> dict[str, Any]:
    conversation = ConversationFactory(shop=shop)
    MessageFactory(conversation=conversation)
    return {"conversation": conversation}


def _alert(shop: Shop) -> dict[str, Any]:
    finding = QAFindingFactory(message__conversation__shop=shop)
    return {"finding": finding, "frame": alert_frame(finding)}


def _touch(shop: Shop) -> dict[str, Any]:
    touch = TouchFactory(campaign__shop=shop, campaign__channel=Campaign.Channel.WEBHOOK)
    return {"touch": touch, "text": "记得付款哦", "content": {"products": [], "coupon": None}}


# The keyword arguments each event's domain code sends its signal with.
SIGNAL_ARGUMENTS: dict[str, Callable[[Shop], dict[str, Any]]] = {
    WebhookEvent.CONVERSATION_CLOSED: _closed,
    WebhookEvent.WORK_ORDER_CREATED: lambda shop: {"work_order": WorkOrderFactory(shop=shop), "created": True},
    WebhookEvent.WORK_ORDER_UPDATED: lambda shop: {"work_order": WorkOrderFactory(shop=shop), "created": False},
    WebhookEvent.INVOICE_REQUESTED: lambda shop: {"invoice": InvoiceRequestFactory(shop=shop)},
    WebhookEvent.QA_ALERT: _alert,
    WebhookEvent.MARKETING_TOUCH: _touch,
    WebhookEvent.QUOTA_WARNING: lambda shop: {"warning": QuotaWarningFactory(shop=shop)},
}

WORK_ORDER_KEYS = {
    "id",
    "kind",
    "status",
    "conversation",
    "order",
    "details",
    "data",
    "resolution",
    "due_at",
    "updated_at",
}
# The data each event carries: the contract with the ISVs, changed only on purpose.
PAYLOAD_KEYS: dict[str, set[str]] = {
    WebhookEvent.CONVERSATION_CLOSED: {
        "id",
        "channel",
        "customer",
        "handoff_reason",
        "agent",
        "started_at",
        "handed_over_at",
        "ended_at",
        "satisfaction",
        "messages",
        "shopper_messages",
    },
    WebhookEvent.WORK_ORDER_CREATED: WORK_ORDER_KEYS,
    WebhookEvent.WORK_ORDER_UPDATED: WORK_ORDER_KEYS,
    WebhookEvent.INVOICE_REQUESTED: {"id", "status", "title", "tax_id", "email", "order", "conversation"},
    WebhookEvent.QA_ALERT: {
        "type",
        "finding",
        "shop",
        "shop_name",
        "conversation",
        "message",
        "rule",
        "kind",
        "kind_display",
        "severity",
        "evidence",
        "text",
        "url",
        "created_at",
    },
    WebhookEvent.MARKETING_TOUCH: {
        "touch",
        "idempotency_key",
        "campaign",
        "customer",
        "order",
        "text",
        "products",
        "coupon",
    },
    WebhookEvent.QUOTA_WARNING: {"threshold", "used", "quota", "month"},
}


def test_every_webhook_event_is_declared_exactly_once():
    assert sorted(source.event for source in WEBHOOK_SOURCES) == sorted(WebhookEvent)


def test_every_webhook_event_has_its_signal_arguments_and_payload_here():
    assert set(SIGNAL_ARGUMENTS) == set(PAYLOAD_KEYS) == set(WebhookEvent)


@pytest.mark.parametrize("source", WEBHOOK_SOURCES, ids=lambda source: source.event.value)
def test_a_declared_signal_queues_its_event_for_the_subscribers_of_that_shop_only(source, shop_a, shop_b):
    for shop in (shop_a, shop_b):
        WebhookSubscription.objects.create(shop=shop, url="https://isv.example.com/hooks", events=WebhookEvent.values)
    arguments = SIGNAL_ARGUMENTS[source.event](shop_a)
    subject = arguments[source.subject]
    responses = source.signal.send(sender=type(subject), **arguments)
    [delivery] = WebhookDelivery.objects.all()
    assert (delivery.event, delivery.shop_id) == (source.event, shop_a.pk)
    assert set(delivery.payload) == PAYLOAD_KEYS[source.event]
    assert [delivery] in [response for _, response in responses]


def test_a_signal_nobody_subscribed_to_queues_nothing_and_says_so(shop_a):
    WebhookSubscription.objects.create(shop=shop_a, url="https://isv.example.com/hooks", events=["qa.alert"])
    [source] = [s for s in WEBHOOK_SOURCES if s.event == WebhookEvent.MARKETING_TOUCH]
    responses = source.signal.send(sender=None, **_touch(shop_a))
    assert not any(response for _, response in responses)
    assert not WebhookDelivery.objects.exists()
