"""Queueing webhook deliveries: one row per subscriber of the event, each sent by Celery after commit.

``api.receivers`` publishes here for the domain events declared in ``api.events``; the admin retries here.
"""

import json
from functools import partial
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from .models import WebhookDelivery, WebhookSubscription
from .tasks import deliver_webhook


def publish_event(shop_id: int, event: str, payload: dict[str, Any]) -> list[WebhookDelivery]:
    """Queue ``event`` for every active subscription of the shop that wants it; sent after commit."""
    subscriptions = [
        s for s in WebhookSubscription.objects.filter(shop_id=shop_id, is_active=True) if event in s.events
    ]
    body = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    deliveries = [
        WebhookDelivery.objects.create(subscription=s, shop_id=shop_id, event=event, payload=body)
        for s in subscriptions
    ]
    for delivery in deliveries:
        transaction.on_commit(partial(deliver_webhook.delay, delivery.pk))
    return deliveries


def retry_delivery(delivery: WebhookDelivery) -> bool:
    """Send a failed delivery again from a fresh attempt count (the admin's "retry" action)."""
    updated = WebhookDelivery.objects.filter(pk=delivery.pk, status=WebhookDelivery.Status.FAILED).update(
        status=WebhookDelivery.Status.PENDING, attempts=0, last_error=""
    )
    if updated:
        transaction.on_commit(lambda: deliver_webhook.delay(delivery.pk))
    return bool(updated)
