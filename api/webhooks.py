"""Outbound webhooks: how one delivery is signed and attempted. ``api.publishing`` queues deliveries and
``api.dispatch`` runs the attempts, with exponential back-off between them.

A receiver checks ``X-Shopbee-Signature: sha256=<hex>`` where the hex is
HMAC-SHA256(secret, f"{X-Shopbee-Timestamp}.{raw body}"), and de-duplicates on ``X-Shopbee-Delivery``.
"""

import json
import time
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from core import outbound
from core.outbound import sign

from .models import WebhookDelivery

CONNECT_TIMEOUT_SECONDS = 3
READ_TIMEOUT_SECONDS = 5
MAX_ATTEMPTS = 6


def backoff_seconds(attempt: int) -> int:
    """Seconds before retry ``attempt`` (1-based): 30 s, 60 s, 2 min, 4 min, ... at most an hour
    (``WEBHOOK_RETRY_SECONDS`` is the first wait)."""
    return outbound.backoff_seconds(settings.WEBHOOK_RETRY_SECONDS, attempt, cap=3600)


@dataclass(frozen=True)
class AttemptResult:
    delivered: bool
    retry_in: float | None  # seconds until the next attempt; None: no further attempt


def attempt_delivery(delivery_id: int) -> AttemptResult:
    """POST one delivery once and record the outcome. 2xx delivers; 5xx, 408, 429 and network errors are
    retried; anything else (a redirect, another 4xx, a refused target) is final."""
    if not outbound.claim(WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING), delivery_id):
        return AttemptResult(delivered=False, retry_in=None)
    delivery = WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id)
    body = json.dumps(
        {"id": delivery.pk, "event": delivery.event, "shop": delivery.shop_id, "data": delivery.payload},
        ensure_ascii=False,
    ).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Shopbee-Webhooks/1",
        "X-Shopbee-Event": delivery.event,
        "X-Shopbee-Delivery": str(delivery.pk),
        "X-Shopbee-Timestamp": timestamp,
        "X-Shopbee-Signature": sign(delivery.subscription.secret, timestamp, body),
    }
    answer = outbound.post(
        delivery.subscription.url,
        body,
        headers,
        allow_private=settings.WEBHOOK_ALLOW_PRIVATE_TARGETS,
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        max_body=1024,  # the answer's body is never used: only its status counts
    )
    delivery.last_attempt_at = timezone.now()
    delivery.response_code = answer.status
    delivery.last_error = answer.error
    retry_in = outbound.note_attempt(
        delivery, sent=answer.ok, retryable=answer.retryable, max_attempts=MAX_ATTEMPTS, wait=backoff_seconds
    )
    delivery.save()
    return AttemptResult(delivered=answer.ok, retry_in=retry_in)
