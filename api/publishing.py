"""Queueing webhook deliveries: one row per subscriber of the event, each sent off the request path after
commit (``api.dispatch``).

``api.receivers`` publishes here for the domain events declared in ``api.events``; the admin retries here.
"""

import json
from functools import partial
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from .dispatch import queue_delivery
from .models import WebhookDelivery, WebhookSubscription


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
        transaction.on_commit(partial(queue_delivery, delivery.pk))
    return deliveries


def retry_delivery(delivery: WebhookDelivery) -> bool:
    """Send a pending or failed delivery again now, from a fresh attempt count (the admin's "retry" action)."""
    updated = WebhookDelivery.objects.filter(
        pk=delivery.pk, status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.FAILED]
    ).update(status=WebhookDelivery.Status.PENDING, attempts=0, last_error="", next_attempt_at=timezone.now())
    if updated:
        transaction.on_commit(lambda: queue_delivery(delivery.pk))
    return bool(updated)
