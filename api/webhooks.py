"""Outbound webhooks: how one delivery is signed and attempted. ``api.publishing`` queues deliveries and
``api.dispatch`` runs the attempts, with exponential back-off between them.

A receiver checks ``X-Shopbee-Signature: sha256=<hex>`` where the hex is
HMAC-SHA256(secret, f"{X-Shopbee-Timestamp}.{raw body}"), and de-duplicates on ``X-Shopbee-Delivery``.
"""

import json
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from core import outbound
from core.outbound import sign

from .models import WebhookDelivery

CONNECT_TIMEOUT_SECONDS = 3
READ_TIMEOUT_SECONDS = 5
MAX_ATTEMPTS = 6
# An attempt claims its delivery for this long: longer than any attempt takes, so no second attempt of the
# same delivery starts meanwhile; a claim that runs out (the worker died) makes the delivery overdue again.
CLAIM = timedelta(minutes=5)
# A task may start a little before the time another machine's clock wrote down.
CLOCK_SLACK = timedelta(seconds=5)


def backoff_seconds(attempt: int) -> int:
    """Seconds before retry ``attempt`` (1-based): 30 s, 60 s, 2 min, 4 min, ... at most an hour
    (``WEBHOOK_RETRY_SECONDS`` is the first wait)."""
    return min(settings.WEBHOOK_RETRY_SECONDS * 2 ** (attempt - 1), 3600)


@dataclass(frozen=True)
class AttemptResult:
    delivered: bool
    retry_in: int | None  # seconds until the next attempt; None: no further attempt


def _claim(delivery_id: int) -> bool:
    """Take the delivery for one attempt if it is pending and due; False when it is not (already delivered or
    given up, or another attempt holds it: a duplicate task, or the sweep's requeue of a running one)."""
    now = timezone.now()
    return bool(
        WebhookDelivery.objects.filter(
            pk=delivery_id, status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now + CLOCK_SLACK
        ).update(next_attempt_at=now + CLAIM)
    )


def attempt_delivery(delivery_id: int) -> AttemptResult:
    """POST one delivery once and record the outcome. 2xx delivers; 5xx, 408, 429 and network errors are
    retried; anything else (a redirect, another 4xx, a refused target) is final."""
    if not _claim(delivery_id):
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
    delivery.attempts += 1
    delivery.last_attempt_at = timezone.now()
    delivery.response_code = answer.status
    delivery.last_error = answer.error
    retry_in = None
    if answer.ok:
        delivery.status = WebhookDelivery.Status.DELIVERED
        delivery.delivered_at = delivery.last_attempt_at
    elif answer.retryable and delivery.attempts < MAX_ATTEMPTS:
        retry_in = backoff_seconds(delivery.attempts)
    else:
        delivery.status = WebhookDelivery.Status.FAILED
    delivery.next_attempt_at = None if retry_in is None else delivery.last_attempt_at + timedelta(seconds=retry_in)
    delivery.save()
    return AttemptResult(delivered=answer.ok, retry_in=retry_in)
