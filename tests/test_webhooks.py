"""Outbound webhooks: signed, delivered after commit off the request path, retried with back-off, logged."""

import json
import threading
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from api.dispatch import executor
from api.models import WebhookDelivery, WebhookSubscription
from api.publishing import publish_event
from api.tasks import deliver_webhook, sweep_webhook_deliveries
from api.webhooks import backoff_seconds, sign
from chat.services import close_held_conversation
from tests.deliveries import settle
from tests.factories import ConversationFactory

pytestmark = pytest.mark.django_db(transaction=True)


def subscribe(shop, url, events=("qa.alert",)):
    return WebhookSubscription.objects.create(shop=shop, url=url, events=list(events))


def published(shop, payload=None) -> WebhookDelivery:
    publish_event(shop.pk, "qa.alert", payload or {})
    settle()
    return WebhookDelivery.objects.get()


def test_an_event_is_posted_signed_to_each_subscriber_of_that_shop(shop_a, shop_b, webhook_receiver):
    subscription = subscribe(shop_a, webhook_receiver.url)
    subscribe(shop_b, webhook_receiver.url)
    delivery = published(shop_a, {"rule": "banned_words", "text": "保证有效"})
    assert len(webhook_receiver.requests) == 1
    request = webhook_receiver.requests[0]
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["x-shopbee-signature"] == sign(subscription.secret, headers["x-shopbee-timestamp"], request["body"])
    body = json.loads(request["body"])
    assert body["event"] == "qa.alert" and body["shop"] == shop_a.pk and body["data"]["text"] == "保证有效"
    assert delivery.status == "delivered" and delivery.attempts == 1 and delivery.response_code == 200
    assert delivery.next_attempt_at is None


def test_a_subscriber_gets_only_the_events_it_asked_for(shop_a, webhook_receiver):
    subscribe(shop_a, webhook_receiver.url, events=["work_order.created"])
    assert publish_event(shop_a.pk, "qa.alert", {}) == []
    settle()
    assert webhook_receiver.requests == []


def test_a_server_error_is_retried_until_it_succeeds(shop_a, webhook_receiver):
    subscribe(shop_a, webhook_receiver.url)
    webhook_receiver.codes = [500, 503]
    delivery = published(shop_a, {"n": 1})
    assert delivery.status == "delivered"
    assert delivery.attempts == 3
    assert len(webhook_receiver.requests) == 3
    assert len({r["headers"]["X-Shopbee-Delivery"] for r in webhook_receiver.requests}) == 1


def test_a_client_error_is_final_and_logged(shop_a, webhook_receiver):
    subscribe(shop_a, webhook_receiver.url)
    webhook_receiver.codes = [410]
    delivery = published(shop_a)
    assert delivery.status == "failed" and delivery.attempts == 1 and delivery.response_code == 410
    assert delivery.last_error == "HTTP 410" and delivery.next_attempt_at is None


def test_an_unreachable_endpoint_gives_up_after_the_last_attempt(shop_a):
    subscribe(shop_a, "http://127.0.0.1:9/unreachable")
    delivery = published(shop_a)
    assert delivery.status == "failed" and delivery.attempts == 6
    assert delivery.last_error == "connection failed" and delivery.response_code is None


def test_back_off_doubles_and_is_capped(settings):
    settings.WEBHOOK_RETRY_SECONDS = 30
    assert [backoff_seconds(n) for n in (1, 2, 3)] == [30, 60, 120]
    assert backoff_seconds(20) == 3600


def test_a_retry_waits_out_its_back_off_instead_of_running_at_once(shop_a, webhook_receiver, settings):
    settings.WEBHOOK_RETRY_SECONDS = 30
    subscribe(shop_a, webhook_receiver.url)
    webhook_receiver.codes = [503]
    before = timezone.now()
    delivery = published(shop_a)
    assert len(webhook_receiver.requests) == 1
    assert delivery.status == "pending" and delivery.attempts == 1 and delivery.last_error == "HTTP 503"
    assert delivery.next_attempt_at >= before + timedelta(seconds=30)


def test_a_private_address_is_refused_outside_local_development(shop_a, webhook_receiver, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    subscribe(shop_a, webhook_receiver.url)
    delivery = published(shop_a)
    assert delivery.status == "failed" and delivery.attempts == 1
    assert delivery.last_error == "refused: private address"
    assert webhook_receiver.requests == []


def test_a_hanging_target_does_not_hold_up_the_agents_close(shop_a, agent_a, webhook_receiver):
    webhook_receiver.hold = threading.Event()
    subscribe(shop_a, webhook_receiver.url, events=["conversation.closed"])
    conversation = ConversationFactory(shop=shop_a, status="agent", assigned_agent=agent_a)
    with transaction.atomic():
        close_held_conversation(agent_a, conversation.pk)
    # The close has returned; the target now receives the POST and keeps it waiting.
    assert webhook_receiver.arrived.wait(timeout=30)
    assert WebhookDelivery.objects.get().status == "pending"
    webhook_receiver.hold.set()
    settle()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "delivered" and delivery.attempts == 1


def test_the_sweep_requeues_a_retry_whose_task_was_lost(shop_a, webhook_receiver, settings):
    """A worker killed while the retry waited: the row says pending, due a while ago, and no task is left."""
    settings.WEBHOOK_RETRY_SECONDS = 30
    subscribe(shop_a, webhook_receiver.url)
    webhook_receiver.codes = [503]
    delivery = published(shop_a)
    assert delivery.status == "pending"
    assert executor.discard_waiting() == 1  # the retry waiting in memory dies with its process
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(minutes=5))
    assert sweep_webhook_deliveries.delay().get() == 1
    settle()
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 2
    assert len(webhook_receiver.requests) == 2


def test_the_sweep_leaves_deliveries_that_are_not_overdue(shop_a, webhook_receiver, settings):
    settings.WEBHOOK_RETRY_SECONDS = 30
    subscribe(shop_a, webhook_receiver.url)
    webhook_receiver.codes = [503]
    published(shop_a)
    assert sweep_webhook_deliveries.delay().get() == 0
    settle()
    assert len(webhook_receiver.requests) == 1


def test_a_duplicated_task_does_not_send_a_delivery_twice(shop_a, webhook_receiver):
    subscribe(shop_a, webhook_receiver.url)
    delivery = published(shop_a)
    assert deliver_webhook.delay(delivery.pk).get() is False
    settle()
    assert len(webhook_receiver.requests) == 1
