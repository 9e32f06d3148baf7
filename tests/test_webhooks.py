"""Outbound webhooks: signed, delivered after commit, retried with back-off, logged."""

import json

import pytest

from api.models import WebhookDelivery, WebhookSubscription
from api.publishing import publish_event
from api.webhooks import backoff_seconds, sign

pytestmark = pytest.mark.django_db(transaction=True)


def subscribe(shop, url, events=("qa.alert",)):
    return WebhookSubscription.objects.create(shop=shop, url=url, events=list(events))


def test_an_event_is_posted_signed_to_each_subscriber_of_that_shop(shop_a, shop_b, webhook_receiver):
    subscription = subscribe(shop_a, webhook_receiver.url)
    subscribe(shop_b, webhook_receiver.url)
    publish_event(shop_a.pk, "qa.alert", {"rule": "banned_words", "text": "保证有效"})
    assert len(webhook_receiver.requests) == 1
    request = webhook_receiver.requests[0]
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["x-shopbee-signature"] == sign(subscription.secret, headers["x-shopbee-timestamp"], request["body"])
    body = json.loads(request["body"])
    assert body["event"] == "qa.alert" and body["shop"] == shop_a.pk and body["data"]["text"] == "保证有效"
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "delivered" and delivery.attempts == 1 and delivery.response_code == 200


def test_a_subscriber_gets_only_the_events_it_asked_for(shop_a, webhook_receiver):
    subscribe(shop_a, webhook_receiver.url, events=["work_order.created"])
    assert publish_event(shop_a.pk, "qa.alert", {}) == []
    assert webhook_receiver.requests == []


def test_a_server_error_is_retried_until_it_succeeds(shop_a, webhook_receiver):
    subscribe(shop_a, webhook_receiver.url)
    webhook_receiver.codes = [500, 503]
    publish_event(shop_a.pk, "qa.alert", {"n": 1})
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "delivered"
    assert delivery.attempts == 3
    assert len(webhook_receiver.requests) == 3
    assert len({r["headers"]["X-Shopbee-Delivery"] for r in webhook_receiver.requests}) == 1


def test_a_client_error_is_final_and_logged(shop_a, webhook_receiver):
    subscribe(shop_a, webhook_receiver.url)
    webhook_receiver.codes = [410]
    publish_event(shop_a.pk, "qa.alert", {})
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and delivery.attempts == 1 and delivery.response_code == 410


def test_an_unreachable_endpoint_gives_up_after_the_last_attempt(shop_a):
    subscribe(shop_a, "http://127.0.0.1:9/unreachable")
    publish_event(shop_a.pk, "qa.alert", {})
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and delivery.attempts == 6
    assert "ConnectionError" in delivery.last_error


def test_back_off_doubles_and_is_capped():
    assert [backoff_seconds(n) for n in (1, 2, 3)] == [30, 60, 120]
    assert backoff_seconds(20) == 3600


def test_a_private_address_is_refused_outside_local_development(shop_a, webhook_receiver, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    subscribe(shop_a, webhook_receiver.url)
    publish_event(shop_a.pk, "qa.alert", {})
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and delivery.attempts == 1
    assert "non-public address" in delivery.last_error
    assert webhook_receiver.requests == []
